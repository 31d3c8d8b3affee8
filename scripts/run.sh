#!/usr/bin/env bash
# Run Tenon locally: install, start the embedded PostgreSQL, migrate, seed demo data, serve
# on :8000 with the dev auth bypass. Settings in the environment or .env take precedence.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"

export TENON_ENV="${TENON_ENV:-local}"
export DEV_AUTH_BYPASS="${DEV_AUTH_BYPASS:-1}"
export TENON_ADMIN_API_KEY="${TENON_ADMIN_API_KEY:-local-admin-key}"

.venv/bin/tenon migrate
.venv/bin/tenon seed
exec .venv/bin/tenon serve --host "${TENON_HOST:-127.0.0.1}" --port "${TENON_PORT:-8000}"
