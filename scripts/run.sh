#!/usr/bin/env bash
# Run Tenon locally: install, start the embedded PostgreSQL, migrate, seed demo data, serve
# on :8000 with the dev auth bypass. Without GitHub credentials, the local GitHub emulator
# is started on :8001 and the service is pointed at it. Settings in the environment or
# .env take precedence.
set -euo pipefail
TENON_EXTRAS="[embedded]"
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"

export TENON_ENV="${TENON_ENV:-local}"
export DEV_AUTH_BYPASS="${DEV_AUTH_BYPASS:-1}"
export TENON_ADMIN_API_KEY="${TENON_ADMIN_API_KEY:-local-admin-key}"
host="${TENON_HOST:-127.0.0.1}"
port="${TENON_PORT:-8000}"

has_github_credentials() {
  .venv/bin/python -c 'import sys
from app.core.settings import GitHubSettings
sys.exit(0 if GitHubSettings().credentials_configured else 1)'
}

if ! has_github_credentials; then
  emulator_port="${TENON_EMULATOR_PORT:-8001}"
  export TENON_GITHUB_API_BASE="http://127.0.0.1:${emulator_port}"
  export TENON_GITHUB_TOKEN="local-emulator-token"
  export TENON_GITHUB_WEBHOOK_SECRET="${TENON_GITHUB_WEBHOOK_SECRET:-local-webhook-secret}"
  .venv/bin/tenon github-emulator --host 127.0.0.1 --port "$emulator_port" \
    --data-dir "${TENON_DATA_DIR:-.data}/github" --token "$TENON_GITHUB_TOKEN" \
    --webhook-url "http://${host}:${port}/api/github/webhooks" \
    --webhook-secret "$TENON_GITHUB_WEBHOOK_SECRET" &
  emulator_pid=$!
  trap 'kill "$emulator_pid" 2>/dev/null || true' EXIT
fi

.venv/bin/tenon migrate
.venv/bin/tenon seed
.venv/bin/tenon serve --host "$host" --port "$port"
