"""Chaos runs: candidates through the five days against the GitHub emulator with injected
faults, and the invariants checked at the end from the database and the emulator.

A flow is driven as the portal would drive it: invite, claim, then each day in order (a text
answer; or, on the code and debug days, the repository, one test run followed to its end,
and the submit). A request is tried again the way a client should: after a connection
failure, and after a problem marked `retryable` (or a bare 502/503/504 from a proxy), with
backoff and honouring `Retry-After`, until the flow's deadline. Any other answer ends the
flow as failed, naming the call and the problem: a chaos run must not hide a 500.

The templates are the shipped names with a workflow that only writes passing results, so a
run costs a bash step, not a `pip install`; every test run must therefore end `passed`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from app.core.db import Database
from app.github_emulator.emulator import Emulator
from app.github_emulator.faults import FaultRule
from tests.support.emulator import write_template
from tests.support.identity import IdentityProvider

ORG = "acme-chaos"
CANDIDATE_LOGIN = "chaos-dev-{index}"
# GitHub's REST routes Tenon calls (not the emulator's controls, nor git over HTTP).
GITHUB_API_ROUTES = r"^(GET|POST|PUT|PATCH|DELETE) /(repos|orgs|users|user)/"
DISPATCH_ROUTE = r"^POST /repos/[^/]+/[^/]+/actions/workflows/[^/]+/dispatches$"
TERMINAL_RUN_STATUSES = ("passed", "failed", "error")
RESULTS = {"passed": 1, "failed": 0, "skipped": 0, "total": 1, "summary": "1 passed"}
CI_WORKFLOW = f"""name: tenon-ci
run-name: tenon-run ${{{{ inputs.tenon_run_id }}}}
on:
  workflow_dispatch:
    inputs:
      tenon_run_id: {{description: "Tenon test run id", required: false, default: ""}}
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - name: Run tests
        run: |
          echo '{json.dumps(RESULTS)}' > tenon-test-results.json
      - if: always()
        uses: actions/upload-artifact@v4
        with:
          name: tenon-test-results
          path: tenon-test-results.json
"""


@dataclass(frozen=True)
class ChaosParams:
    candidates: int
    fault_rate: float
    seed: int
    # Bounds the whole run: the flows, then the wait for the queue to settle.
    deadline_seconds: float

    @classmethod
    def from_env(cls, **defaults: Any) -> ChaosParams:
        """The defaults, each overridden by TENON_CHAOS_<NAME> when set (scripts/chaos.sh)."""
        values = dict(defaults)
        for name, kind in (
            ("candidates", int),
            ("fault_rate", float),
            ("seed", int),
            ("deadline_seconds", float),
        ):
            raw = os.environ.get(f"TENON_CHAOS_{name.upper()}")
            if raw:
                values[name] = kind(raw)
        return cls(**values)


def fault_rules(
    rate: float, *, dispatch_latency_ms: int = 0, lost_dispatch_answers: float = 0
) -> tuple[FaultRule, ...]:
    """GitHub failing `rate` of its API calls, in equal shares: 502s, timeouts (the emulator
    holds the request, then answers 504) and secondary rate limits; with
    `dispatch_latency_ms` every dispatch is that slow, so a kill can land inside it; with
    `lost_dispatch_answers` that share of dispatches is performed and its answer lost."""
    share = rate / 3
    rules = [
        FaultRule(route=GITHUB_API_ROUTES, error_rate=share, status=502),
        FaultRule(route=GITHUB_API_ROUTES, error_rate=share, timeout=True),
        FaultRule(route=GITHUB_API_ROUTES, error_rate=share, rate_limit="secondary", retry_after=1),
    ]
    if dispatch_latency_ms:
        rules.insert(0, FaultRule(route=DISPATCH_ROUTE, latency_ms=dispatch_latency_ms))
    if lost_dispatch_answers:
        rules.insert(
            0,
            FaultRule(route=DISPATCH_ROUTE, error_rate=lost_dispatch_answers, lose_response=True),
        )
    return tuple(rules)


def quick_templates(root: Path) -> Path:
    """The python-fastapi code and debug templates, each a workflow writing passing results."""
    folder = root / "chaos-templates"
    for name in ("python-fastapi", "python-fastapi-debug"):
        files = {"README.md": f"# {name}\n", ".github/workflows/tenon-ci.yml": CI_WORKFLOW}
        write_template(folder, name, files | {"app/main.py": "VERSION = 1\n"})
    return folder


class FlowError(Exception):
    pass


@dataclass
class FlowOutcome:
    candidate: int
    completed: bool = False
    failure: str | None = None
    seconds: float = 0.0
    # Tenon run id -> the status the candidate saw it end with.
    runs: dict[int, str] = field(default_factory=dict)
    submission_ids: list[int] = field(default_factory=list)
    # Handed out once, to the recruiter: looked for in the logs afterwards.
    invite_token: str = ""
    # What the candidate's client retried (see RetryingClient).
    retried: Counter[str] = field(default_factory=Counter)


class RetryingClient:
    """Calls the API as a careful client does: again after a connection failure or a
    retryable problem, with backoff, until `deadline` (a `time.monotonic()` value)."""

    def __init__(self, client: httpx.AsyncClient, deadline: float) -> None:
        self.client = client
        self.deadline = deadline
        # What was retried, e.g. {"503": 2, "connection": 1}.
        self.retried: Counter[str] = Counter()

    async def call(
        self,
        method: str,
        url: str,
        *,
        expect: tuple[int, ...],
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
        done_after_retry: str | None = None,
    ) -> httpx.Response:
        """The answer once its status is expected. `done_after_retry` names the problem code
        that means an earlier attempt, whose answer was lost, did the work."""
        delay, attempts = 0.2, 0
        while True:
            attempts += 1
            try:
                response = await self.client.request(method, url, headers=headers, json=body)
            except httpx.TransportError as exc:
                retry_after, reason = None, "connection"
                failure = f"{method} {url}: {type(exc).__name__}"
            else:
                if response.status_code in expect:
                    return response
                problem = _problem(response)
                code = problem.get("code")
                if attempts > 1 and done_after_retry is not None and code == done_after_retry:
                    return response
                failure = f"{method} {url} -> {response.status_code} {code}: {response.text[:300]}"
                if not _retryable(response, problem):
                    raise FlowError(failure)
                retry_after, reason = response.headers.get("retry-after"), str(response.status_code)
            self.retried[reason] += 1
            wait = min(float(retry_after), 5.0) if retry_after else delay
            if time.monotonic() + wait > self.deadline:
                raise FlowError(f"deadline reached; last: {failure}")
            await asyncio.sleep(wait)
            delay = min(delay * 2, 2.0)


class Candidate:
    """One candidate's five days, over `client`, retrying what a client should retry."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        index: int,
        idp: IdentityProvider,
        recruiter: dict[str, str],
        deadline: float,
    ) -> None:
        self.api = RetryingClient(client, deadline)
        self.outcome = FlowOutcome(candidate=index, retried=self.api.retried)
        self.recruiter = recruiter
        self.deadline = deadline
        self.email = f"chaos-{index}@example.com"
        self.login = CANDIDATE_LOGIN.format(index=index)
        token = idp.token(
            subject=f"auth0|chaos-{index}", permissions=("candidate:access",), email=self.email
        )
        self.auth = {"Authorization": f"Bearer {token}"}
        self.headers = dict(self.auth)

    async def call(
        self,
        method: str,
        url: str,
        *,
        expect: tuple[int, ...],
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        done_after_retry: str | None = None,
    ) -> httpx.Response:
        """A call as this candidate (the recruiter when `headers` say so)."""
        return await self.api.call(
            method,
            url,
            expect=expect,
            headers=headers or self.headers,
            body=body,
            done_after_retry=done_after_retry,
        )

    async def wait_for(
        self, url: str, done: tuple[str, ...], *, failed: str = ""
    ) -> dict[str, Any]:
        """Poll `url` until its `status` is one of `done` (or `failed`, which ends the flow)."""
        while True:
            body: dict[str, Any] = (await self.call("GET", url, expect=(200,))).json()
            if body["status"] in done:
                return body
            if body["status"] == failed:
                raise FlowError(f"GET {url}: {body}")
            if time.monotonic() > self.deadline:
                raise FlowError(f"deadline reached waiting on {url}: {body}")
            await asyncio.sleep(0.3)

    async def five_days(self, simulation: dict[str, Any]) -> FlowOutcome:
        started = time.monotonic()
        try:
            await self._five_days(simulation)
        except FlowError as exc:
            self.outcome.failure = str(exc)
        self.outcome.seconds = round(time.monotonic() - started, 1)
        return self.outcome

    async def _five_days(self, simulation: dict[str, Any]) -> None:
        invite = await self.call(
            "POST",
            f"/api/simulations/{simulation['id']}/invite",
            expect=(200, 201),
            headers=self.recruiter,
            body={"candidateName": self.login, "inviteEmail": self.email},
        )
        session_id = invite.json()["candidateSessionId"]
        self.outcome.invite_token = invite.json()["token"]
        await self.call(
            "POST", f"/api/candidate/session/{invite.json()['token']}/claim", expect=(200,)
        )
        self.headers = self.auth | {"x-candidate-session-id": str(session_id)}
        for task in sorted(simulation["tasks"], key=lambda task: task["dayIndex"]):
            if task["type"] in ("code", "debug"):
                await self._work_in_repository(task["id"])
            submitted = await self.call(
                "POST",
                f"/api/tasks/{task['id']}/submit",
                expect=(201,),
                body={"contentText": f"Day {task['dayIndex']} by {self.login}."},
                done_after_retry="SUBMISSION_EXISTS",
            )
            if submitted.status_code == 201:
                self.outcome.submission_ids.append(submitted.json()["submissionId"])
        self.outcome.completed = True

    async def _work_in_repository(self, task_id: int) -> None:
        await self.call(
            "POST",
            f"/api/tasks/{task_id}/codespace/init",
            expect=(200, 202),
            body={"githubUsername": self.login},
        )
        await self.wait_for(f"/api/tasks/{task_id}/codespace/status", ("ready",), failed="failed")
        started = await self.call("POST", f"/api/tasks/{task_id}/run", expect=(202,), body={})
        run_id = started.json()["runId"]
        ended = await self.wait_for(f"/api/tasks/{task_id}/run/{run_id}", TERMINAL_RUN_STATUSES)
        self.outcome.runs[run_id] = ended["status"]
        if ended["status"] != "passed":
            raise FlowError(f"run {run_id} ended {ended['status']}: {ended}")


def _problem(response: httpx.Response) -> dict[str, Any]:
    if "json" not in response.headers.get("content-type", ""):
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retryable(response: httpx.Response, problem: dict[str, Any]) -> bool:
    if problem:
        return problem.get("retryable") is True
    # A bare gateway error came from something in front of the API, not from Tenon.
    return response.status_code in (502, 503, 504)


async def run_flows(
    client: httpx.AsyncClient,
    recruiter: dict[str, str],
    idp: IdentityProvider,
    params: ChaosParams,
) -> list[FlowOutcome]:
    """`params.candidates` candidates of one simulation, all at once."""
    deadline = time.monotonic() + params.deadline_seconds
    simulation = await RetryingClient(client, deadline).call(
        "POST",
        "/api/simulations",
        expect=(201,),
        headers=recruiter,
        body={
            "title": "Chaos",
            "role": "Backend Engineer",
            "techStack": "Python, FastAPI",
            "seniority": "Senior",
            "focus": "APIs",
            "templateKey": "python-fastapi",
        },
    )
    candidates = [
        Candidate(client, index, idp, recruiter, deadline) for index in range(params.candidates)
    ]
    return list(await asyncio.gather(*(c.five_days(simulation.json()) for c in candidates)))


# What is still at work: waiting or running jobs, active test runs and gradings.
_BUSY = text(
    "SELECT 'job ' || type || ' #' || id || ' ' || state || ' attempt ' || attempts"
    "       || ' due ' || to_char(run_at, 'HH24:MI:SS') || ': ' || coalesce(last_error, '')"
    "  FROM jobs WHERE state IN ('pending', 'running', 'failed')"
    " UNION ALL SELECT 'test run #' || id || ' ' || status FROM test_runs"
    "  WHERE status NOT IN ('passed', 'failed', 'error')"
    " UNION ALL SELECT 'grading #' || id || ' ' || status FROM gradings"
    "  WHERE status NOT IN ('completed', 'error')"
)


async def settled(database: Database, *, within: float) -> float:
    """Wait until no job is waiting or running and no test run or grading is active; the
    seconds it took. Raises, naming what is still at work, when the queue has not settled
    `within` seconds."""
    started = time.monotonic()
    while True:
        async with database.session_scope() as session:
            busy = list((await session.scalars(_BUSY)).all())
        if not busy:
            return round(time.monotonic() - started, 1)
        if time.monotonic() - started > within:
            raise AssertionError(f"still busy after {within} s: {busy}")
        await asyncio.sleep(0.5)


@dataclass
class Invariants:
    flows: int
    flows_completed: int
    # Repositories in GitHub's organisation that no workspace names (a second generate).
    duplicate_repositories: list[str]
    # Submissions a candidate was told were made and the database does not hold.
    lost_submissions: list[int]
    # (session, task) pairs holding more than one submission.
    duplicated_submissions: list[str]
    dead_jobs: list[str]
    tenon_runs: int
    # Tenon runs with no workflow run, or more than one, carrying their id.
    runs_without_one_workflow_run: dict[int, int]
    # Workflow runs no Tenon run claimed.
    unclaimed_workflow_runs: list[int]
    # Tenon runs that did not end `passed` (the templates' tests all pass).
    runs_not_passed: dict[int, str]

    def broken(self) -> dict[str, Any]:
        """Each invariant that does not hold, with what breaks it."""
        found: dict[str, Any] = {}
        if self.flows_completed != self.flows:
            found["flows_completed"] = f"{self.flows_completed}/{self.flows}"
        for name, value in asdict(self).items():
            if name not in ("flows", "flows_completed", "tenon_runs") and value:
                found[name] = value
        return found


async def check_invariants(
    database: Database, emulator: Emulator, outcomes: list[FlowOutcome]
) -> Invariants:
    async with database.session_scope() as session:

        async def rows(sql: str) -> list[Any]:
            return list((await session.execute(text(sql))).all())

        repos = {
            name.lower()
            for (name,) in await rows(
                "SELECT repo_full_name FROM workspaces WHERE repo_full_name IS NOT NULL"
            )
        }
        submissions = {id_ for (id_,) in await rows("SELECT id FROM submissions")}
        duplicated = await rows(
            "SELECT candidate_session_id, task_id FROM submissions"
            " GROUP BY 1, 2 HAVING count(*) > 1"
        )
        dead = await rows("SELECT id, type, last_error FROM jobs WHERE state = 'dead'")
        runs = await rows("SELECT id, status, github_run_id, result_code FROM test_runs")
    workflow_runs = [
        run for run in list(emulator.store.state.runs.values()) if run.path.endswith("tenon-ci.yml")
    ]
    per_tenon_run = Counter(run.inputs.get("tenon_run_id", "") for run in workflow_runs)
    claimed = {github_run_id for _, _, github_run_id, _ in runs}
    org_repos = [
        repo.full_name for repo in list(emulator.store.state.repos.values()) if repo.owner == ORG
    ]
    return Invariants(
        flows=len(outcomes),
        flows_completed=sum(outcome.completed for outcome in outcomes),
        duplicate_repositories=sorted(name for name in org_repos if name.lower() not in repos),
        lost_submissions=sorted(
            {id_ for outcome in outcomes for id_ in outcome.submission_ids} - submissions
        ),
        duplicated_submissions=[f"session {cs} task {task}" for cs, task in duplicated],
        dead_jobs=[f"{id_} {type_}: {error}" for id_, type_, error in dead],
        tenon_runs=len(runs),
        runs_without_one_workflow_run={
            id_: per_tenon_run[str(id_)] for id_, *_ in runs if per_tenon_run[str(id_)] != 1
        },
        unclaimed_workflow_runs=sorted(run.id for run in workflow_runs if run.id not in claimed),
        runs_not_passed={
            id_: f"{status} {code}" for id_, status, _, code in runs if status != "passed"
        },
    )


# JSON Web Tokens (a header and claims object, base64url) and GitHub's token formats.
_JWT = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")
_GITHUB_TOKEN = re.compile(r"\b(gh[opsu]_[A-Za-z0-9]{20,}|github_pat_\w{20,})")


def secrets_in(text_: str, secrets: dict[str, list[str]]) -> dict[str, int]:
    """How many times each kind of secret appears in `text_`: the named values (GitHub
    token, webhook secret, admin key, invite tokens…), JWTs and GitHub token patterns."""
    found = {
        kind: sum(text_.count(value) for value in values if value)
        for kind, values in secrets.items()
    }
    found["jwt"] = len(_JWT.findall(text_))
    found["github_token_pattern"] = len(_GITHUB_TOKEN.findall(text_))
    return {kind: count for kind, count in found.items() if count}


def report(name: str, params: ChaosParams, figures: dict[str, Any]) -> dict[str, Any]:
    """The run's figures, printed as one JSON line (and appended to TENON_CHAOS_REPORT)."""
    line = {"scenario": name, "params": asdict(params)} | figures
    text_ = json.dumps(line, default=str)
    print(f"chaos: {text_}")
    target = os.environ.get("TENON_CHAOS_REPORT")
    if target:
        with Path(target).open("a") as out:
            out.write(text_ + "\n")
    return line
