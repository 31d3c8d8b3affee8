#!/usr/bin/env bash
# Run Tenon locally with `tenon dev`: one embedded PostgreSQL start for migrate, seed of the
# demo data and serve on :8000, with the dev auth bypass and the admin key local-admin-key.
# Without GitHub credentials the local GitHub emulator runs on :8001 (token
# local-emulator-token, webhook secret local-webhook-secret). Settings in the environment or
# .env take precedence; TENON_HOST, TENON_PORT and TENON_EMULATOR_PORT (environment only)
# choose the addresses. This is the local command: any TENON_ENV but local is refused.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Refuse before creating or installing anything; the environment wins over .env.
tenon_env="${TENON_ENV:-}"
if [ -z "$tenon_env" ] && [ -f .env ]; then
  tenon_env="$(sed -nE "s/^[[:space:]]*(export[[:space:]]+)?TENON_ENV[[:space:]]*=[[:space:]]*[\"']?([^\"'#[:space:]]*).*/\2/p" .env | tail -n 1)"
fi
if [ "${tenon_env:-local}" != local ]; then
  echo "scripts/run.sh runs Tenon for local development only, and TENON_ENV is ${tenon_env}." >&2
  echo "To deploy, run 'tenon migrate', then 'tenon serve' and 'tenon worker' (or 'docker compose up')." >&2
  exit 2
fi

TENON_EXTRAS="[embedded]"
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"

exec .venv/bin/tenon dev --host "${TENON_HOST:-127.0.0.1}" --port "${TENON_PORT:-8000}" \
  --emulator-port "${TENON_EMULATOR_PORT:-8001}"
