"""Chaos scenarios that kill things, behind the `chaos` marker (scripts/chaos.sh runs them):
Tenon as `tenon serve` (and `tenon worker`) child processes on a throwaway PostgreSQL, the
GitHub emulator failing a share of its calls, N candidates through the five days, and one
disruption while they work:

- worker_kills: the job worker, a process of its own, SIGKILLed at random moments, most
  while a dispatch POST is held by the emulator (a latency fault on every dispatch), and
  started again; the queue must drain and every run must have exactly one workflow run;
- api_restart: the API process (worker inside) stopped mid-run, by SIGTERM and by SIGKILL,
  and started again on its port; candidates retry through the gap;
- postgres_outage: the database stopped, then started; later frozen (SIGSTOP), then
  thawed; a probe measures the answers during each outage and the time from the database's
  return to the first successful request. An outage must answer 503, never 500.

The invariants of test_faults.py hold at the end of each; the figures are printed as one
JSON line per scenario (TENON_CHAOS_REPORT collects them). Parameters: TENON_CHAOS_CANDIDATES,
TENON_CHAOS_FAULT_RATE, TENON_CHAOS_SEED, TENON_CHAOS_DEADLINE_SECONDS,
TENON_CHAOS_DISRUPTIONS (kills or restarts per scenario), TENON_CHAOS_OUTAGE_SECONDS."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.core.db import Database, async_url
from app.core.migrations import upgrade_to_head
from app.core.settings import DatabaseSettings
from tests.support.api import API_CLIENT_HEADERS, bearer
from tests.support.app import ADMIN_KEY, WEBHOOK_SECRET
from tests.support.chaos import (
    ORG,
    ChaosParams,
    FlowOutcome,
    check_invariants,
    fault_rules,
    quick_templates,
    report,
    run_flows,
    secrets_in,
    settled,
)
from tests.support.chaos_processes import (
    TenonProcess,
    ThrowawayPostgres,
    tenon_env,
    until_healthy,
)
from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    emulator_config,
    free_port,
    running_emulator,
)
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import AUDIENCE, ISSUER, IdentityProvider

pytestmark = pytest.mark.chaos

PARAMS = ChaosParams.from_env(candidates=10, fault_rate=0.2, seed=14, deadline_seconds=600)
DISRUPTIONS = int(os.environ.get("TENON_CHAOS_DISRUPTIONS", "4"))
OUTAGE_SECONDS = float(os.environ.get("TENON_CHAOS_OUTAGE_SECONDS", "5"))
# How long the emulator holds every dispatch before doing it, so kills can land inside.
DISPATCH_LATENCY_MS = 1500
# The share of dispatches GitHub performs whose answer never arrives.
LOST_DISPATCH_ANSWERS = 0.5


@dataclass
class Deployment:
    api: TenonProcess
    worker: TenonProcess | None
    api_url: str
    tenon: httpx.AsyncClient
    emulator: RunningEmulator
    database: Database
    postgres: ThrowawayPostgres
    recruiter: dict[str, str]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.api_url, headers=API_CLIENT_HEADERS, timeout=60)

    async def count(self, sql: str) -> int:
        async with self.database.session_scope() as session:
            value: int = (await session.execute(text(sql))).scalar_one()
            return value


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres()
    server.start()
    try:
        yield server
    finally:
        server.thaw()
        server.stop()
        server.remove()


@asynccontextmanager
async def deployment(
    tmp_path: Path,
    postgres: ThrowawayPostgres,
    idp: IdentityProvider,
    *,
    separate_worker: bool,
    dispatch_latency_ms: int = 0,
    lost_dispatch_answers: float = 0,
) -> AsyncIterator[Deployment]:
    name = f"chaos_{uuid.uuid4().hex[:8]}"
    admin = Database.connect(postgres.url, DatabaseSettings(_env_file=None))
    async with admin.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = async_url(postgres.url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database.connect(url, DatabaseSettings(_env_file=None))
    email = "chaos-recruiter@example.com"
    async with database.session_scope() as session:
        await create_recruiter(session, await create_company(session), email=email)

    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    config = emulator_config(
        tmp_path,
        templates_dir=quick_templates(tmp_path),
        webhook_url=f"{api_url}/api/github/webhooks",
        webhook_secret=WEBHOOK_SECRET,
        faults=fault_rules(
            PARAMS.fault_rate,
            dispatch_latency_ms=dispatch_latency_ms,
            lost_dispatch_answers=lost_dispatch_answers,
        ),
        fault_seed=PARAMS.seed,
        fault_timeout_seconds=2.0,
    )
    async with running_emulator(config) as emulator:
        env = tenon_env(
            TENON_ENV="test",
            TENON_DATABASE_URL=postgres.url.rsplit("/", 1)[0] + f"/{name}",
            TENON_AUTH0_ISSUER=ISSUER,
            TENON_AUTH0_API_AUDIENCE=AUDIENCE,
            TENON_AUTH0_JWKS_URL=idp.jwks_url,
            TENON_ADMIN_API_KEY=ADMIN_KEY,
            TENON_GITHUB_TOKEN=TOKEN,
            TENON_GITHUB_API_BASE=emulator.base_url,
            TENON_GITHUB_ORG=ORG,
            TENON_GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TENON_GITHUB_MUTATION_INTERVAL_SECONDS="0",
            TENON_GITHUB_RUN_POLL_SECONDS="1",
            TENON_JOBS_IN_PROCESS="false" if separate_worker else "true",
            TENON_JOBS_POLL_INTERVAL_SECONDS="0.5",
            # A killed worker's jobs are claimed again this soon.
            TENON_JOBS_LEASE_SECONDS="5",
            TENON_EMAIL_PROVIDER="console",
            # Every candidate comes from 127.0.0.1; the limits are not what is under test.
            TENON_RATE_LIMIT_ENABLED="false",
        )
        api = TenonProcess("api", ["serve", "--port", str(port)], env, tmp_path)
        worker = TenonProcess("worker", ["worker"], env, tmp_path) if separate_worker else None
        try:
            api.start()
            if worker is not None:
                worker.start()
            await until_healthy(api_url, api)
            async with httpx.AsyncClient(
                base_url=api_url, headers=API_CLIENT_HEADERS, timeout=60
            ) as tenon:
                yield Deployment(
                    api=api,
                    worker=worker,
                    api_url=api_url,
                    tenon=tenon,
                    emulator=emulator,
                    database=database,
                    postgres=postgres,
                    recruiter=bearer(idp.token(subject=f"auth0|{email}", email=email)),
                )
        finally:
            postgres.thaw()
            for process in (api, worker):
                if process is not None:
                    process.stop()
            await database.dispose()


Disruptor = Callable[
    [Deployment, "asyncio.Task[list[FlowOutcome]]", random.Random], Awaitable[dict[str, Any]]
]


async def kill_workers(
    d: Deployment, flows: asyncio.Task[list[FlowOutcome]], rng: random.Random
) -> dict[str, Any]:
    """SIGKILL the worker, three times in four while a run is `dispatching` (its POST held
    by the emulator), then start it again."""
    assert d.worker is not None
    kills = during_dispatch = 0
    while kills < DISRUPTIONS and not flows.done():
        if kills % 4 != 3:
            with suppress(TimeoutError):
                await asyncio.wait_for(_dispatching(d), timeout=30)
            await asyncio.sleep(rng.uniform(0.1, DISPATCH_LATENCY_MS / 1000 * 0.8))
        else:
            await asyncio.sleep(rng.uniform(1, 6))
        if flows.done():
            break
        dispatching = await d.count("SELECT count(*) FROM test_runs WHERE status = 'dispatching'")
        d.worker.kill(signal.SIGKILL)
        kills += 1
        during_dispatch += dispatching > 0
        await asyncio.sleep(rng.uniform(0, 1))
        d.worker.start()
    return {"worker_kills": kills, "kills_during_dispatch": during_dispatch}


async def _dispatching(d: Deployment) -> None:
    # The state is in the database, so it is polled.
    while not await d.count("SELECT count(*) FROM test_runs WHERE status = 'dispatching'"):  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def no_disruption(
    d: Deployment, flows: asyncio.Task[list[FlowOutcome]], rng: random.Random
) -> dict[str, Any]:
    """Nothing beyond the emulator's faults (the lost answers are among them)."""
    return {}


async def restart_api(
    d: Deployment, flows: asyncio.Task[list[FlowOutcome]], rng: random.Random
) -> dict[str, Any]:
    """Stop the API (SIGTERM, then SIGKILL, alternately) and start it again on its port."""
    restarts: list[float] = []
    while len(restarts) < DISRUPTIONS and not flows.done():
        await asyncio.sleep(rng.uniform(3, 10))
        if flows.done():
            break
        d.api.kill(signal.SIGTERM if len(restarts) % 2 == 0 else signal.SIGKILL)
        d.api.start()
        await until_healthy(d.api_url, d.api)
        restarts.append(round(time.monotonic() - d.api.starts[-1], 2))
    return {"api_restarts": len(restarts), "api_seconds_to_healthy": restarts}


async def postgres_outage(
    d: Deployment, flows: asyncio.Task[list[FlowOutcome]], rng: random.Random
) -> dict[str, Any]:
    """Stop the database, start it; later freeze it, thaw it. A probe (a recruiter's list of
    simulations) runs throughout; the figures are its answers during each outage and the
    seconds from the database's return to its first success."""
    figures: dict[str, Any] = {}
    for kind, down, up in (
        ("stopped", d.postgres.stop, d.postgres.start),
        ("frozen", d.postgres.freeze, d.postgres.thaw),
    ):
        await asyncio.sleep(rng.uniform(3, 8))
        answers: Counter[str] = Counter()
        longest = [0.0]
        stop_probing = asyncio.Event()
        probing = asyncio.create_task(_probe(d, answers, longest, stop_probing))
        await asyncio.to_thread(down)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(up)
        back = time.monotonic()
        first_success = await _first_success(d)
        stop_probing.set()
        await probing
        figures[kind] = {
            "answers_during_outage": dict(answers),
            "longest_probe_seconds": round(longest[0], 1),
            "seconds_to_first_success": round(first_success - back, 2),
        }
    return figures


async def _probe(
    d: Deployment, answers: Counter[str], longest: list[float], stop: asyncio.Event
) -> None:
    async with httpx.AsyncClient(
        base_url=d.api_url, headers=API_CLIENT_HEADERS, timeout=60
    ) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = await client.get("/api/simulations", headers=d.recruiter)
                answers[str(response.status_code)] += 1
            except httpx.TransportError as exc:
                answers[type(exc).__name__] += 1
            longest[0] = max(longest[0], time.monotonic() - started)
            await asyncio.sleep(0.2)


async def _first_success(d: Deployment) -> float:
    async with httpx.AsyncClient(
        base_url=d.api_url, headers=API_CLIENT_HEADERS, timeout=60
    ) as client:
        while True:
            with suppress(httpx.TransportError):
                if (await client.get("/api/simulations", headers=d.recruiter)).status_code == 200:
                    return time.monotonic()
            await asyncio.sleep(0.05)


SCENARIOS: dict[str, tuple[Disruptor, dict[str, Any]]] = {
    "worker_kills": (
        kill_workers,
        {"separate_worker": True, "dispatch_latency_ms": DISPATCH_LATENCY_MS},
    ),
    "api_restart": (restart_api, {"separate_worker": False}),
    "postgres_outage": (postgres_outage, {"separate_worker": False}),
    "lost_responses": (
        no_disruption,
        {"separate_worker": False, "lost_dispatch_answers": LOST_DISPATCH_ANSWERS},
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_candidates_complete_the_five_days_through_the_disruption(
    scenario: str,
    tmp_path: Path,
    postgres: ThrowawayPostgres,
    idp: IdentityProvider,
    capfd: pytest.CaptureFixture[str],
) -> None:
    disrupt, options = SCENARIOS[scenario]
    rng = random.Random(PARAMS.seed)
    async with deployment(tmp_path, postgres, idp, **options) as d:
        flows = asyncio.create_task(run_flows(d.tenon, d.recruiter, idp, PARAMS))
        disruption = await disrupt(d, flows, rng)
        outcomes = await flows
        flows_done = time.monotonic()
        settle_seconds = await settled(d.database, within=PARAMS.deadline_seconds)
        invariants = await check_invariants(d.database, d.emulator.emulator, outcomes)
        injected = dict(d.emulator.emulator.faults.injected)
        last_start = (d.worker or d.api).starts[-1]
        drained_after_restart = round(flows_done + settle_seconds - last_start, 1)
        output = d.api.output() + (d.worker.output() if d.worker else "")

    captured = capfd.readouterr()
    leaked = secrets_in(
        output + captured.out + captured.err,
        {
            "github_token": [TOKEN],
            "webhook_secret": [WEBHOOK_SECRET],
            "admin_key": [ADMIN_KEY],
            "invite_token": [outcome.invite_token for outcome in outcomes],
        },
    )
    server_errors = {
        kind: figures["answers_during_outage"].get("500", 0)
        for kind, figures in disruption.items()
        if isinstance(figures, dict) and "answers_during_outage" in figures
    }
    report(
        scenario,
        PARAMS,
        {
            "flows_completed": f"{invariants.flows_completed}/{invariants.flows}",
            "flow_failures": [o.failure for o in outcomes if o.failure],
            "flow_seconds_max": max(o.seconds for o in outcomes),
            "faults_injected": injected,
            "retries": dict(sum((o.retried for o in outcomes), Counter())),
            "disruption": disruption,
            "seconds_from_last_restart_to_queue_drained": drained_after_restart,
            "tenon_runs": invariants.tenon_runs,
            "broken_invariants": invariants.broken(),
            "secrets_in_output": leaked,
        },
    )
    assert invariants.broken() == {}
    assert leaked == {}
    assert not any(server_errors.values()), server_errors
