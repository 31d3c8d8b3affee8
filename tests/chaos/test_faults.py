"""The chaos run's fast core, in the default suite: a few candidates through the five days
at once while GitHub fails a fifth of its API calls (502s, timeouts, secondary rate limits),
Tenon served over real HTTP with its in-process worker. Every flow completes, and the
invariants hold in the database and the emulator; nothing secret reaches the output.

The slower scenarios (killed workers, restarts, PostgreSQL outages) are in
test_disruptions.py, run by scripts/chaos.sh."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.core.db import Database
from tests.support.app import ADMIN_KEY, WEBHOOK_SECRET
from tests.support.chaos import (
    ORG,
    ChaosParams,
    check_invariants,
    fault_rules,
    quick_templates,
    report,
    run_flows,
    secrets_in,
    settled,
)
from tests.support.emulator import TOKEN
from tests.support.identity import IdentityProvider
from tests.support.stack import stack

# A dispatch that fails twice in a row waits out the listing grace twice, and a job's
# backoff grows with each failure: at a fifth of GitHub's answers failing, the last
# background work can legitimately take minutes after the flows end.
PARAMS = ChaosParams(candidates=3, fault_rate=0.2, seed=14, deadline_seconds=600)


async def test_candidates_complete_the_five_days_while_github_fails_a_fifth_of_its_calls(
    tmp_path: Path,
    jobs_database_url: str,
    jobs_db: Database,
    idp: IdentityProvider,
    capfd: pytest.CaptureFixture[str],
) -> None:
    async with stack(
        tmp_path,
        jobs_database_url,
        jobs_db,
        idp,
        github={"org": ORG},
        templates_dir=quick_templates(tmp_path),
        faults=fault_rules(PARAMS.fault_rate),
        fault_seed=PARAMS.seed,
        fault_timeout_seconds=2.0,
    ) as s:
        outcomes = await run_flows(s.tenon, s.recruiter, idp, PARAMS)
        settle_seconds = await settled(jobs_db, within=PARAMS.deadline_seconds)
        invariants = await check_invariants(jobs_db, s.emulator.emulator, outcomes)
        injected = dict(s.emulator.emulator.faults.injected)

    output = capfd.readouterr()
    leaked = secrets_in(
        output.out + output.err,
        {
            "github_token": [TOKEN],
            "webhook_secret": [WEBHOOK_SECRET],
            "admin_key": [ADMIN_KEY],
            "invite_token": [outcome.invite_token for outcome in outcomes],
        },
    )
    report(
        "faults",
        PARAMS,
        {
            "flows": [outcome.failure or "completed" for outcome in outcomes],
            "faults_injected": injected,
            "retries": dict(sum((outcome.retried for outcome in outcomes), Counter())),
            "settle_seconds": settle_seconds,
            "broken_invariants": invariants.broken(),
            "secrets_in_output": leaked,
        },
    )
    assert sum(injected.values()) > 0
    assert invariants.broken() == {}
    assert invariants.tenon_runs >= 4 * PARAMS.candidates
    assert leaked == {}
