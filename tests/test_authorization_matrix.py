"""The authorization matrix (issue 14): every operation of the assembled app, asked by every
kind of caller, and the status (and problem code) each one gets.

`OPERATIONS` has one row per (method, path template) of the route table; the row names the
operation's policy, and a policy says once, for each principal, what it gets: a fixed
refusal, `ALLOWED` (the row's own outcome: what the handler answers a permitted caller
here), or `HIDDEN` (404 with the row's not-found code: SPEC §1 answers another tenant's or
another candidate's object exactly as a missing one). A route without a row, or a row
without a route, fails `test_every_route_has_a_row`: a new route must declare its policy.

The principals, against one scene set up once per module in real PostgreSQL:
- anonymous: no credentials;
- candidate A: an RS256 token for the candidate who claimed a session of company X's
  simulation, sending that session's id in `x-candidate-session-id`;
- candidate B: a candidate with a claimed session of company Y's own, sending A's session id;
- recruiter X: a recruiter of company X, which owns every object the paths name;
- recruiter Y: a recruiter of company Y;
- admin: `X-Admin-Key` only;
- github: a webhook delivery signed with the webhook secret, and nothing else;
- scraper: the metrics token as its bearer.

Paths carry real ids of X's objects (A's session, its task, run and submission, X's
simulation, a failed job) and A's invite token. Every request runs in a savepoint rolled back
after it, so the cells do not depend on each other's order. No answer to a caller other
than A, X or the admin may mention X's data.

What the app does first (`test_credentials_come_before_the_body`): the caller's credentials
and role are dependencies, resolved before the body is validated, so a caller without them
gets 401/403 even with an invalid body; ownership is decided in the handler, after
validation, so another tenant with an invalid body gets the same 422 for X's object as for a
missing one (nothing about existence leaks either way).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from starlette.routing import Mount

from app.core.db import Database
from app.core.security import new_token
from app.evaluation.models import ScenarioDraft
from tests.support.app import ADMIN_KEY, WEBHOOK_SECRET, client_for, make_settings, running_app
from tests.support.emulator import TOKEN, emulator_config, running_emulator
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_endpoint_delivery,
    create_job,
    create_partner_key,
    create_recruiter,
    create_simulation,
    create_submission,
    create_tasks,
    create_test_run,
    create_webhook_endpoint,
    create_workspace,
)
from tests.support.fake_ai import scenario_content
from tests.support.identity import IdentityProvider

METRICS_TOKEN = "matrix-metrics-token-0123456789abcdef"
# Small allowances, so a test can use one up.
RATE_LIMITS = {"run": "3/minute", "resend": "3/hour"}
RUN_ALLOWANCE = RESEND_ALLOWANCE = 3
# Strings only X's objects carry: no answer to an outsider may contain them.
X_MARKERS = ("Matrix X simulation", "Matrix X Company", "ada.matrix@x.example")
A_LOGIN = "ada-matrix"

Principal = Literal[
    "anonymous",
    "candidate A",
    "candidate B",
    "recruiter X",
    "recruiter Y",
    "admin",
    "github",
    "scraper",
]
PRINCIPALS: Final[tuple[Principal, ...]] = (
    "anonymous",
    "candidate A",
    "candidate B",
    "recruiter X",
    "recruiter Y",
    "admin",
    "github",
    "scraper",
)
# The callers that own X's objects, or may see everything; the others must not see them.
INSIDERS: Final = frozenset({"candidate A", "recruiter X", "admin"})


@dataclass(frozen=True)
class Outcome:
    status: int
    code: str | None = None  # the problem's code; None for a success

    def __str__(self) -> str:
        return f"{self.status} {self.code or ''}".strip()


ALLOWED: Final = "allowed"
HIDDEN: Final = "hidden"
Expectation = Outcome | Literal["allowed", "hidden"]
Policy = Mapping[Principal, Expectation]

NO_TOKEN = Outcome(401, "AUTH_TOKEN_MISSING")
BAD_TOKEN = Outcome(401, "AUTH_TOKEN_INVALID")  # the scraper's bearer is not a JWT
NO_ROLE = Outcome(403, "PERMISSION_DENIED")
NO_ADMIN_KEY = Outcome(401, "ADMIN_KEY_INVALID")
NO_SIGNATURE = Outcome(401, "WEBHOOK_SIGNATURE_MISSING")
NO_METRICS_TOKEN = Outcome(401, "METRICS_TOKEN_INVALID")

# Callers without a bearer token, on routes that need one.
_NO_BEARER: dict[Principal, Expectation] = {
    "anonymous": NO_TOKEN,
    "admin": NO_TOKEN,
    "github": NO_TOKEN,
    "scraper": BAD_TOKEN,
}

PUBLIC: Policy = dict.fromkeys(PRINCIPALS, ALLOWED)
# Any valid token, whatever its role.
SIGNED_IN: Policy = _NO_BEARER | dict.fromkeys(
    ("candidate A", "candidate B", "recruiter X", "recruiter Y"), ALLOWED
)
# A recruiter, in their own company's scope (collections and creation: no object named).
RECRUITER: Policy = _NO_BEARER | {
    "candidate A": NO_ROLE,
    "candidate B": NO_ROLE,
    "recruiter X": ALLOWED,
    "recruiter Y": ALLOWED,
}
# A recruiter of the company that owns the object in the path.
RECRUITER_OWNED: Policy = {**RECRUITER, "recruiter Y": HIDDEN}
# A candidate, in their own scope.
CANDIDATE: Policy = _NO_BEARER | {
    "candidate A": ALLOWED,
    "candidate B": ALLOWED,
    "recruiter X": NO_ROLE,
    "recruiter Y": NO_ROLE,
}
# The candidate who claimed the session in the path or in x-candidate-session-id.
CANDIDATE_OWNED: Policy = {**CANDIDATE, "candidate B": HIDDEN}
# The invited candidate: the token identifies the invite; the verified email must match.
INVITEE: Policy = {**CANDIDATE, "candidate B": Outcome(403, "INVITE_EMAIL_MISMATCH")}
ADMIN: Policy = {**dict.fromkeys(PRINCIPALS, NO_ADMIN_KEY), "admin": ALLOWED}
WEBHOOK_SIGNED: Policy = {**dict.fromkeys(PRINCIPALS, NO_SIGNATURE), "github": ALLOWED}
METRICS: Policy = {**dict.fromkeys(PRINCIPALS, NO_METRICS_TOKEN), "scraper": ALLOWED}
# The local media store's signed URLs: the token in the path is the only credential, so
# every caller gets the same answer; the scene's token (an invite's) is no media token.
BAD_MEDIA_SIGNATURE = Outcome(403, "MEDIA_SIGNATURE_INVALID")
SIGNED_URL: Policy = dict.fromkeys(PRINCIPALS, BAD_MEDIA_SIGNATURE)
# Greenhouse's calls: a partner key as the HTTP Basic user name, which no principal here
# has (tests/ats drive these routes with one); a bearer token is no Basic credential.
NO_GREENHOUSE_KEY = Outcome(401, "GREENHOUSE_KEY_MISSING")
BAD_GREENHOUSE_KEY = Outcome(401, "GREENHOUSE_KEY_INVALID")
GREENHOUSE_KEYED: Policy = {
    **dict.fromkeys(PRINCIPALS, BAD_GREENHOUSE_KEY),
    "anonymous": NO_GREENHOUSE_KEY,
    "admin": NO_GREENHOUSE_KEY,
    "github": NO_GREENHOUSE_KEY,
}


@dataclass(frozen=True)
class Row:
    policy: Policy
    # What a permitted caller gets here: the handler's own answer for the scene's objects.
    allowed: Outcome
    # The code of the 404 that hides an object from a caller it is not theirs.
    hidden: str | None = None
    body: Any = None
    query: Mapping[str, str] = field(default_factory=dict)
    # Path parameters other than the scene's defaults (names of Scene.ids entries).
    params: Mapping[str, str] = field(default_factory=dict)


OK, CREATED, ACCEPTED, NO_CONTENT = Outcome(200), Outcome(201), Outcome(202), Outcome(204)
SESSION_HIDDEN = "CANDIDATE_SESSION_NOT_FOUND"
SIMULATION_HIDDEN = "SIMULATION_NOT_FOUND"
ENDPOINT_HIDDEN = "WEBHOOK_ENDPOINT_NOT_FOUND"
PING = {"zen": "Keep it logically awesome.", "hook_id": 1}
# A rubric for X's five-day simulation: one criterion per day.
RUBRIC_CRITERIA = [
    {
        "key": f"day-{day}",
        "dayIndex": day,
        "title": f"Day {day}",
        "description": "The day's work.",
        "weight": 1,
        "anchors": {"1": "Poor.", "2": "Fair.", "3": "Good.", "4": "Excellent."},
    }
    for day in range(1, 6)
]

OPERATIONS: dict[tuple[str, str], Row] = {
    ("GET", "/openapi.json"): Row(PUBLIC, OK),
    ("GET", "/docs"): Row(PUBLIC, OK),
    ("GET", "/docs/oauth2-redirect"): Row(PUBLIC, OK),
    ("GET", "/redoc"): Row(PUBLIC, OK),
    ("GET", "/docs/assets/{path}"): Row(PUBLIC, OK, params={"path": "asset"}),
    ("GET", "/health"): Row(PUBLIC, OK),
    ("GET", "/health/ready"): Row(PUBLIC, OK),
    ("GET", "/metrics"): Row(METRICS, OK),
    ("GET", "/api/auth/me"): Row(SIGNED_IN, OK),
    ("POST", "/api/auth/logout"): Row(SIGNED_IN, NO_CONTENT),
    ("POST", "/api/github/webhooks"): Row(WEBHOOK_SIGNED, OK, body=PING),
    ("POST", "/api/simulations"): Row(
        RECRUITER,
        CREATED,
        body={
            "title": "Matrix probe",
            "role": "Backend Engineer",
            "techStack": "Python",
            "seniority": "Senior",
            "focus": "APIs",
            "templateKey": "python-fastapi",
        },
    ),
    ("GET", "/api/simulations"): Row(RECRUITER, OK),
    ("GET", "/api/simulations/{simulation_id}"): Row(RECRUITER_OWNED, OK, SIMULATION_HIDDEN),
    ("POST", "/api/simulations/{simulation_id}/invite"): Row(
        RECRUITER_OWNED,
        CREATED,
        SIMULATION_HIDDEN,
        body={"candidateName": "Grace", "inviteEmail": "grace.matrix@example.com"},
    ),
    ("POST", "/api/simulations/{simulation_id}/candidates/{cs_id}/invite/resend"): Row(
        # A's session is still open (in progress), so its email can go again.
        RECRUITER_OWNED,
        OK,
        SIMULATION_HIDDEN,
        body={"rotateToken": False},
    ),
    ("POST", "/api/simulations/{simulation_id}/candidates/{cs_id}/extend"): Row(
        RECRUITER_OWNED,
        OK,
        SIMULATION_HIDDEN,
        body={"expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat()},
    ),
    ("GET", "/api/simulations/{simulation_id}/candidates"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("GET", "/api/simulations/{simulation_id}/candidates/{cs_id}/events"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("GET", "/api/simulations/{simulation_id}/results.csv"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    # TENON_AI_PROVIDER=none here: asking for a draft is 503 for the owner alone.
    ("GET", "/api/candidate-sessions/{cs_id}/ai-drafts"): Row(RECRUITER_OWNED, OK, SESSION_HIDDEN),
    ("POST", "/api/candidate-sessions/{cs_id}/ai-drafts"): Row(
        RECRUITER_OWNED, Outcome(503, "AI_NOT_CONFIGURED"), SESSION_HIDDEN
    ),
    ("POST", "/api/simulations/{simulation_id}/scenario-drafts"): Row(
        RECRUITER_OWNED, Outcome(503, "AI_NOT_CONFIGURED"), SIMULATION_HIDDEN, body={}
    ),
    ("GET", "/api/simulations/{simulation_id}/scenario-drafts"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("GET", "/api/simulations/{simulation_id}/scenario-drafts/{draft_id}"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("PATCH", "/api/simulations/{simulation_id}/scenario-drafts/{draft_id}"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN, body=scenario_content()
    ),
    ("POST", "/api/simulations/{simulation_id}/scenario-drafts/{draft_id}/approve"): Row(
        # A was invited: the scenario is locked.
        RECRUITER_OWNED,
        Outcome(409, "SIMULATION_HAS_CANDIDATES"),
        SIMULATION_HIDDEN,
    ),
    ("GET", "/api/simulations/{simulation_id}/comparison"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("GET", "/api/simulations/{simulation_id}/comparison.csv"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("GET", "/api/simulations/{simulation_id}/similarity"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("GET", "/api/simulations/{simulation_id}/rubric"): Row(RECRUITER_OWNED, OK, SIMULATION_HIDDEN),
    ("PUT", "/api/simulations/{simulation_id}/rubric"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN, body={"criteria": RUBRIC_CRITERIA}
    ),
    ("GET", "/api/simulations/{simulation_id}/rubric/versions"): Row(
        RECRUITER_OWNED, OK, SIMULATION_HIDDEN
    ),
    ("GET", "/api/candidate-sessions/{cs_id}/reviewers"): Row(RECRUITER_OWNED, OK, SESSION_HIDDEN),
    ("PUT", "/api/candidate-sessions/{cs_id}/reviewers"): Row(
        RECRUITER_OWNED, OK, SESSION_HIDDEN, body={"reviewerUserIds": []}
    ),
    ("GET", "/api/candidate-sessions/{cs_id}/scorecards"): Row(RECRUITER_OWNED, OK, SESSION_HIDDEN),
    ("PUT", "/api/candidate-sessions/{cs_id}/scorecards/mine"): Row(
        RECRUITER_OWNED, OK, SESSION_HIDDEN, body={"entries": []}
    ),
    ("POST", "/api/candidate-sessions/{cs_id}/scorecards/mine/submit"): Row(
        # Nothing scored yet: refused as incomplete for X alone.
        RECRUITER_OWNED,
        Outcome(422, "SCORECARD_INCOMPLETE"),
        SESSION_HIDDEN,
    ),
    ("GET", "/api/candidate-sessions/{cs_id}/scorecards/{scorecard_id}/versions"): Row(
        # No scorecard has that id: missing for X, the session itself hidden from Y.
        RECRUITER_OWNED,
        Outcome(404, "SCORECARD_NOT_FOUND"),
        SESSION_HIDDEN,
        params={"scorecard_id": "job_id"},
    ),
    ("GET", "/api/submissions"): Row(RECRUITER, OK),
    ("GET", "/api/candidate-sessions/{cs_id}/fit-profile"): Row(
        RECRUITER_OWNED, OK, SESSION_HIDDEN
    ),
    ("POST", "/api/candidate-sessions/{cs_id}/fit-profile/regenerate"): Row(
        RECRUITER_OWNED, ACCEPTED, SESSION_HIDDEN
    ),
    ("GET", "/api/submissions/{submission_id}"): Row(RECRUITER_OWNED, OK, "SUBMISSION_NOT_FOUND"),
    ("GET", "/api/submissions/{submission_id}/similarity"): Row(
        RECRUITER_OWNED, OK, "SUBMISSION_NOT_FOUND"
    ),
    ("GET", "/api/candidate/invites"): Row(CANDIDATE, OK),
    ("GET", "/api/candidate/session/{cs_id}/current_task"): Row(
        CANDIDATE_OWNED, OK, SESSION_HIDDEN
    ),
    ("GET", "/api/candidate/session/{token}"): Row(INVITEE, OK),
    ("POST", "/api/candidate/session/{token}/claim"): Row(INVITEE, OK),
    ("POST", "/api/tasks/{task_id}/codespace/init"): Row(
        # A's login is bound and its repository ready: answered without calling GitHub.
        CANDIDATE_OWNED,
        OK,
        SESSION_HIDDEN,
        body={"githubUsername": A_LOGIN},
    ),
    ("GET", "/api/tasks/{task_id}/codespace/status"): Row(CANDIDATE_OWNED, OK, SESSION_HIDDEN),
    ("POST", "/api/tasks/{task_id}/run"): Row(CANDIDATE_OWNED, ACCEPTED, SESSION_HIDDEN, body={}),
    ("GET", "/api/tasks/{task_id}/run/{run_id}"): Row(CANDIDATE_OWNED, OK, SESSION_HIDDEN),
    # The run is final, so its stream sends its state once and ends.
    ("GET", "/api/tasks/{task_id}/run/{run_id}/events"): Row(CANDIDATE_OWNED, OK, SESSION_HIDDEN),
    ("POST", "/api/tasks/{task_id}/submit"): Row(
        # The day-1 task A already submitted: refused for A alone, with no GitHub call.
        CANDIDATE_OWNED,
        Outcome(409, "SUBMISSION_EXISTS"),
        SESSION_HIDDEN,
        body={"contentText": "Again."},
        params={"task_id": "submitted_task_id"},
    ),
    # The day-1 design task: its draft stays readable after the submit, but not writable.
    ("GET", "/api/tasks/{task_id}/draft"): Row(
        CANDIDATE_OWNED, OK, SESSION_HIDDEN, params={"task_id": "submitted_task_id"}
    ),
    ("PUT", "/api/tasks/{task_id}/draft"): Row(
        CANDIDATE_OWNED,
        Outcome(409, "SUBMISSION_EXISTS"),
        SESSION_HIDDEN,
        body={"contentText": "Draft.", "version": 0},
        params={"task_id": "submitted_task_id"},
    ),
    ("GET", "/api/candidate-sessions/{cs_id}/drafts"): Row(RECRUITER_OWNED, OK, SESSION_HIDDEN),
    ("GET", "/api/recording-consent"): Row(PUBLIC, OK),
    # A's current task is the code task: only a handoff task takes a recording.
    ("POST", "/api/tasks/{task_id}/recording/init"): Row(
        CANDIDATE_OWNED,
        Outcome(409, "TASK_NOT_RECORDABLE"),
        SESSION_HIDDEN,
        body={"filename": "handoff.webm", "contentType": "video/webm", "sizeBytes": 10},
    ),
    ("POST", "/api/tasks/{task_id}/recording/parts"): Row(
        CANDIDATE_OWNED,
        Outcome(409, "TASK_NOT_RECORDABLE"),
        SESSION_HIDDEN,
        body={"recordingId": 1, "partNumbers": [1]},
    ),
    ("POST", "/api/tasks/{task_id}/recording/complete"): Row(
        CANDIDATE_OWNED,
        Outcome(409, "TASK_NOT_RECORDABLE"),
        SESSION_HIDDEN,
        body={"recordingId": 1, "consentVersion": "2026-12-01"},
    ),
    ("GET", "/api/tasks/{task_id}/recording"): Row(
        CANDIDATE_OWNED, Outcome(409, "TASK_NOT_RECORDABLE"), SESSION_HIDDEN
    ),
    ("DELETE", "/api/tasks/{task_id}/recording"): Row(
        CANDIDATE_OWNED, Outcome(409, "TASK_NOT_RECORDABLE"), SESSION_HIDDEN
    ),
    ("POST", "/api/integrations/greenhouse/keys"): Row(RECRUITER, CREATED),
    ("GET", "/api/integrations/greenhouse/keys"): Row(RECRUITER, OK),
    ("DELETE", "/api/integrations/greenhouse/keys/{key_id}"): Row(
        RECRUITER_OWNED, NO_CONTENT, "PARTNER_KEY_NOT_FOUND"
    ),
    ("GET", "/api/integrations/greenhouse/list_tests"): Row(GREENHOUSE_KEYED, OK),
    ("POST", "/api/integrations/greenhouse/send_test"): Row(GREENHOUSE_KEYED, OK, body={}),
    ("GET", "/api/integrations/greenhouse/test_status"): Row(
        GREENHOUSE_KEYED, OK, query={"partner_interview_id": "1"}
    ),
    ("PUT", "/api/media/uploads/{token}"): Row(SIGNED_URL, BAD_MEDIA_SIGNATURE, body={}),
    ("GET", "/api/media/{token}"): Row(SIGNED_URL, BAD_MEDIA_SIGNATURE),
    ("POST", "/api/webhooks/endpoints"): Row(
        RECRUITER,
        CREATED,
        body={"url": "https://hooks.example.com/matrix", "eventTypes": ["candidate.invited"]},
    ),
    ("GET", "/api/webhooks/endpoints"): Row(RECRUITER, OK),
    ("GET", "/api/webhooks/endpoints/{endpoint_id}"): Row(RECRUITER_OWNED, OK, ENDPOINT_HIDDEN),
    ("PATCH", "/api/webhooks/endpoints/{endpoint_id}"): Row(
        RECRUITER_OWNED, OK, ENDPOINT_HIDDEN, body={"description": "Matrix probe"}
    ),
    ("DELETE", "/api/webhooks/endpoints/{endpoint_id}"): Row(
        RECRUITER_OWNED, NO_CONTENT, ENDPOINT_HIDDEN
    ),
    ("POST", "/api/webhooks/endpoints/{endpoint_id}/rotate-secret"): Row(
        RECRUITER_OWNED, OK, ENDPOINT_HIDDEN
    ),
    ("POST", "/api/webhooks/endpoints/{endpoint_id}/test"): Row(
        RECRUITER_OWNED, ACCEPTED, ENDPOINT_HIDDEN
    ),
    ("GET", "/api/webhooks/endpoints/{endpoint_id}/deliveries"): Row(
        RECRUITER_OWNED, OK, ENDPOINT_HIDDEN
    ),
    ("GET", "/api/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}"): Row(
        RECRUITER_OWNED, OK, ENDPOINT_HIDDEN
    ),
    ("POST", "/api/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver"): Row(
        RECRUITER_OWNED, ACCEPTED, ENDPOINT_HIDDEN
    ),
    ("POST", "/api/admin/companies"): Row(ADMIN, CREATED, body={"name": "Matrix probe company"}),
    ("POST", "/api/admin/recruiters"): Row(ADMIN, CREATED, body="recruiter"),
    ("GET", "/api/admin/jobs"): Row(ADMIN, OK, query={"state": "failed"}),
    ("POST", "/api/admin/jobs/{job_id}/retry"): Row(ADMIN, OK),
    ("GET", "/api/admin/templates/health"): Row(
        ADMIN, OK, query={"templateKeys": "python-fastapi"}
    ),
    ("POST", "/api/admin/templates/health/run"): Row(
        # An unknown template: refused before anything is dispatched on GitHub.
        ADMIN,
        Outcome(422, "TEMPLATE_UNKNOWN"),
        body={"templateKeys": ["no-such-template"]},
    ),
}


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every operation the app serves, hidden ones included."""
    table = set()
    for context in iter_route_contexts(app.routes):
        template = context.path_format
        assert template is not None, context
        # A mount (the docs' static assets) serves GET under its path.
        methods = {"GET"} if isinstance(context.original_route, Mount) else context.methods
        table |= {(method, template) for method in methods or () if method != "HEAD"}
    return table


@dataclass
class Scene:
    app: FastAPI
    client: httpx.AsyncClient
    connection: AsyncConnection
    # Path parameter values: X's objects, A's session and invite token.
    ids: dict[str, str]
    headers: dict[Principal, dict[str, str]]
    # A recruiter-creation body for X's company.
    recruiter_body: dict[str, Any]

    async def ask(self, principal: Principal, key: tuple[str, str], row: Row) -> httpx.Response:
        """The operation asked by `principal`, in a savepoint that is rolled back after."""
        method, template = key
        values = self.ids | {name: self.ids[source] for name, source in row.params.items()}
        path = template.format(**{name: values[name] for name in _params(template)})
        body = self.recruiter_body if row.body == "recruiter" else row.body
        content = b"" if body is None else json.dumps(body).encode()
        headers = dict(self.headers[principal])
        if body is not None:
            headers["Content-Type"] = "application/json"
        if principal == "github":
            signature = hmac.new(WEBHOOK_SECRET.encode(), content, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={signature}"
        savepoint = await self.connection.begin_nested()
        try:
            return await self.client.request(
                method, path, params=row.query, content=content, headers=headers
            )
        finally:
            await savepoint.rollback()


def _params(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


@pytest.fixture(scope="module")
async def scene(
    database_url: str,
    engine: AsyncEngine,
    identity_provider: IdentityProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Scene]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            sessionmaker = async_sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            database = Database(engine, sessionmaker, sessionmaker, engine.url)
            ids, recruiter_body = await _build_companies(database)
            scratch: Path = tmp_path_factory.mktemp("matrix")
            async with running_emulator(emulator_config(scratch)) as github:
                settings = make_settings(
                    database_url,
                    identity_provider.jwks_url,
                    app={"metrics_token": METRICS_TOKEN},
                    rate_limit=RATE_LIMITS,
                    github={
                        "api_base": github.base_url,
                        "token": TOKEN,
                        "mutation_interval_seconds": 0,
                    },
                )
                async with running_app(settings, database) as app, client_for(app) as client:
                    yield Scene(
                        app=app,
                        client=client,
                        connection=connection,
                        ids=ids,
                        headers=_headers(identity_provider, ids["cs_id"]),
                        recruiter_body=recruiter_body,
                    )
        finally:
            await transaction.rollback()


async def _build_companies(database: Database) -> tuple[dict[str, str], dict[str, Any]]:
    """Company X (a simulation, A's claimed session with a submission, a ready repository
    and a finished run, a failed job) and company Y (its own simulation and B's session)."""
    now = datetime.now(UTC)
    token = new_token()
    async with database.session_scope() as session:
        x = await create_company(session, name="Matrix X Company")
        await create_recruiter(session, x, email="rita@x.example")
        y = await create_company(session, name="Matrix Y Company")
        await create_recruiter(session, y, email="otto@y.example")
        x_simulation = await create_simulation(session, x, title="Matrix X simulation")
        design, code, *_ = await create_tasks(session, x_simulation)
        a_session = await create_candidate_session(
            session, x_simulation, invite_email="ada.matrix@x.example", token=token
        )
        a_session.status, a_session.auth0_sub = "in_progress", "auth0|candidate-a"
        a_session.claimed_at = a_session.started_at = now
        a_session.github_username = A_LOGIN
        submission = await create_submission(session, a_session, design)
        workspace = await create_workspace(session, a_session)
        workspace.status, workspace.collaborator_login = "ready", A_LOGIN
        workspace.repo_full_name = "tenon-workspaces/matrix-a"
        workspace.default_branch, workspace.latest_commit_sha = "main", "a" * 40
        # Fresh, so a status read does not go to GitHub for the head.
        workspace.latest_commit_observed_at = now + timedelta(days=1)
        run = await create_test_run(session, workspace, code, status="passed")
        job = await create_job(session, state="failed")
        draft = ScenarioDraft(
            simulation_id=x_simulation.id, status="ready", content=scenario_content()
        )
        session.add(draft)
        partner_key = await create_partner_key(session, x)
        endpoint = await create_webhook_endpoint(session, x)
        delivery = await create_endpoint_delivery(session, endpoint)

        y_simulation = await create_simulation(session, y, title="Matrix Y simulation")
        await create_tasks(session, y_simulation)
        b_session = await create_candidate_session(
            session, y_simulation, invite_email="bob.matrix@y.example"
        )
        b_session.status, b_session.auth0_sub = "in_progress", "auth0|candidate-b"
        b_session.claimed_at = b_session.started_at = now
        await session.flush()
        ids = {
            "simulation_id": str(x_simulation.id),
            "cs_id": str(a_session.id),
            "task_id": str(code.id),
            "submitted_task_id": str(design.id),
            "run_id": str(run.id),
            "submission_id": str(submission.id),
            "job_id": str(job.id),
            "draft_id": str(draft.id),
            "key_id": str(partner_key.id),
            "endpoint_id": str(endpoint.id),
            "delivery_id": str(delivery.id),
            "token": token,
            "asset": "favicon.png",
        }
        recruiter_body = {"companyId": x.id, "email": "new.matrix@x.example", "name": "New"}
    return ids, recruiter_body


def _headers(identity: IdentityProvider, a_session_id: str) -> dict[Principal, dict[str, str]]:
    def bearer(subject: str, email: str, permission: str) -> dict[str, str]:
        token = identity.token(subject=subject, email=email, permissions=(permission,))
        return {"Authorization": f"Bearer {token}"}

    # B names A's session: the header is the candidate's claim, not proof of ownership.
    session_header = {"x-candidate-session-id": a_session_id}
    return {
        "anonymous": {},
        "candidate A": bearer("auth0|candidate-a", "ada.matrix@x.example", "candidate:access")
        | session_header,
        "candidate B": bearer("auth0|candidate-b", "bob.matrix@y.example", "candidate:access")
        | session_header,
        "recruiter X": bearer("auth0|rita", "rita@x.example", "recruiter:access"),
        "recruiter Y": bearer("auth0|otto", "otto@y.example", "recruiter:access"),
        "admin": {"X-Admin-Key": ADMIN_KEY},
        "github": {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "matrix-delivery-1"},
        "scraper": {"Authorization": f"Bearer {METRICS_TOKEN}"},
    }


def test_every_route_has_a_row(scene: Scene) -> None:
    routes = route_table(scene.app)
    assert sorted(routes - OPERATIONS.keys()) == [], "routes without a policy row"
    assert sorted(OPERATIONS.keys() - routes) == [], "rows for routes the app does not serve"


def test_every_policy_covers_every_principal() -> None:
    for key, row in OPERATIONS.items():
        assert set(row.policy) == set(PRINCIPALS), key
        if HIDDEN in row.policy.values():
            assert row.hidden is not None, f"{key} hides objects but names no 404 code"


def _expected(row: Row, expectation: Expectation) -> Outcome:
    if expectation == ALLOWED:
        return row.allowed
    if expectation == HIDDEN:
        assert row.hidden is not None
        return Outcome(404, row.hidden)
    assert isinstance(expectation, Outcome)
    return expectation


def _outcome(response: httpx.Response) -> Outcome:
    if response.status_code < 400:
        return Outcome(response.status_code)
    return Outcome(response.status_code, response.json().get("code"))


@pytest.mark.parametrize("key", list(OPERATIONS), ids=[" ".join(key) for key in OPERATIONS])
async def test_operation_answers_each_principal_per_its_policy(
    scene: Scene, key: tuple[str, str]
) -> None:
    row = OPERATIONS[key]
    wrong, leaks = [], []
    for principal in PRINCIPALS:
        response = await scene.ask(principal, key, row)
        expected, got = _expected(row, row.policy[principal]), _outcome(response)
        if got != expected:
            wrong.append(f"{principal}: expected {expected}, got {got} {response.text[:200]}")
        if principal not in INSIDERS and response.is_success:
            leaks += [
                f"{principal} sees {marker!r}" for marker in X_MARKERS if marker in response.text
            ]
    problems = wrong + leaks
    assert problems == [], "\n".join(problems)


async def test_credentials_come_before_the_body(scene: Scene) -> None:
    """Missing credentials or role: 401/403 even with an invalid body. Ownership is decided
    after validation, so an outsider's invalid body gets the same 422 for X's simulation as
    for one that does not exist."""
    invalid = Row(RECRUITER_OWNED, OK, body={"inviteEmail": "not an email"})
    invite = ("POST", "/api/simulations/{simulation_id}/invite")
    anonymous = await scene.ask("anonymous", invite, invalid)
    candidate = await scene.ask("candidate A", invite, invalid)
    assert (_outcome(anonymous), _outcome(candidate)) == (NO_TOKEN, NO_ROLE)

    outsider = await scene.ask("recruiter Y", invite, invalid)
    missing = await scene.ask("recruiter Y", ("POST", "/api/simulations/999999999/invite"), invalid)
    assert outsider.status_code == missing.status_code == 422
    assert outsider.json()["errors"] == missing.json()["errors"]

    admin = ("POST", "/api/admin/companies")
    keyless = await scene.ask("recruiter X", admin, Row(ADMIN, CREATED, body={"name": ""}))
    assert _outcome(keyless) == NO_ADMIN_KEY


async def test_an_outsider_cannot_use_up_the_owner_s_rate_limit(scene: Scene) -> None:
    """A session's rate limits count its owner's requests: candidate B naming A's session,
    or recruiter Y naming X's candidate, spends an allowance of its own, never A's or X's."""
    run = ("POST", "/api/tasks/{task_id}/run")
    resend = ("POST", "/api/simulations/{simulation_id}/candidates/{cs_id}/invite/resend")
    for _ in range(RUN_ALLOWANCE):
        await scene.ask("candidate B", run, OPERATIONS[run])
    for _ in range(RESEND_ALLOWANCE):
        await scene.ask("recruiter Y", resend, OPERATIONS[resend])
    assert _outcome(await scene.ask("candidate A", run, OPERATIONS[run])) == ACCEPTED
    assert _outcome(await scene.ask("recruiter X", resend, OPERATIONS[resend])) == OK
