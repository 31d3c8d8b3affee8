"""The baseline of `benchmarks/api.py`: bare FastAPI + asyncpg answering the same URLs with
the same bodies as Tenon, each with the least SQL that produces them (one statement per
request, the ownership checks inside it).

It verifies no token: the caller's subject comes in the `X-Bench-Subject` header. So it
measures the framework, the driver and the database doing the same reads, not the product.

    python -m benchmarks.api_bare --database-url URL --port 8102
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Header, Request, Response

POLL_AFTER_MS = 2000
ACTIVE_RUN_STATUSES = ("queued", "dispatching", "running")
SUBJECT_HEADER = "x-bench-subject"

RUN_SQL = """
SELECT r.*,
       (SELECT coalesce(json_agg(json_build_object(
                   'name', c.name, 'classname', c.classname, 'status', c.status,
                   'durationMs', c.duration_ms, 'message', c.message) ORDER BY c.position),
               '[]')
        FROM test_case_results AS c WHERE c.test_run_id = r.id) AS tests
FROM test_runs AS r
JOIN workspaces AS w ON w.id = r.workspace_id
JOIN candidate_sessions AS cs ON cs.id = w.candidate_session_id
JOIN tasks AS t ON t.id = r.task_id AND t.simulation_id = cs.simulation_id
WHERE r.id = $1 AND r.task_id = $2 AND cs.id = $3 AND cs.auth0_sub = $4
  AND w.template_repo = t.template_repo AND w.status = 'ready'
  AND w.repo_full_name IS NOT NULL
"""

CURRENT_TASK_SQL = """
SELECT cs.status, cs.started_at IS NOT NULL AS started, t.id, t.day_index, t.title, t.type,
       t.description, s.id IS NOT NULL AS submitted
FROM candidate_sessions AS cs
LEFT JOIN tasks AS t ON t.simulation_id = cs.simulation_id
LEFT JOIN submissions AS s ON s.candidate_session_id = cs.id AND s.task_id = t.id
WHERE cs.id = $1 AND cs.auth0_sub = $2
ORDER BY t.day_index
"""

SUBMISSIONS_SQL = """
SELECT s.id, s.candidate_session_id, cs.candidate_name, s.task_id, t.day_index, t.type,
       s.submitted_at, s.late, s.cutoff_sha, s.integrity_findings, w.repo_full_name,
       w.repo_url, w.base_template_sha, r.status AS run_status, r.passed, r.failed, r.skipped,
       r.total, r.head_sha, r.result_code, g.status AS grading_status,
       g.passed AS grading_passed, g.total AS grading_total, g.visible_passed,
       g.visible_total, count(*) OVER () AS total_count
FROM users AS u
JOIN simulations AS sim ON sim.company_id = u.company_id
JOIN candidate_sessions AS cs ON cs.simulation_id = sim.id
JOIN submissions AS s ON s.candidate_session_id = cs.id
JOIN tasks AS t ON t.id = s.task_id
LEFT JOIN workspaces AS w ON w.id = s.workspace_id
LEFT JOIN test_runs AS r ON r.id = s.test_run_id
LEFT JOIN gradings AS g ON g.submission_id = s.id
WHERE u.auth0_sub = $1
ORDER BY s.submitted_at DESC, s.id DESC
LIMIT $2
"""


def _moment(value: datetime) -> str:
    # As pydantic writes an aware UTC datetime.
    return value.isoformat().replace("+00:00", "Z")


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def _not_found() -> Response:
    return _json({"status": 404, "title": "Not Found"}, 404)


def _public_status(phase: str) -> str:
    return "queued" if phase == "dispatching" else phase


def _run(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "runId": row["id"],
        "status": _public_status(row["status"]),
        "phase": row["status"],
        "conclusion": row["conclusion"],
        "passed": row["passed"],
        "failed": row["failed"],
        "skipped": row["skipped"],
        "errors": row["errors"],
        "total": row["total"],
        "durationMs": row["duration_ms"],
        "stdout": row["stdout"],
        "stderr": row["stderr"],
        "stdoutTruncated": row["stdout_truncated"],
        "stderrTruncated": row["stderr_truncated"],
        "tests": json.loads(row["tests"]),
        "workflowRunId": row["github_run_id"],
        "workflowUrl": row["github_run_url"],
        "commitSha": row["head_sha"],
        "artifactName": row["artifact_name"],
        "resultCode": row["result_code"],
        "pollAfterMs": POLL_AFTER_MS if row["status"] in ACTIVE_RUN_STATUSES else None,
    }


def _current_task(cs_id: int, rows: list[asyncpg.Record]) -> dict[str, Any]:
    tasks = [row for row in rows if row["id"] is not None]
    current = next((row for row in tasks if not row["submitted"]), None)
    completed = [row["id"] for row in tasks if row["submitted"]]
    started = rows[0]["started"]
    state = rows[0]["status"]
    return {
        "candidateSessionId": cs_id,
        "status": "not_started" if state == "invited" else state,
        "state": state,
        "currentDayIndex": current["day_index"] if current else None,
        "currentTask": {
            "id": current["id"],
            "dayIndex": current["day_index"],
            "title": current["title"],
            "type": current["type"],
            "description": current["description"],
        }
        if current
        else None,
        "completedTaskIds": completed,
        "progress": {
            "completed": len(completed),
            "current": min(len(completed) + 1, len(tasks)) if started else 0,
            "total": len(tasks),
        },
        "isComplete": current is None,
    }


def _integrity_flags(row: asyncpg.Record) -> list[str]:
    flags = []
    for finding in json.loads(row["integrity_findings"] or "[]"):
        flag = f"{finding['change']}:{finding['path']}"
        _, _, key = str(finding.get("rule") or "").partition("#")
        flags.append(f"{flag}#{key}" if key else flag)
    if row["head_sha"] and row["cutoff_sha"] and row["head_sha"] != row["cutoff_sha"]:
        flags.append("run-not-at-cutoff")
    graded = (
        (row["visible_passed"], row["visible_total"])
        if row["grading_status"] == "completed"
        and row["visible_passed"] is not None
        and row["visible_total"] is not None
        else None
    )
    if (
        graded is not None
        and row["result_code"] == "OK"
        and row["passed"] is not None
        and row["total"] is not None
        and (row["passed"], row["total"]) != graded
    ):
        flags.append("results-mismatch")
    return flags


def _submission(row: asyncpg.Record) -> dict[str, Any]:
    repo_url, cutoff, base = row["repo_url"], row["cutoff_sha"], row["base_template_sha"]
    return {
        "submissionId": row["id"],
        "candidateSessionId": row["candidate_session_id"],
        "candidateName": row["candidate_name"],
        "taskId": row["task_id"],
        "dayIndex": row["day_index"],
        "type": row["type"],
        "submittedAt": _moment(row["submitted_at"]),
        "late": row["late"],
        "repoFullName": row["repo_full_name"],
        "repoUrl": repo_url,
        "commitSha": cutoff,
        "commitUrl": f"{repo_url}/commit/{cutoff}" if repo_url and cutoff else None,
        "diffUrl": f"{repo_url}/compare/{base}...{cutoff}"
        if repo_url and base and cutoff
        else None,
        "testSummary": {
            "status": _public_status(row["run_status"]),
            "passed": row["passed"],
            "failed": row["failed"],
            "skipped": row["skipped"],
            "total": row["total"],
        }
        if row["run_status"] is not None
        else None,
        "grading": {
            "status": row["grading_status"],
            "passed": row["grading_passed"],
            "total": row["grading_total"],
        }
        if row["grading_status"] is not None
        else None,
        "integrityFlags": _integrity_flags(row),
    }


def _cursor(row: asyncpg.Record) -> str:
    raw = f"{row['submitted_at'].isoformat()}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def _keep_connection(connection: asyncpg.Connection) -> None:
    return None


def create_app(database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # No reset round trip on release: these requests leave no session state behind.
        async with asyncpg.create_pool(
            database_url, min_size=1, max_size=20, reset=_keep_connection
        ) as pool:
            app.state.pool = pool
            yield

    app = FastAPI(lifespan=lifespan, openapi_url=None)

    def pool_of(request: Request) -> asyncpg.Pool:
        pool: asyncpg.Pool = request.app.state.pool
        return pool

    @app.get("/health")
    async def health() -> Response:
        return _json({"status": "ok"})

    @app.get("/api/tasks/{task_id}/run/{run_id}")
    async def get_run(
        task_id: int,
        run_id: int,
        request: Request,
        cs_id: Annotated[int, Header(alias="x-candidate-session-id")],
        subject: Annotated[str, Header(alias=SUBJECT_HEADER)],
    ) -> Response:
        row = await pool_of(request).fetchrow(RUN_SQL, run_id, task_id, cs_id, subject)
        return _not_found() if row is None else _json(_run(row))

    @app.get("/api/candidate/session/{cs_id}/current_task")
    async def current_task(
        cs_id: int, request: Request, subject: Annotated[str, Header(alias=SUBJECT_HEADER)]
    ) -> Response:
        rows = await pool_of(request).fetch(CURRENT_TASK_SQL, cs_id, subject)
        return _not_found() if not rows else _json(_current_task(cs_id, rows))

    @app.get("/api/submissions")
    async def submissions(
        request: Request, subject: Annotated[str, Header(alias=SUBJECT_HEADER)], limit: int = 50
    ) -> Response:
        rows = await pool_of(request).fetch(SUBMISSIONS_SQL, subject, limit)
        return _json(
            {
                "items": [_submission(row) for row in rows],
                "total": rows[0]["total_count"] if rows else 0,
                "nextCursor": _cursor(rows[-1]) if rows and len(rows) == limit else None,
            }
        )

    return app


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # As `tenon serve` runs uvicorn (one worker, its automatic loop and HTTP choice, no
    # server header), with uvicorn's own access log standing in for Tenon's.
    uvicorn.run(
        create_app(args.database_url),
        host=args.host,
        port=args.port,
        server_header=False,
        proxy_headers=False,
        access_log=True,
        log_level="info",
    )


if __name__ == "__main__":
    cli()
