"""The front end's contract, replayed: every call the recruiter SPA (through its BFF) and the
candidate portal make, in the order a user makes them, against Tenon and the GitHub emulator
over real HTTP, checking every response field the front end reads with its JSON type.

docs/frontend-contract.md says which front-end file reads each field. The checks collect
every break before failing, so one run lists all of them; the flow stops early only where
the front end itself could not go on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from app.core.db import Database
from app.github_emulator.faults import FaultRule
from tests.support.api import SIMULATION
from tests.support.contract import (
    BOOL,
    INT,
    INT_ID,
    OBJECT,
    STR,
    TEXT,
    TIMESTAMP,
    Field,
    Ledger,
    ListOf,
    MayBeAbsent,
    Nullable,
    Scalar,
    one_of,
)
from tests.support.emulator import eventually
from tests.support.identity import IdentityProvider
from tests.support.stack import CANDIDATE_LOGIN, Stack, stack

CANDIDATE_EMAIL = "runner@example.com"  # the stack's candidate token carries this email
# The portal accepts a run id as a number or a string (it only echoes it into the poll URL).
RUN_ID = Scalar(
    "a positive integer or a non-empty string",
    lambda v: (
        (isinstance(v, int) and not isinstance(v, bool) and v > 0)
        or (isinstance(v, str) and bool(v.strip()))
    ),
)
# Run states the portal's poller understands; anything else ends the run as an error.
RUN_STATES = ("queued", "running", "in_progress", "passed", "failed", "error", "timed_out")
FINAL_RUN_STATES = ("passed", "failed", "error", "timed_out")


def maybe(field: Field) -> MayBeAbsent:
    """Read with a fallback: may be absent or null, else must have this shape."""
    return MayBeAbsent(Nullable(field))


ME: Field = {"name": TEXT, "email": STR, "role": TEXT}
SIMULATION_ITEM: Field = {
    "id": INT_ID,
    "title": STR,
    "role": STR,
    "createdAt": TIMESTAMP,
    "templateKey": Nullable(STR),
    "candidateCount": MayBeAbsent(INT),
}
CREATED: Field = {"id": INT_ID}
SIMULATION_DETAIL: Field = {
    "id": INT_ID,
    "title": STR,
    "templateKey": STR,
    "role": STR,
    "techStack": STR,
    "focus": Nullable(STR),
    "tasks": ListOf({"id": INT_ID, "dayIndex": INT, "type": STR, "title": STR, "description": STR}),
}
INVITED: Field = {"candidateSessionId": INT_ID, "token": TEXT, "inviteUrl": TEXT}
REINVITED: Field = {"candidateSessionId": INT_ID, "inviteUrl": TEXT}
CANDIDATE_ROW: Field = {
    "candidateSessionId": INT_ID,
    "inviteEmail": STR,
    "candidateName": STR,
    "status": STR,
    "startedAt": Nullable(TIMESTAMP),
    "completedAt": Nullable(TIMESTAMP),
    "progress": {"current": INT, "total": INT},
    "inviteEmailStatus": maybe(STR),
    "inviteUrl": maybe(STR),
}
RESENT: Field = {"inviteEmailStatus": maybe(STR), "retryAfterSeconds": maybe(INT)}
INVITE_VIEW: Field = {
    "candidateSessionId": INT_ID,
    "status": STR,
    "simulation": {"title": STR, "role": STR},
}
CURRENT_TASK: Field = {
    "isComplete": BOOL,
    "currentTask": Nullable(
        {"id": INT_ID, "dayIndex": INT, "title": STR, "description": STR, "type": STR}
    ),
    "completedTaskIds": ListOf(INT_ID),
    "progress": {"current": INT, "completed": INT, "total": INT},
}
MY_INVITE: Field = {
    "candidateSessionId": INT_ID,
    "token": TEXT,
    "title": TEXT,
    "role": TEXT,
    "company": Nullable(STR),
    "status": STR,
    "progress": maybe({"completed": INT, "total": INT}),
    "expiresAt": maybe(TIMESTAMP),
    "lastActivityAt": maybe(TIMESTAMP),
    "isExpired": MayBeAbsent(BOOL),
}
WORKSPACE: Field = {
    "repoUrl": Nullable(STR),
    "repoFullName": Nullable(STR),
    "codespaceUrl": Nullable(STR),
    "repoName": maybe(STR),
}
RUN_STARTED: Field = {"runId": RUN_ID}
RUN_STATE: Field = {
    "status": one_of(*RUN_STATES),
    "conclusion": maybe(STR),
    "timeout": MayBeAbsent(BOOL),
    "passed": maybe(INT),
    "failed": maybe(INT),
    "total": maybe(INT),
    "stdout": maybe(STR),
    "stderr": maybe(STR),
    "workflowUrl": maybe(STR),
    "commitSha": maybe(STR),
    "message": maybe(STR),
}
SUBMITTED: Field = {
    "submissionId": INT_ID,
    "taskId": INT_ID,
    "candidateSessionId": INT_ID,
    "submittedAt": TIMESTAMP,
    "progress": {"completed": INT, "total": INT},
    "isComplete": BOOL,
}
SUBMISSION_ITEM: Field = {
    "submissionId": INT_ID,
    "candidateSessionId": INT_ID,
    "taskId": INT_ID,
    "dayIndex": INT,
    "type": STR,
    "submittedAt": TIMESTAMP,
}
SUBMISSIONS: Field = {"items": ListOf(SUBMISSION_ITEM)}
TEST_RESULTS: Field = {
    "passed": maybe(INT),
    "failed": maybe(INT),
    "total": maybe(INT),
    "stdout": maybe(STR),
    "stderr": maybe(STR),
    "conclusion": maybe(STR),
    "runStatus": maybe(STR),
    "timeout": maybe(BOOL),
    "workflowUrl": maybe(STR),
    "commitUrl": maybe(STR),
    "workflowRunId": maybe(RUN_ID),
}
SUBMISSION_DETAIL: Field = {
    "submissionId": INT_ID,
    "candidateSessionId": INT_ID,
    "submittedAt": TIMESTAMP,
    "task": {"dayIndex": INT, "type": STR, "title": STR, "prompt": Nullable(STR)},
    "contentText": Nullable(STR),
    "code": maybe({"repoFullName": maybe(STR), "repoUrl": maybe(STR), "repoPath": maybe(STR)}),
    "repoUrl": maybe(STR),
    "repoFullName": maybe(STR),
    "workflowUrl": maybe(STR),
    "commitUrl": maybe(STR),
    "diffUrl": maybe(STR),
    "diffSummary": maybe(OBJECT),
    "testResults": maybe(TEST_RESULTS),
}
ERROR_BODY: Field = {"status": INT, "code": TEXT, "detail": TEXT}


def page_of(item: Field) -> Field:
    return {"items": ListOf(item), "total": INT, "nextCursor": Nullable(STR)}


class Portal:
    """The calls as the two front ends make them, each checked into one ledger."""

    def __init__(self, s: Stack, ledger: Ledger) -> None:
        self.s = s
        self.ledger = ledger
        self.cs_id: Any = None

    @property
    def http(self) -> httpx.AsyncClient:
        return self.s.tenon

    def candidate(self) -> dict[str, str]:
        return self.s.candidate | {"x-candidate-session-id": str(self.cs_id)}

    def bare_list(self, call: str, response: httpx.Response, item: Field) -> list[Any]:
        """A list the BFF hands on only if it is a bare JSON array, with X-Total-Count."""
        body = self.ledger.check(call, response, {200}, ListOf(item))
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            return list(body["items"])  # a page instead: already a break; go on with its items
        if not isinstance(body, list):
            return []
        self.ledger.expect(
            call,
            response.headers.get("x-total-count") == str(len(body)),
            f"X-Total-Count is {response.headers.get('x-total-count')!r}, expected {len(body)}",
        )
        return body

    async def current_task(self) -> dict[str, Any]:
        call = "GET /api/candidate/session/{id}/current_task"
        response = await self.http.get(
            f"/api/candidate/session/{self.cs_id}/current_task", headers=self.candidate()
        )
        self.ledger.require(call, response, {200})
        body: dict[str, Any] = self.ledger.check(call, response, {200}, CURRENT_TASK)
        return body

    async def submit(self, task: dict[str, Any], text: str | None) -> dict[str, Any]:
        # Days 2 and 3 (and code/debug tasks) are GitHub-native: the portal sends `{}`.
        body = {} if text is None else {"contentText": text}
        call = f"POST /api/tasks/{{id}}/submit (day {task['dayIndex']})"
        response = await self.http.post(
            f"/api/tasks/{task['id']}/submit", json=body, headers=self.candidate()
        )
        self.ledger.require(call, response, {200, 201})
        submitted: dict[str, Any] = self.ledger.check(call, response, {200, 201}, SUBMITTED)
        return submitted

    async def workspace(self, task: dict[str, Any]) -> None:
        """The portal's workspace panel: status first, init when there is none."""
        day = task["dayIndex"]
        path = f"/api/tasks/{task['id']}/codespace"
        before = await self.http.get(f"{path}/status", headers=self.candidate())
        self.ledger.check(f"GET codespace/status before init (day {day})", before, {404})

        call = f"POST codespace/init with {{}} (day {day})"
        empty = await self.http.post(f"{path}/init", json={}, headers=self.candidate())
        problem = self.ledger.check(call, empty, {422}, ERROR_BODY)
        detail = problem.get("detail") if isinstance(problem, dict) else None
        self.ledger.expect(
            call,
            isinstance(detail, str) and "githubUsername" in detail,
            f"detail (the text the portal shows) does not name githubUsername: {detail!r}",
        )
        self.ledger.expect(
            call,
            empty.headers.get("content-type", "").startswith("application/json"),
            f"content type {empty.headers.get('content-type')!r} under Accept */*",
        )

        init = await self.http.post(
            f"{path}/init", json={"githubUsername": CANDIDATE_LOGIN}, headers=self.candidate()
        )
        self.ledger.require(f"POST codespace/init (day {day})", init, {200, 202})
        self.ledger.check(f"POST codespace/init (day {day})", init, {200, 202}, WORKSPACE)

        async def ready() -> httpx.Response | None:
            status = await self.http.get(f"{path}/status", headers=self.candidate())
            return status if status.json().get("status") == "ready" else None

        status = await eventually(ready, within=30, interval=0.2)
        self.ledger.check(f"GET codespace/status (day {day})", status, {200}, WORKSPACE)

    async def run_tests(self, task: dict[str, Any]) -> None:
        """Run tests, catch the run while its dispatch is held, then poll it to the end."""
        call = "POST /api/tasks/{id}/run"
        started = await self.http.post(
            f"/api/tasks/{task['id']}/run", json={}, headers=self.candidate()
        )
        self.ledger.require(call, started, {200, 202})
        run_id = self.ledger.check(call, started, {200, 202}, RUN_STARTED).get("runId")
        poll = f"/api/tasks/{task['id']}/run/{run_id}"

        async def dispatch_in_flight() -> bool | None:
            requests = (await self.s.github.get("/_emulator/stats")).json()["requests"]
            return True if any(k.endswith("/dispatches") for k in requests) else None

        await eventually(dispatch_in_flight, within=30)
        held = await self.http.get(poll, headers=self.candidate())
        state = self.ledger.check("GET run while dispatching", held, {200}, RUN_STATE)
        self.ledger.expect(
            "GET run while dispatching",
            state.get("status") == "queued",
            f"a run being dispatched is reported as {state.get('status')!r}, not 'queued'",
        )

        async def final() -> httpx.Response | None:
            response = await self.http.get(poll, headers=self.candidate())
            self.ledger.check("GET /api/tasks/{id}/run/{runId}", response, {200}, RUN_STATE)
            return response if response.json().get("status") in FINAL_RUN_STATES else None

        await eventually(final, within=90, interval=0.3)


async def test_the_front_ends_calls_in_user_order_get_the_fields_they_read(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    # Holding the first workflow dispatch makes the run's `dispatching` state observable.
    hold = FaultRule(route=r"^POST .*/dispatches$", latency_ms=3000, times=1)
    async with stack(tmp_path, jobs_database_url, jobs_db, idp, faults=(hold,)) as s:
        ledger = Ledger()
        portal = Portal(s, ledger)
        http, recruiter = s.tenon, s.recruiter
        # Neither the BFF nor the portal sets Accept: fetch sends its default.
        http.headers["Accept"] = "*/*"
        base = s.app.state.settings.app.candidate_portal_base_url.rstrip("/")

        # -- recruiter SPA (through the BFF) ------------------------------------------------
        me = await http.get("/api/auth/me", headers=recruiter)
        ledger.check("GET /api/auth/me", me, {200}, ME)

        listed = await http.get("/api/simulations", headers=recruiter)
        portal.bare_list("GET /api/simulations (empty)", listed, SIMULATION_ITEM)

        created = await http.post("/api/simulations", json=SIMULATION, headers=recruiter)
        ledger.require("POST /api/simulations", created, {201})
        simulation_id = ledger.check("POST /api/simulations", created, {201}, CREATED)["id"]

        listed = await http.get("/api/simulations", headers=recruiter)
        sims = portal.bare_list("GET /api/simulations", listed, SIMULATION_ITEM)
        ledger.expect("GET /api/simulations", len(sims) == 1, f"{len(sims)} items, expected 1")
        paged = await http.get("/api/simulations", params={"limit": 10}, headers=recruiter)
        ledger.check("GET /api/simulations?limit=10", paged, {200}, page_of(SIMULATION_ITEM))

        detail = await http.get(f"/api/simulations/{simulation_id}", headers=recruiter)
        ledger.check("GET /api/simulations/{id}", detail, {200}, SIMULATION_DETAIL)

        invite_path = f"/api/simulations/{simulation_id}/invite"
        invitee = {"candidateName": "Rae", "inviteEmail": CANDIDATE_EMAIL}
        invited = await http.post(invite_path, json=invitee, headers=recruiter)
        ledger.require("POST /api/simulations/{id}/invite", invited, {200, 201})
        invite = ledger.check("POST /api/simulations/{id}/invite", invited, {200, 201}, INVITED)
        token, portal.cs_id = invite["token"], invite["candidateSessionId"]
        ledger.expect(
            "POST /api/simulations/{id}/invite",
            invite.get("inviteUrl") == f"{base}/candidate/session/{token}",
            f"inviteUrl {invite.get('inviteUrl')!r}, expected {base}/candidate/session/{token}",
        )

        again = await http.post(invite_path, json=invitee, headers=recruiter)
        reinvite = ledger.check("POST invite again (same email)", again, {200, 201}, REINVITED)
        ledger.expect(
            "POST invite again (same email)",
            reinvite.get("inviteUrl") == invite.get("inviteUrl"),
            f"inviteUrl {reinvite.get('inviteUrl')!r}, expected the open invite's link",
        )

        candidates_path = f"/api/simulations/{simulation_id}/candidates"
        rows = portal.bare_list(
            "GET /api/simulations/{id}/candidates",
            await http.get(candidates_path, headers=recruiter),
            CANDIDATE_ROW,
        )
        ledger.expect(
            "GET /api/simulations/{id}/candidates",
            [row.get("status") for row in rows] == ["not_started"],
            f"statuses {[row.get('status') for row in rows]}, expected ['not_started']",
        )
        paged = await http.get(candidates_path, params={"limit": 10}, headers=recruiter)
        ledger.check(
            "GET /api/simulations/{id}/candidates?limit=10", paged, {200}, page_of(CANDIDATE_ROW)
        )

        resent = await http.post(
            f"{candidates_path}/{portal.cs_id}/invite/resend", headers=recruiter
        )
        ledger.check("POST .../candidates/{csId}/invite/resend", resent, {200}, RESENT)

        # -- candidate portal -----------------------------------------------------------------
        for accept, media_type in (
            (None, "application/json"),
            ("*/*", "application/json"),
            ("application/json", "application/json"),
            ("application/problem+json", "application/problem+json"),
        ):
            call = f"GET /api/candidate/session/{{unknown}} with Accept {accept}"
            request = http.build_request(
                "GET", "/api/candidate/session/no-such-invite", headers=s.candidate
            )
            if accept is None:
                del request.headers["accept"]
            else:
                request.headers["accept"] = accept
            unknown = await http.send(request)
            ledger.check(call, unknown, {404}, ERROR_BODY)
            content_type = unknown.headers.get("content-type", "")
            ledger.expect(
                call,
                content_type.split(";")[0] == media_type,
                f"content type {content_type!r}, expected {media_type}",
            )

        viewed = await http.get(f"/api/candidate/session/{token}", headers=s.candidate)
        ledger.require("GET /api/candidate/session/{token}", viewed, {200})
        view = ledger.check("GET /api/candidate/session/{token}", viewed, {200}, INVITE_VIEW)
        ledger.expect(
            "GET /api/candidate/session/{token}",
            view.get("candidateSessionId") == portal.cs_id,
            f"candidateSessionId {view.get('candidateSessionId')!r}, expected {portal.cs_id!r}",
        )
        ledger.expect(
            "GET /api/candidate/session/{token}",
            view.get("status") in ("not_started", "in_progress"),
            f"status {view.get('status')!r}, expected not_started or in_progress",
        )

        current = await portal.current_task()

        mine = await http.get("/api/candidate/invites", headers=s.candidate)
        invites = ledger.check("GET /api/candidate/invites", mine, {200}, ListOf(MY_INVITE))
        # Other tests' stacks may have invited this email in the same database: look at ours.
        ours = (
            [i for i in invites if i.get("candidateSessionId") == portal.cs_id]
            if isinstance(invites, list)
            else []
        )
        ledger.expect(
            "GET /api/candidate/invites",
            [i.get("token") for i in ours] == [token],
            f"the list does not carry the invite's token: {invites!r}",
        )

        for day in range(1, 6):
            task = current.get("currentTask") or {}
            if task.get("dayIndex") != day:
                ledger.note("current_task", [f"day {day} expected, got {task!r}"])
                break
            github_native = task.get("type") in ("code", "debug")
            if github_native:
                await portal.workspace(task)
            if task.get("type") == "code":
                await portal.run_tests(task)
            submitted = await portal.submit(task, None if github_native else f"Day {day}.")
            ledger.expect(
                "POST /api/tasks/{id}/submit",
                submitted.get("isComplete") is (day == 5),
                f"isComplete {submitted.get('isComplete')!r} after day {day}",
            )
            current = await portal.current_task()
        ledger.expect(
            "GET current_task after day 5",
            current.get("isComplete") is True and current.get("currentTask") is None,
            f"isComplete {current.get('isComplete')!r}, currentTask {current.get('currentTask')!r}",
        )

        # -- recruiter reviews ----------------------------------------------------------------
        rows = portal.bare_list(
            "GET /api/simulations/{id}/candidates (done)",
            await http.get(candidates_path, headers=recruiter),
            CANDIDATE_ROW,
        )
        done = [
            (r.get("status"), *map((r.get("progress") or {}).get, ("current", "total")))
            for r in rows
        ]
        ledger.expect(
            "GET /api/simulations/{id}/candidates (done)",
            done == [("completed", 5, 5)],
            f"(status, progress.current, progress.total) {done}, expected completed 5/5",
        )

        # The page asks with both spellings of each filter.
        query = (
            f"candidateSessionId={portal.cs_id}&candidate_session_id={portal.cs_id}"
            f"&simulationId={simulation_id}&simulation_id={simulation_id}"
        )
        listed = await http.get(f"/api/submissions?{query}", headers=recruiter)
        submissions = ledger.check("GET /api/submissions?…", listed, {200}, SUBMISSIONS)
        items = submissions.get("items", []) if isinstance(submissions, dict) else []
        ledger.expect(
            "GET /api/submissions?…",
            sorted(item.get("dayIndex") for item in items) == [1, 2, 3, 4, 5],
            f"days {[item.get('dayIndex') for item in items]}, expected one per day",
        )
        for item in items:
            one = await http.get(f"/api/submissions/{item.get('submissionId')}", headers=recruiter)
            ledger.check(
                f"GET /api/submissions/{{id}} (day {item.get('dayIndex')})",
                one,
                {200},
                SUBMISSION_DETAIL,
            )

        completed = await http.post(invite_path, json=invitee, headers=recruiter)
        ledger.check(
            "POST invite after completion",
            completed,
            {409},
            None,
        )
        refused = completed.json() if completed.status_code == 409 else {}
        ledger.expect(
            "POST invite after completion",
            (refused.get("error") or {}).get("code") == "candidate_already_completed",
            "the invite modal reads error.code == 'candidate_already_completed'; "
            f"got {refused.get('error')!r} (top-level code {refused.get('code')!r})",
        )

    ledger.assert_kept()
