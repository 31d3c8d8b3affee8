"""GitHub requests per candidate of the five-day flow, and candidates per hour per installation.

N candidates go, one after the other, through the five-day flow against the GitHub emulator
(no faults); the emulator counts every REST request Tenon makes; the candidates per hour one
installation supports under each of GitHub's limits are computed from the counts.

    .venv/bin/python -m benchmarks.github_budget --database-url URL \
        [--candidates 2] [--runs-per-task 3] [--runner-slots 2] [--run-poll-seconds 15]

Each candidate: invite, claim, day 1 design text, day 2 code (workspace, a commit, the runs,
submit), day 3 debug (the same), day 4 handoff and day 5 documentation text. After every step
the benchmark waits until Tenon's job queue and the emulator's workflow runs are idle, so each
request is charged to the step that caused it: provisioning (invite, claim, the workspace),
runs, submit (the cutoff tag, the final run, its collection), grading (every request about a
grader repository) and text (the text days and what completing the session does). Requests
made with other credentials (the candidate's commits, the workflows' own tokens) are reported
apart from Tenon's. Tenon and the emulator are served over real HTTP in this process, with
the in-process worker and the dev auth bypass; a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.db import async_url
from app.core.logging import configure_logging
from app.core.migrations import upgrade_to_head
from app.core.settings import GitHubSettings, Settings
from app.github_emulator.config import EmulatorConfig
from app.github_emulator.emulator import Emulator, RequestRecord
from app.github_emulator.server import create_emulator_app
from app.main import create_app
from benchmarks.flow_under_faults import (
    ADMIN_KEY,
    FINAL,
    RECRUITER,
    TOKEN,
    WEBHOOK_SECRET,
    _admin,
    _commit,
    _eventually,
    _free_port,
    _init,
    _ok,
    _serving,
    _settings,
)

# The candidate's own commits go through the contents API with a token of their own, so
# they are not charged to Tenon.
CANDIDATE_TOKEN = "bench-candidate-token"  # noqa: S105
PHASES = ("provisioning", "runs", "submit", "grading", "text")
# The requests GitHub's secondary limits count as content creation, as Tenon's client marks
# them (`creates_content`): repositories, commits, refs and invitations.
CONTENT_CREATING = frozenset(
    {
        "POST /repos/{owner}/{repo}/generate",
        "POST /repos/{owner}/{repo}/git/refs",
        "PUT /repos/{owner}/{repo}/contents/{path}",
        "PUT /repos/{owner}/{repo}/collaborators/{username}",
    }
)
_GRADER_REPO = re.compile(r"^/repos/[^/]+/[^/]+-grader(/|$)")
# GitHub's figures (../shared/docs/GITHUB.md).
PRIMARY_PER_HOUR = {"installation": 5_000, "large installation": 12_500, "Enterprise Cloud": 15_000}
CONTENT_PER_MINUTE = 80
CONTENT_PER_HOUR = 500
POINTS_PER_ENDPOINT_MINUTE = 900
MUTATION_POINTS = 5
SECONDS_BETWEEN_MUTATIONS = 1
# Work still to do; a job due more than ten minutes ahead is a deadline, not work of the
# step that queued it.
_BUSY_JOBS = text(
    "SELECT count(*) FROM jobs WHERE state IN ('pending', 'running', 'failed')"
    " AND run_at < now() + interval '10 minutes'"
)


def _token_key(token: str) -> str:
    """The emulator's budget key of a configured token (`Emulator.service_identity`)."""
    return f"token:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


@dataclass
class Ledger:
    """The requests counted so far, charged to the current candidate and phase."""

    candidate: int = -1
    phase: str = "setup"
    # (candidate, phase, route, status) -> requests, for Tenon's token.
    tenon: Counter[tuple[int, str, str, int]] = field(default_factory=Counter)
    # (caller, route, status) -> requests, for any other credential but the candidate's.
    others: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    def record(self, request: RequestRecord) -> None:
        if request.caller == _token_key(CANDIDATE_TOKEN):
            return
        if request.caller != _token_key(TOKEN):
            self.others[(request.caller, request.route, request.status)] += 1
            return
        phase = "grading" if _GRADER_REPO.match(request.path) else self.phase
        self.tenon[(self.candidate, phase, request.route, request.status)] += 1


async def _idle(engine: AsyncEngine, emulator: Emulator, within: float = 900) -> None:
    """Wait until no job is due soon and no workflow run is queued or running,
    twice in a row a second apart (a webhook may still be on its way)."""
    deadline = time.monotonic() + within
    quiet = 0
    while quiet < 2:
        if time.monotonic() > deadline:
            raise TimeoutError("Tenon's jobs or the emulator's runs did not settle")
        async with engine.connect() as connection:
            busy = await connection.scalar(_BUSY_JOBS)
        running = sum(1 for run in emulator.store.state.runs.values() if run.status != "completed")
        quiet = quiet + 1 if not busy and not running else 0
        await asyncio.sleep(1)


async def _outcomes(engine: AsyncEngine) -> tuple[dict[str, int], list[str]]:
    """The gradings by status (the submits must have been graded) and the dead jobs."""
    async with engine.connect() as connection:
        gradings = await connection.execute(
            text("SELECT status, count(*) AS n FROM gradings GROUP BY status")
        )
        dead = await connection.execute(
            text("SELECT type, last_error FROM jobs WHERE state = 'dead' ORDER BY id")
        )
        return (
            {row.status: row.n for row in gradings},
            [f"{row.type}: {(row.last_error or '')[:160]}" for row in dead],
        )


@dataclass
class Flow:
    tenon: httpx.AsyncClient
    github: httpx.AsyncClient
    engine: AsyncEngine
    emulator: Emulator
    ledger: Ledger
    runs_per_task: int
    conclusions: list[str] = field(default_factory=list)

    async def step(self, phase: str, action: Awaitable[Any]) -> Any:
        self.ledger.phase = phase
        result = await action
        await _idle(self.engine, self.emulator)
        return result

    async def candidate(self, simulation_id: int, number: int) -> None:
        self.ledger.candidate = number
        email = f"candidate{number}@bench.example"
        invite = await self.step(
            "provisioning",
            _ok(
                self.tenon.post(
                    f"/api/simulations/{simulation_id}/invite",
                    json={"candidateName": f"Candidate {number}", "inviteEmail": email},
                    headers={"Authorization": RECRUITER},
                ),
                201,
            ),
        )
        candidate = {"Authorization": f"Bearer candidate:{email}"}
        await self.step(
            "provisioning",
            _ok(self.tenon.get(f"/api/candidate/session/{invite['token']}", headers=candidate)),
        )
        cs_id = invite["candidateSessionId"]
        headers = candidate | {"x-candidate-session-id": str(cs_id)}
        for _day in range(5):
            current = await _ok(
                self.tenon.get(f"/api/candidate/session/{cs_id}/current_task", headers=candidate)
            )
            task = current["currentTask"]
            if task["type"] in ("code", "debug"):
                await self.code_day(task, number, headers)
            else:
                await self.step(
                    "text",
                    _ok(
                        self.tenon.post(
                            f"/api/tasks/{task['id']}/submit",
                            json={"contentText": "Notes."},
                            headers=headers,
                        ),
                        201,
                    ),
                )

    async def code_day(self, task: dict[str, Any], number: int, headers: Any) -> None:
        task_id = task["id"]
        self.ledger.phase = "provisioning"
        await _init(self.tenon, task_id, number, headers)

        async def ready() -> dict[str, Any] | None:
            status = await self.tenon.get(f"/api/tasks/{task_id}/codespace/status", headers=headers)
            found: dict[str, Any] = status.json()
            return found if found.get("status") == "ready" else None

        workspace = await _eventually(ready)
        await _idle(self.engine, self.emulator)
        await _commit(
            self.github, workspace["repoFullName"], "WORK.md", f"day {task['dayIndex']}\n"
        )
        for _ in range(self.runs_per_task):
            await self.step("runs", self.run(task_id, headers))
        await self.step(
            "submit",
            _ok(self.tenon.post(f"/api/tasks/{task_id}/submit", json={}, headers=headers), 201),
        )

    async def run(self, task_id: int, headers: Any) -> None:
        started = await _ok(self.tenon.post(f"/api/tasks/{task_id}/run", headers=headers), 202)

        async def finished() -> str | None:
            answer = await _ok(
                self.tenon.get(f"/api/tasks/{task_id}/run/{started['runId']}", headers=headers)
            )
            return answer["status"] if answer["status"] in FINAL else None

        self.conclusions.append(await _eventually(finished))


def _phase_of(ledger: Ledger, route: str, phase: str) -> int:
    return sum(
        n
        for (_, p, r, status), n in ledger.tenon.items()
        if r == route and p == phase and status != 304
    )


def _kind(route: str) -> str:
    if route.startswith("GET "):
        return "read"
    return "content-creating" if route in CONTENT_CREATING else "write"


def _limits(ledger: Ledger, candidates: int) -> list[tuple[str, float, float]]:
    """(limit, what one candidate uses of it, candidates per hour it allows)."""
    routes: Counter[str] = Counter()
    for (_, _, route, status), n in ledger.tenon.items():
        if status != 304:  # a 304 does not count against the primary limit
            routes[route] += n
    total = sum(routes.values()) / candidates
    content = sum(n for r, n in routes.items() if _kind(r) == "content-creating") / candidates
    mutations = sum(n for r, n in routes.items() if _kind(r) != "read") / candidates
    points = (
        max(n * (1 if _kind(r) == "read" else MUTATION_POINTS) for r, n in routes.items())
        / candidates
    )
    limits = [
        (f"primary, {name} ({per_hour}/h)", total, per_hour / total)
        for name, per_hour in PRIMARY_PER_HOUR.items()
    ]
    return [
        *limits,
        (f"content creation {CONTENT_PER_MINUTE}/min", content, CONTENT_PER_MINUTE * 60 / content),
        (f"content creation {CONTENT_PER_HOUR}/h", content, CONTENT_PER_HOUR / content),
        (
            f"{POINTS_PER_ENDPOINT_MINUTE} points/min on the busiest endpoint",
            points,
            POINTS_PER_ENDPOINT_MINUTE * 60 / points,
        ),
        (
            f"{SECONDS_BETWEEN_MUTATIONS} s between mutations",
            mutations,
            3600 / SECONDS_BETWEEN_MUTATIONS / mutations,
        ),
    ]


def report(ledger: Ledger, candidates: int) -> None:
    """The per-route table (per candidate, by phase), the totals and the limits."""
    each = [
        sum(n for (c, _, _, status), n in ledger.tenon.items() if c == number and status != 304)
        for number in range(candidates)
    ]
    print(f"Tenon's requests per candidate, 304s excluded: {each}")
    routes = {route for (c, _, route, _) in ledger.tenon if c >= 0}
    not_modified = Counter(
        {r: n for (c, _, r, status), n in ledger.tenon.items() if c >= 0 and status == 304}
    )

    def per(n: float) -> str:
        return f"{n / candidates:g}"

    totals = {r: sum(_phase_of(ledger, r, p) for p in PHASES) for r in routes}
    print(f"\n| route (per candidate) | kind | {' | '.join(PHASES)} | total | 304 (free) |")
    print(f"|---|---|{'---|' * len(PHASES)}---|---|")
    for route in sorted(routes, key=lambda r: (-totals[r], r)):
        phases = " | ".join(per(_phase_of(ledger, route, p)) for p in PHASES)
        print(
            f"| `{route}` | {_kind(route)} | {phases} | {per(totals[route])} | "
            f"{per(not_modified[route])} |"
        )
    by_phase = " | ".join(per(sum(_phase_of(ledger, r, p) for r in routes)) for p in PHASES)
    print(
        f"| **total** | | {by_phase} | **{per(sum(totals.values()))}** | "
        f"{per(sum(not_modified.values()))} |"
    )
    kinds = Counter({kind: 0 for kind in ("read", "write", "content-creating")})
    for route, n in totals.items():
        kinds[_kind(route)] += n
    print(
        f"\nper candidate: {per(kinds['read'])} reads, "
        f"{per(kinds['write'] + kinds['content-creating'])} writes "
        f"({per(kinds['content-creating'])} of them content-creating)"
    )
    print("\n| limit | one candidate uses | candidates per hour |")
    print("|---|---|---|")
    limits = _limits(ledger, candidates)
    for name, used, per_hour in limits:
        print(f"| {name} | {used:g} | {per_hour:.0f} |")
    binding = min(limits, key=lambda limit: limit[2])
    print(f"\nbinding limit: {binding[0]}: {binding[2]:.0f} candidates per hour")
    if ledger.others:
        print("\nother credentials (not Tenon's token), all candidates:")
        for (caller, route, status), n in sorted(ledger.others.items()):
            print(f"  {caller} {route} {status}: {n}")


async def _setup(tenon: httpx.AsyncClient) -> int:
    """A company, its recruiter and a graded simulation; the simulation's id."""
    admin = {"X-Admin-Key": ADMIN_KEY}
    company = await _ok(
        tenon.post("/api/admin/companies", json={"name": "Bench"}, headers=admin), 201
    )
    await _ok(
        tenon.post(
            "/api/admin/recruiters",
            json={"companyId": company["id"], "email": "recruiter@bench.example", "name": "Rae"},
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
    simulation_id: int = simulation["id"]
    return simulation_id


def _tenon_settings(database_url: str, emulator_url: str, poll_seconds: float) -> Settings:
    """The flow benchmark's settings with the run poll interval given (the fallback to the
    webhooks: its polls are GitHub requests too), logging warnings only."""
    settings = _settings(database_url, emulator_url)
    settings.app = settings.app.model_copy(update={"log_level": "WARNING"})
    settings.github = settings.github.model_copy(update={"run_poll_seconds": poll_seconds})
    return settings


async def run(
    database_url: str, candidates: int, runs_per_task: int, slots: int, poll: float
) -> None:
    ledger = Ledger()
    data = Path(tempfile.mkdtemp(prefix="tenon-bench-budget-"))
    tenon_port = _free_port()
    emulator_app = create_emulator_app(
        EmulatorConfig(
            data_dir=data,
            tokens=(TOKEN, CANDIDATE_TOKEN),
            webhook_url=f"http://127.0.0.1:{tenon_port}/api/github/webhooks",
            webhook_secret=WEBHOOK_SECRET,
            max_concurrent_runs=slots,
        )
    )
    emulator: Emulator = emulator_app.state.emulator
    emulator.request_listeners.append(ledger.record)
    engine = create_async_engine(async_url(database_url))
    started = time.monotonic()
    try:
        async with (
            _serving(emulator_app, _free_port()) as emulator_url,
            _serving(
                create_app(_tenon_settings(database_url, emulator_url, poll)), tenon_port
            ) as url,
            httpx.AsyncClient(base_url=url, timeout=120) as tenon,
            httpx.AsyncClient(
                base_url=emulator_url,
                headers={"Authorization": f"Bearer {CANDIDATE_TOKEN}"},
                timeout=60,
            ) as github,
        ):
            simulation_id = await _setup(tenon)
            await _idle(engine, emulator)
            flow = Flow(tenon, github, engine, emulator, ledger, runs_per_task)
            for number in range(candidates):
                await flow.candidate(simulation_id, number)
            gradings, dead = await _outcomes(engine)
    finally:
        await engine.dispose()
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"candidates {candidates} (one after the other), {runs_per_task} runs per code task, "
        f"runner slots {slots}, run poll {poll:g} s; wall time {time.monotonic() - started:.0f} s"
    )
    print(f"runs: {dict(Counter(flow.conclusions))}; gradings: {gradings}")
    print(f"dead jobs: {dead or 'none'}")
    setup = sum(n for (c, *_), n in ledger.tenon.items() if c < 0)
    print(f"set-up requests (before the first candidate, not charged): {setup}")
    report(ledger, candidates)


async def main(args: argparse.Namespace) -> None:
    name = f"tenon_bench_budget_{os.getpid()}"
    await _admin(args.database_url, f'CREATE DATABASE "{name}"')
    url = async_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        await run(
            url, args.candidates, args.runs_per_task, args.runner_slots, args.run_poll_seconds
        )
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
    parser.add_argument("--candidates", type=int, default=2)
    parser.add_argument("--runs-per-task", type=int, default=3)
    parser.add_argument("--runner-slots", type=int, default=2)
    parser.add_argument(
        "--run-poll-seconds",
        type=float,
        default=GitHubSettings.model_fields["run_poll_seconds"].default,
        help="Tenon's first poll delay of a run (default: the setting's default)",
    )
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
