#!/usr/bin/env bash
# The chaos scenarios beyond the fast core (tests/chaos/test_disruptions.py, marker `chaos`):
# killed workers, API restarts, PostgreSQL stopped and frozen, lost dispatch answers, each with
# N candidates under GitHub faults. Loopback only; a throwaway PostgreSQL the run starts and
# removes itself.
# Parameters (environment): TENON_CHAOS_CANDIDATES (10), TENON_CHAOS_FAULT_RATE (0.2),
# TENON_CHAOS_SEED (14), TENON_CHAOS_DEADLINE_SECONDS (600 per scenario),
# TENON_CHAOS_DISRUPTIONS (4), TENON_CHAOS_OUTAGE_SECONDS (5), TENON_CHAOS_TIMEOUT (3600 for
# the whole run). The figures, one JSON line per scenario, are appended to
# TENON_CHAOS_REPORT (default .data/chaos-report.jsonl) and printed at the end. Extra
# arguments go to pytest, e.g. `-k worker_kills`.
set -euo pipefail
TENON_EXTRAS="[dev,embedded]"
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"

export TENON_CHAOS_REPORT="${TENON_CHAOS_REPORT:-.data/chaos-report.jsonl}"
mkdir -p "$(dirname "$TENON_CHAOS_REPORT")"
: > "$TENON_CHAOS_REPORT"
status=0
# SIGINT, so pytest runs its finalizers (the child processes and PostgreSQL stop).
timeout --signal=INT "${TENON_CHAOS_TIMEOUT:-3600}" \
  .venv/bin/pytest -m chaos -p no:cacheprovider -p no:logging tests/chaos "$@" || status=$?
cat "$TENON_CHAOS_REPORT"
exit "$status"
