"""Grading end to end over real HTTP: Tenon with its in-process worker, the GitHub emulator
running the candidate's final run and a grader (written by the test) for the submitted
commit. Recruiters see the grader's results, hidden tests included; candidates never do."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

from app.core.db import Database
from tests.support.api import bearer
from tests.support.emulator import eventually
from tests.support.factories import create_company, create_recruiter
from tests.support.grader import GRADER, grader_tests, grading_workflow, templates_with_graders
from tests.support.identity import IdentityProvider
from tests.support.stack import Stack, candidate_headers, ready_workspace, stack

GRADER_REPO = f"tenon-templates/{GRADER}"
# The python-fastapi code template passes its 15 visible tests as generated.
VISIBLE_TOTAL = 15


async def _submit_and_wait_for_the_grading(s: Stack, task_id: int) -> dict[str, Any]:
    submitted = await s.tenon.post(
        f"/api/tasks/{task_id}/submit", json={}, headers=candidate_headers(s)
    )
    assert submitted.status_code == 201, submitted.text
    submission_id = submitted.json()["submissionId"]

    async def graded() -> dict[str, Any] | None:
        detail: dict[str, Any] = (
            await s.tenon.get(f"/api/submissions/{submission_id}", headers=s.recruiter)
        ).json()
        run, grading = detail["testResults"], detail["grading"]
        done = run and run["status"] in ("passed", "failed", "error")
        return detail if done and grading["status"] in ("completed", "error") else None

    return await eventually(graded, within=120, interval=0.3)


def _csv_row(text: str) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    return rows[0]


async def test_a_submission_is_graded_and_only_recruiters_see_the_hidden_tests(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    tests = grader_tests("visible", VISIBLE_TOTAL) + grader_tests("hidden", 2, 1)
    templates = templates_with_graders(tmp_path, {GRADER: grading_workflow(tests)})
    email = f"other-{uuid.uuid4().hex[:6]}@elsewhere.example"
    async with jobs_db.session_scope() as session:
        await create_recruiter(session, await create_company(session), email=email)
    outsider = bearer(idp.token(subject=f"auth0|{email}", email=email))

    async with stack(tmp_path, jobs_database_url, jobs_db, idp, templates_dir=templates) as s:
        task_id, _ = await ready_workspace(s, "code")
        detail = await _submit_and_wait_for_the_grading(s, task_id)
        submission_id = detail["submissionId"]
        grader_head = (await s.github.get(f"/repos/{GRADER_REPO}/branches/main")).json()
        listing = (
            await s.tenon.get(f"/api/submissions?candidateSessionId={s.cs_id}", headers=s.recruiter)
        ).json()
        exported = await s.tenon.get(
            f"/api/simulations/{s.simulation_id}/results.csv", headers=s.recruiter
        )
        candidate_views = [
            await s.tenon.get("/api/candidate/invites", headers=s.candidate),
            await s.tenon.get(
                f"/api/candidate/session/{s.cs_id}/current_task", headers=s.candidate
            ),
            await s.tenon.get(
                f"/api/tasks/{task_id}/codespace/status", headers=candidate_headers(s)
            ),
            await s.tenon.get(
                f"/api/tasks/{task_id}/run/{detail['testResults']['runId']}",
                headers=candidate_headers(s),
            ),
        ]
        outsider_detail = await s.tenon.get(f"/api/submissions/{submission_id}", headers=outsider)
        outsider_list = (await s.tenon.get("/api/submissions", headers=outsider)).json()

    grading = detail["grading"]
    assert grading["status"] == "completed"
    assert grading["graderRepo"] == GRADER_REPO
    assert grading["graderSha"] == grader_head["commit"]["sha"]
    assert grading["candidateSha"] == detail["code"]["cutoffSha"]
    assert grading["workflowRunId"] is not None
    assert len(grading["artifactSha256"]) == 64
    assert (grading["passed"], grading["failed"], grading["total"]) == (17, 1, 18)
    assert grading["hidden"] == {"passed": 2, "total": 3}
    assert grading["visible"] == {"passed": VISIBLE_TOTAL, "total": VISIBLE_TOTAL}
    assert grading["resultCode"] == "OK"
    hidden_names = {test["name"] for test in grading["tests"] if test["hidden"]}
    assert hidden_names == {"test_hidden_0", "test_hidden_1", "test_hidden_2"}
    assert len(grading["tests"]) == 18
    # The final run and the grader agree on the visible tests: no mismatch.
    assert (detail["testResults"]["passed"], detail["testResults"]["total"]) == (15, 15)
    assert "results-mismatch" not in detail["integrityFlags"]

    item = next(item for item in listing["items"] if item["submissionId"] == submission_id)
    assert item["grading"] == {"status": "completed", "passed": 17, "total": 18}
    row = _csv_row(exported.text)
    assert (row["day1_code_grader_passed"], row["day1_code_grader_total"]) == ("17", "18")
    assert (row["day1_code_hidden_passed"], row["day1_code_hidden_total"]) == ("2", "3")
    assert row["day1_code_tests_passed"] == "15"

    for response in candidate_views:
        assert response.status_code == 200, response.text
        assert "test_hidden" not in response.text
        assert "hidden." not in response.text
        assert '"grading"' not in response.text
    assert outsider_detail.status_code == 404
    assert outsider_detail.json()["code"] == "SUBMISSION_NOT_FOUND"
    assert outsider_list["items"] == []


async def test_without_webhooks_the_poller_completes_the_grading_and_a_mismatch_is_flagged(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    # The grader fails one of the template's visible tests the candidate's own run passes;
    # its hidden tests all pass, and do not count in the comparison.
    tests = grader_tests("visible", VISIBLE_TOTAL - 1, 1) + grader_tests("hidden", 2)
    templates = templates_with_graders(tmp_path, {GRADER: grading_workflow(tests)})
    async with stack(
        tmp_path, jobs_database_url, jobs_db, idp, webhooks=False, templates_dir=templates
    ) as s:
        task_id, _ = await ready_workspace(s, "code")
        detail = await _submit_and_wait_for_the_grading(s, task_id)
        listing = (
            await s.tenon.get(f"/api/submissions?candidateSessionId={s.cs_id}", headers=s.recruiter)
        ).json()
        exported = await s.tenon.get(
            f"/api/simulations/{s.simulation_id}/results.csv", headers=s.recruiter
        )

    grading = detail["grading"]
    assert grading["status"] == "completed"
    assert grading["visible"] == {"passed": VISIBLE_TOTAL - 1, "total": VISIBLE_TOTAL}
    assert grading["hidden"] == {"passed": 2, "total": 2}
    assert (detail["testResults"]["passed"], detail["testResults"]["total"]) == (15, 15)
    assert "results-mismatch" in detail["integrityFlags"]
    assert "results-mismatch" in listing["items"][0]["integrityFlags"]
    assert "results-mismatch" in _csv_row(exported.text)["integrity_flags"].split()
