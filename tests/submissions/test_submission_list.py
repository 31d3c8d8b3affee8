"""The recruiter's submission list: the page and its total in one statement that never
reads content, patches, output or secrets; pages, totals and filters within the company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.companies.models import Company
from app.simulations.models import Simulation
from app.submissions.models import Submission
from tests.support.api import bearer
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_recruiter,
    create_simulation,
    create_submission,
    create_tasks,
    create_test_run,
    create_workspace,
)
from tests.support.identity import IdentityProvider
from tests.support.statements import recorded_statements

# Columns a list item never shows: what was handed in, the diff, the run's output, the
# invite token.
HEAVY_COLUMNS = (
    "content_text",
    "reflection",
    "diff_summary",
    "stdout",
    "stderr",
    "token_ciphertext",
)


@dataclass(frozen=True)
class Tenant:
    company: Company
    simulation: Simulation
    headers: dict[str, str]
    submissions: list[Submission]  # newest first


async def _company(db: AsyncSession, idp: IdentityProvider, name: str, submissions: int) -> Tenant:
    company = await create_company(db)
    subject = f"auth0|{name}"
    await create_recruiter(db, company, auth0_sub=subject, email=f"{name}@example.com")
    simulation = await create_simulation(db, company)
    tasks = await create_tasks(db, simulation)
    cs = await create_candidate_session(db, simulation, status="in_progress")
    workspace = await create_workspace(db, cs)
    workspace.repo_full_name = f"tenon-workspaces/{name}-{cs.id}"
    workspace.repo_url = f"https://github.com/{workspace.repo_full_name}"
    workspace.base_template_sha = "b" * 40
    run = await create_test_run(db, workspace, tasks[1], status="passed")
    run.passed, run.total, run.head_sha, run.stdout = 3, 3, "c" * 40, "ok " * 1000
    start = datetime(2026, 12, 1, tzinfo=UTC)
    made = []
    for day, task in enumerate(tasks[:submissions]):
        is_code = task.type == "code"
        submission = await create_submission(
            db,
            cs,
            task,
            content_text="answer " * 1000,
            workspace=workspace if is_code else None,
            test_run=run if is_code else None,
        )
        submission.submitted_at = start + timedelta(hours=day)
        submission.cutoff_sha = "c" * 40 if is_code else None
        submission.diff_summary = {"patch": "+ line\n" * 1000}
        made.append(submission)
    await db.flush()
    token = idp.token(subject=subject, email=f"{name}@example.com")
    return Tenant(company, simulation, bearer(token), made[::-1])


async def test_a_page_and_its_total_come_from_one_statement_without_heavy_columns(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession, engine: AsyncEngine
) -> None:
    ours = await _company(db_session, idp, "ours", submissions=3)
    await _company(db_session, idp, "theirs", submissions=2)

    with recorded_statements(engine) as statements:
        response = await client.get("/api/submissions?limit=2", headers=ours.headers)

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 3
    assert [item["submissionId"] for item in page["items"]] == [s.id for s in ours.submissions[:2]]
    code_item = page["items"][1]
    assert code_item["type"] == "code"
    assert code_item["commitUrl"].endswith("/commit/" + "c" * 40)
    assert code_item["diffUrl"].endswith(f"/compare/{'b' * 40}...{'c' * 40}")
    assert code_item["testSummary"] == {
        "status": "passed",
        "passed": 3,
        "failed": None,
        "skipped": None,
        "total": 3,
    }
    assert code_item["integrityFlags"] == []
    assert page["nextCursor"] is not None
    # The recruiter (one indexed lookup), the page with its total, the page's gradings.
    assert len(statements) == 3, statements
    listing = next(s for s in statements if "FROM submissions" in s)
    assert "count(" in listing
    assert not [column for column in HEAVY_COLUMNS if column in "".join(statements)]


async def test_pages_follow_each_other_and_an_empty_last_page_keeps_the_total(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    ours = await _company(db_session, idp, "pager", submissions=4)

    first = (await client.get("/api/submissions?limit=2", headers=ours.headers)).json()
    second = (
        await client.get(
            f"/api/submissions?limit=2&cursor={first['nextCursor']}", headers=ours.headers
        )
    ).json()
    beyond = (
        await client.get(
            f"/api/submissions?limit=2&cursor={second['nextCursor']}", headers=ours.headers
        )
    ).json()

    seen = [item["submissionId"] for item in first["items"] + second["items"]]
    assert seen == [s.id for s in ours.submissions]
    assert (first["total"], second["total"]) == (4, 4)
    assert beyond == {"items": [], "total": 4, "nextCursor": None}


async def test_another_companys_submissions_are_neither_listed_nor_counted(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    ours = await _company(db_session, idp, "mine", submissions=2)
    theirs = await _company(db_session, idp, "yours", submissions=3)
    their_cs_id = theirs.submissions[0].candidate_session_id

    own = (await client.get("/api/submissions", headers=ours.headers)).json()
    by_their_simulation = await client.get(
        f"/api/submissions?simulationId={theirs.simulation.id}", headers=ours.headers
    )
    by_their_session = await client.get(
        f"/api/submissions?candidateSessionId={their_cs_id}", headers=ours.headers
    )

    assert own["total"] == 2
    assert {item["submissionId"] for item in own["items"]} == {s.id for s in ours.submissions}
    for response in (by_their_simulation, by_their_session):
        assert response.status_code == 200
        assert response.json() == {"items": [], "total": 0, "nextCursor": None}
