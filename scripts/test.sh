#!/usr/bin/env bash
# Run every check: lint, format, types, the OpenAPI document against a generated TypeScript
# client (skipped without Node.js), then the test suite (which also runs `alembic check`) on
# TENON_TEST_DATABASE_URL if given, else on an embedded PostgreSQL. The suite runs in
# TENON_TEST_WORKERS processes (default 4: most tests wait on subprocesses and sockets, so
# more workers than cores pays off); extra arguments go to pytest.
set -euo pipefail
TENON_EXTRAS="[dev,embedded]"
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict app
bash scripts/openapi_check.sh
.venv/bin/pytest --numprocesses "${TENON_TEST_WORKERS:-4}" "$@"
