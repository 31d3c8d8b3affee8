"""Where the time of the five-day flow goes while GitHub fails: N candidates, concurrently,
through design, code, debug, handoff and documentation against the GitHub emulator with
injected faults (502s and secondary rate limits on ~20 % of API requests).

    .venv/bin/python -m benchmarks.flow_under_faults --database-url URL \
        [--candidates 4] [--fault-rate 0.2] [--runner-slots 2] [--seed 7]

Tenon (in-process worker, dev auth bypass) and the emulator are served over real HTTP in
this process; the emulator executes every workflow run for real. A scratch database is
created, migrated and dropped. Printed: the wall time of the whole batch, the slowest and
median flow, the time the GitHub client's calls spent held by mutation pacing (summed over
calls, measured around `GitHubClient._pace`), the submits' latencies and any non-2xx
submit. The flow ends for a candidate when both code submissions' final runs finished.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import ASGIApp

from app.core.db import async_url
from app.core.logging import configure_logging
from app.core.migrations import upgrade_to_head
from app.core.settings import (
    AppSettings,
    DatabaseSettings,
    EmailSettings,
    GitHubSettings,
    JobSettings,
    RateLimitSettings,
    Settings,
)
from app.github_emulator.config import EmulatorConfig
from app.github_emulator.faults import FaultRule
from app.github_emulator.server import create_emulator_app
from app.integrations.github.client import GitHubClient
from app.main import create_app

# Public values for a throwaway local run.
TOKEN = "bench-emulator-token"  # noqa: S105
ADMIN_KEY = "bench-admin-key"
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105
ORG = "bench-workspaces"
RECRUITER = "Bearer recruiter:recruiter@bench.example"
FINAL = ("passed", "failed", "error")
# The routes Tenon calls (not the emulator's control routes).
API_ROUTES = r"^(GET|POST|PUT|PATCH|DELETE) /(repos|users)/"


@dataclass
class Figures:
    pacing_seconds: float = 0.0
    paced_calls: int = 0
    flows: list[float] = field(default_factory=list)
    submits: list[float] = field(default_factory=list)
    submit_failures: list[str] = field(default_factory=list)


def _measure_pacing(figures: Figures) -> None:
    """Time spent inside the client's pacing step, whatever its signature."""
    pace: Callable[..., Awaitable[None]] = GitHubClient._pace

    async def timed(self: GitHubClient, *args: Any) -> None:
        started = time.monotonic()
        await pace(self, *args)
        waited = time.monotonic() - started
        if waited > 0.001:
            figures.pacing_seconds += waited
            figures.paced_calls += 1

    setattr(GitHubClient, "_pace", timed)  # noqa: B010 - instrumentation of a private method


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def _serving(app: ASGIApp, port: int) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _settings(database_url: str, emulator_url: str) -> Settings:
    return Settings(
        app=AppSettings(_env_file=None, env="local", dev_auth_bypass=True, admin_api_key=ADMIN_KEY),
        db=DatabaseSettings(_env_file=None, database_url=database_url),
        jobs=JobSettings(_env_file=None, in_process=True),
        github=GitHubSettings(
            _env_file=None,
            api_base=emulator_url,
            token=TOKEN,
            org=ORG,
            webhook_secret=WEBHOOK_SECRET,
            run_poll_seconds=2,
        ),
        email=EmailSettings(_env_file=None, email_provider="console"),
        rate_limit=RateLimitSettings(_env_file=None, enabled=False),
    )


async def _ok(response: Awaitable[httpx.Response], expected: int = 200) -> Any:
    answer = await response
    if answer.status_code != expected:
        raise RuntimeError(f"{answer.request.url}: {answer.status_code} {answer.text[:300]}")
    return answer.json() if answer.content else None


async def _eventually(probe: Callable[[], Awaitable[Any]], within: float = 900) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (found := await probe()) is not None:
            return found
        await asyncio.sleep(0.5)
    raise TimeoutError("the flow did not finish in time")


async def _commit(github: httpx.AsyncClient, repo: str, path: str, content: str) -> None:
    """The candidate's work, through the contents API (retried: the faults apply to it)."""
    body = {"message": "work", "content": base64.b64encode(content.encode()).decode()}
    for _ in range(50):
        found = await github.get(f"/repos/{repo}/contents/{path}")
        if found.status_code == 200:
            body["sha"] = found.json()["sha"]
        elif found.status_code != 404:
            continue
        if (await github.put(f"/repos/{repo}/contents/{path}", json=body)).status_code < 300:
            return
    raise RuntimeError(f"could not commit to {repo}")


async def _init(tenon: httpx.AsyncClient, task_id: int, number: int, headers: Any) -> None:
    """Start the workspace; a GitHub failure in the lookup of the user answers 502/503."""
    for _ in range(50):
        started = await tenon.post(
            f"/api/tasks/{task_id}/codespace/init",
            json={"githubUsername": f"bench-dev-{number}"},
            headers=headers,
        )
        if started.status_code in (200, 202):
            return
        await asyncio.sleep(1)
    raise RuntimeError(f"init failed: {started.status_code} {started.text[:200]}")


async def _flow(
    tenon: httpx.AsyncClient,
    github: httpx.AsyncClient,
    simulation_id: int,
    number: int,
    figures: Figures,
) -> None:
    started = time.monotonic()
    email = f"candidate{number}@bench.example"
    invite = await _ok(
        tenon.post(
            f"/api/simulations/{simulation_id}/invite",
            json={"candidateName": f"Candidate {number}", "inviteEmail": email},
            headers={"Authorization": RECRUITER},
        ),
        201,
    )
    candidate = {"Authorization": f"Bearer candidate:{email}"}
    await _ok(tenon.get(f"/api/candidate/session/{invite['token']}", headers=candidate))
    cs_id = invite["candidateSessionId"]
    headers = candidate | {"x-candidate-session-id": str(cs_id)}
    code_submissions = []
    for _day in range(5):
        current = await _ok(
            tenon.get(f"/api/candidate/session/{cs_id}/current_task", headers=candidate)
        )
        task = current["currentTask"]
        body: dict[str, Any] = {"contentText": "Notes."}
        if task["type"] in ("code", "debug"):
            body = {}
            await _init(tenon, task["id"], number, headers)

            async def ready(task_id: int = task["id"]) -> dict[str, Any] | None:
                status = await tenon.get(f"/api/tasks/{task_id}/codespace/status", headers=headers)
                found: dict[str, Any] = status.json()
                return found if found.get("status") == "ready" else None

            workspace = await _eventually(ready)
            await _commit(github, workspace["repoFullName"], "WORK.md", f"day {task['dayIndex']}\n")
        submit_started = time.monotonic()
        submitted = await tenon.post(f"/api/tasks/{task['id']}/submit", json=body, headers=headers)
        figures.submits.append(time.monotonic() - submit_started)
        if submitted.status_code != 201:
            figures.submit_failures.append(f"{submitted.status_code} {submitted.text[:200]}")
            raise RuntimeError(f"submit failed: {submitted.status_code}")
        if task["type"] in ("code", "debug"):
            code_submissions.append(submitted.json()["submissionId"])
    for submission_id in code_submissions:

        async def finished(submission_id: int = submission_id) -> bool | None:
            detail = (
                await tenon.get(
                    f"/api/submissions/{submission_id}", headers={"Authorization": RECRUITER}
                )
            ).json()
            results = detail.get("testResults")
            return True if results and results["status"] in FINAL else None

        await _eventually(finished)
    figures.flows.append(time.monotonic() - started)


async def run(database_url: str, candidates: int, fault_rate: float, slots: int, seed: int) -> None:
    figures = Figures()
    _measure_pacing(figures)
    data = Path(tempfile.mkdtemp(prefix="tenon-bench-flow-"))
    tenon_port = _free_port()
    emulator = EmulatorConfig(
        data_dir=data,
        tokens=(TOKEN,),
        webhook_url=f"http://127.0.0.1:{tenon_port}/api/github/webhooks",
        webhook_secret=WEBHOOK_SECRET,
        max_concurrent_runs=slots,
        fault_seed=seed,
        faults=(
            FaultRule(route=API_ROUTES, error_rate=fault_rate * 0.75, status=502),
            FaultRule(
                route=API_ROUTES,
                error_rate=fault_rate * 0.25,
                rate_limit="secondary",
                retry_after=1,
            ),
        ),
    )
    try:
        async with _serving(create_emulator_app(emulator), _free_port()) as emulator_url:
            app = create_app(_settings(database_url, emulator_url))
            async with (
                _serving(app, tenon_port) as tenon_url,
                httpx.AsyncClient(base_url=tenon_url, timeout=120) as tenon,
                httpx.AsyncClient(
                    base_url=emulator_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
                ) as github,
            ):
                admin = {"X-Admin-Key": ADMIN_KEY}
                company = await _ok(
                    tenon.post("/api/admin/companies", json={"name": "Bench"}, headers=admin), 201
                )
                await _ok(
                    tenon.post(
                        "/api/admin/recruiters",
                        json={
                            "companyId": company["id"],
                            "email": "recruiter@bench.example",
                            "name": "Rae",
                        },
                        headers=admin,
                    ),
                    201,
                )
                simulation = await _ok(
                    tenon.post(
                        "/api/simulations",
                        json={
                            "title": "Bench",
                            "role": "Backend Engineer",
                            "techStack": "Python",
                            "seniority": "Senior",
                            "templateKey": "python-fastapi",
                        },
                        headers={"Authorization": RECRUITER},
                    ),
                    201,
                )
                started = time.monotonic()
                outcomes = await asyncio.gather(
                    *(
                        _flow(tenon, github, simulation["id"], number, figures)
                        for number in range(candidates)
                    ),
                    return_exceptions=True,
                )
                wall = time.monotonic() - started
    finally:
        shutil.rmtree(data, ignore_errors=True)
    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    print(
        f"candidates {candidates}, fault rate {fault_rate:.0%}, runner slots {slots}, seed {seed}"
    )
    print(f"completed flows: {len(figures.flows)}/{candidates}; failed: {failed or 'none'}")
    print(f"wall time: {wall:.1f} s")
    if figures.flows:
        print(
            f"flow time: median {statistics.median(figures.flows):.1f} s, "
            f"slowest {max(figures.flows):.1f} s"
        )
    print(
        f"time held by mutation pacing: {figures.pacing_seconds:.1f} s "
        f"over {figures.paced_calls} calls"
    )
    if figures.submits:
        print(
            f"submits: {len(figures.submits)}, median {statistics.median(figures.submits):.2f} s, "
            f"slowest {max(figures.submits):.2f} s, failed {len(figures.submit_failures)}"
        )


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    name = f"tenon_bench_flow_{os.getpid()}"
    await _admin(args.database_url, f'CREATE DATABASE "{name}"')
    url = async_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        await run(url, args.candidates, args.fault_rate, args.runner_slots, args.seed)
    finally:
        await _admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TENON_BENCH_DATABASE_URL"),
        required="TENON_BENCH_DATABASE_URL" not in os.environ,
        help="a PostgreSQL server whose role may create databases",
    )
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--runner-slots", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
