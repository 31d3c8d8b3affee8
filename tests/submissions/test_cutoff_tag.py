"""A code submit makes no GitHub change: it records the cutoff and answers, and a job tags
the cutoff (`tenon-submission-<id>`) and then queues the final run on the tag. Over real
HTTP with the emulator and Tenon's in-process worker: the tag and the final run appear
after GitHub failed the first attempt; a tag already at the cutoff is success; one at
another commit ends the tagging as `failed`, and the review says no final run will come."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.core.db import Database
from app.jobs.models import Job
from app.runs.models import TestRun
from app.submissions.models import Submission
from tests.support.emulator import bare_repo, eventually, run_git
from tests.support.identity import IdentityProvider
from tests.support.stack import Stack, candidate_headers, commit_file, ready_workspace, stack

CREATE_REF = r"^POST /repos/[^/]+/[^/]+/git/refs$"


async def _submit(s: Stack, task_id: int) -> dict[str, Any]:
    response = await s.tenon.post(
        f"/api/tasks/{task_id}/submit", json={}, headers=candidate_headers(s)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _detail(s: Stack, submission_id: int) -> dict[str, Any]:
    response = await s.tenon.get(f"/api/submissions/{submission_id}", headers=s.recruiter)
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def _tag_status_becomes(s: Stack, submission_id: int, status: str) -> dict[str, Any]:
    async def settled() -> dict[str, Any] | None:
        detail = await _detail(s, submission_id)
        return detail if detail["code"]["cutoffTagStatus"] == status else None

    return await eventually(settled, within=60, interval=0.2)


def _tagged(s: Stack, repo: str, tag: str) -> str:
    git_dir = str(bare_repo(s.emulator, repo))
    return run_git("--git-dir", git_dir, "rev-parse", f"refs/tags/{tag}").strip()


async def _next_submission_id(database: Database) -> int:
    """The id the next submission will get (this test's database makes no other)."""
    async with database.session_scope() as session:
        taken = await session.scalar(
            select(func.nextval(func.pg_get_serial_sequence("submissions", "id")))
        )
    assert taken is not None
    return int(taken) + 1


async def test_a_submit_answers_while_github_fails_the_tag_and_the_job_makes_it_later(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
        repo = workspace["repoFullName"]
        head = await commit_file(s, repo, "NOTES.md", lambda _: "done\n")
        faults = [{"route": CREATE_REF, "status": 502, "times": 1}]
        assert (await s.github.post("/_emulator/faults", json=faults)).status_code < 300

        body = await _submit(s, task_id)
        pending = await _detail(s, body["submissionId"])
        created = await _tag_status_becomes(s, body["submissionId"], "created")
        tag = f"tenon-submission-{body['submissionId']}"
        tagged = _tagged(s, repo, tag)
        async with jobs_db.sessionmaker() as session:
            submission = await session.get(Submission, body["submissionId"])
            assert submission is not None
            final_run = await session.get(TestRun, submission.test_run_id)
            tagging = await session.scalar(
                select(Job).where(Job.dedupe_key == f"tag:{body['submissionId']}")
            )

    assert body["cutoffSha"] == head
    # While the job is pending the review shows no tag and no final run.
    assert pending["code"]["cutoffSha"] == head
    if pending["code"]["cutoffTagStatus"] == "pending":
        assert (pending["code"]["cutoffTag"], pending["testResults"]) == (None, None)
    assert created["code"]["cutoffTag"] == tag
    assert created["testResults"] is not None
    assert tagged == head
    assert final_run is not None
    assert final_run.requested_ref == tag
    assert tagging is not None
    assert (tagging.state, tagging.attempts) == ("succeeded", 2)
    assert tagging.last_error is not None
    assert "502" in tagging.last_error


async def _tag_the_next_submission(s: Stack, database: Database, repo: str, sha: str) -> str:
    """Create, at `sha`, the cutoff tag the next submission will want."""
    tag = f"tenon-submission-{await _next_submission_id(database)}"
    made = await s.github.post(
        f"/repos/{repo}/git/refs", json={"ref": f"refs/tags/{tag}", "sha": sha}
    )
    assert made.status_code == 201, made.text
    return tag


async def test_a_tag_already_at_the_cutoff_counts_as_made(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
        repo = workspace["repoFullName"]
        head = await commit_file(s, repo, "NOTES.md", lambda _: "done\n")
        # As left by an attempt whose answer was lost: the tag exists, at the cutoff.
        tag = await _tag_the_next_submission(s, jobs_db, repo, head)

        body = await _submit(s, task_id)
        created = await _tag_status_becomes(s, body["submissionId"], "created")

    assert f"tenon-submission-{body['submissionId']}" == tag
    assert created["code"]["cutoffTag"] == tag
    assert created["testResults"] is not None


async def test_a_tag_at_another_commit_fails_the_tagging_for_good(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
        repo = workspace["repoFullName"]
        base = workspace["baseTemplateSha"]
        head = await commit_file(s, repo, "NOTES.md", lambda _: "done\n")
        tag = await _tag_the_next_submission(s, jobs_db, repo, base)

        body = await _submit(s, task_id)
        failed = await _tag_status_becomes(s, body["submissionId"], "failed")
        async with jobs_db.sessionmaker() as session:
            runs = await session.scalar(
                select(func.count()).select_from(TestRun).where(TestRun.requested_ref == tag)
            )

    assert body["cutoffSha"] == head != base
    assert (failed["code"]["cutoffTag"], failed["testResults"]) == (None, None)
    assert runs == 0
