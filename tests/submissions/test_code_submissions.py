"""Code submissions end to end over real HTTP, with Tenon's in-process worker and the GitHub
emulator running the template's workflow: the submitted commit is cut off, diffed against
the template and tested in a final run; edits to tests or the workflow raise integrity
flags; the candidate's access ends with the session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.db import Database
from tests.support.emulator import bare_repo, eventually, run_git
from tests.support.identity import IdentityProvider
from tests.support.stack import (
    BROKEN_LINE,
    FIXED_LINE,
    Stack,
    candidate_headers,
    claimed_simulation,
    commit_file,
    ready_workspace,
    stack,
    workspace_for,
)


async def _reviewed(s: Stack, submission_id: int) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        detail: dict[str, Any] = (
            await s.tenon.get(f"/api/submissions/{submission_id}", headers=s.recruiter)
        ).json()
        finished = detail["testResults"] and detail["testResults"]["status"] in (
            "passed",
            "failed",
            "error",
        )
        return detail if detail["diffSummary"] is not None and finished else None

    return await eventually(done, within=90, interval=0.3)


async def test_a_code_submission_is_reviewed_and_access_ends_with_the_session(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        tasks = [
            {"dayIndex": 1, "type": "debug", "title": "Fix", "description": "Fix the bugs."},
            {"dayIndex": 2, "type": "handoff", "title": "Handoff", "description": "Hand over."},
        ]
        day = await claimed_simulation(s, tasks)
        debug_id, handoff_id = day[1], day[2]
        workspace = await workspace_for(s, debug_id)
        repo = workspace["repoFullName"]
        head = await commit_file(
            s, repo, "app/store.py", lambda src: src.replace(BROKEN_LINE, FIXED_LINE)
        )

        submitted = await s.tenon.post(
            f"/api/tasks/{debug_id}/submit",
            json={"contentText": "Fixed the pagination."},
            headers=candidate_headers(s),
        )
        assert submitted.status_code == 201, submitted.text
        assert submitted.json()["cutoffSha"] == head
        # Pushed after submitting: the final run must still test the submitted commit.
        await commit_file(s, repo, "NOTES.md", lambda _: "after the deadline of this task\n")
        detail = await _reviewed(s, submitted.json()["submissionId"])

        handoff = await s.tenon.post(
            f"/api/tasks/{handoff_id}/submit",
            json={"contentText": "Notes."},
            headers=candidate_headers(s),
        )
        assert handoff.json()["isComplete"] is True

        async def revoked() -> str | None:
            permission = (
                await s.github.get(f"/repos/{repo}/collaborators/rae-dev/permission")
            ).json()
            return permission["permission"] if permission["permission"] != "write" else None

        access = await eventually(revoked, within=30, interval=0.2)
        listing = (
            await s.tenon.get(f"/api/submissions?candidateSessionId={s.cs_id}", headers=s.recruiter)
        ).json()
        exported = await s.tenon.get(
            f"/api/simulations/{s.simulation_id}/results.csv", headers=s.recruiter
        )

    assert detail["code"]["cutoffSha"] == head
    assert detail["code"]["baseTemplateSha"] == workspace["baseTemplateSha"]
    summary = detail["diffSummary"]
    assert (summary["filesChanged"], summary["additions"], summary["deletions"]) == (1, 1, 1)
    assert summary["files"][0]["filename"] == "app/store.py"
    assert detail["integrity"] == []
    assert detail["integrityFlags"] == []
    results = detail["testResults"]
    assert (results["status"], results["failed"], results["total"]) == ("failed", 2, 15)
    assert results["commitSha"] == head
    assert len(results["tests"]) == 15
    assert access in ("none", "read")
    debug_item = next(item for item in listing["items"] if item["type"] == "debug")
    assert debug_item["commitSha"] == head
    assert debug_item["diffUrl"].endswith(f"/compare/{workspace['baseTemplateSha']}...{head}")
    assert debug_item["testSummary"]["failed"] == 2
    header, row = [line.split(",") for line in exported.text.strip().splitlines()]
    assert row[header.index("day1_debug_tests_passed")] == "13"
    assert row[header.index("day1_debug_tests_total")] == "15"


async def test_editing_tests_or_the_workflow_raises_integrity_flags(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
        repo = workspace["repoFullName"]
        await commit_file(s, repo, "tests/conftest.py", lambda src: src + "\n# relaxed\n")
        await commit_file(
            s, repo, ".github/workflows/tenon-ci.yml", lambda src: src + "\n# tweaked\n"
        )
        submitted = await s.tenon.post(
            f"/api/tasks/{task_id}/submit", json={}, headers=candidate_headers(s)
        )
        assert submitted.status_code == 201, submitted.text
        detail = await _reviewed(s, submitted.json()["submissionId"])
    assert {(f["path"], f["change"], f["rule"]) for f in detail["integrity"]} == {
        ("tests/conftest.py", "modified", "tests/**"),
        (".github/workflows/tenon-ci.yml", "modified", ".github/workflows/**"),
    }
    assert sorted(detail["integrityFlags"]) == [
        "modified:.github/workflows/tenon-ci.yml",
        "modified:tests/conftest.py",
    ]


DEBUG_FIXES = {
    "app/store.py": (BROKEN_LINE, FIXED_LINE),
    "app/models.py": (
        '    model_config = ConfigDict(extra="forbid")\n',
        '    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)\n',
    ),
    "app/main.py": (
        "            status_code=status.HTTP_400_BAD_REQUEST,\n",
        "            status_code=status.HTTP_409_CONFLICT,\n",
    ),
}
FEATURE = (
    "def matches(text: str, query: str) -> bool:\n    return query.lower() in text.lower()\n\n"
)


async def test_a_candidate_completes_all_five_days(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        day = await claimed_simulation(s)
        submissions = {}

        async def submit(day_index: int, body: dict[str, Any]) -> None:
            response = await s.tenon.post(
                f"/api/tasks/{day[day_index]}/submit", json=body, headers=candidate_headers(s)
            )
            assert response.status_code == 201, response.text
            submissions[day_index] = response.json()

        await submit(1, {"contentText": "Design: filters as a pure function."})
        code = await workspace_for(s, day[2])
        await commit_file(s, code["repoFullName"], "app/filters.py", lambda _: FEATURE)
        await submit(2, {"contentText": "Added filters."})
        debug = await workspace_for(s, day[3])
        for path, (wrong, right) in DEBUG_FIXES.items():
            await commit_file(
                s, debug["repoFullName"], path, lambda src, w=wrong, r=right: src.replace(w, r)
            )
        await submit(3, {})
        await submit(4, {"contentText": "Handoff notes."})
        await submit(5, {"contentText": "Docs."})
        reviewed = {n: await _reviewed(s, submissions[n]["submissionId"]) for n in (2, 3)}
        listing = (
            await s.tenon.get(f"/api/submissions?candidateSessionId={s.cs_id}", headers=s.recruiter)
        ).json()
        permissions = [
            (await s.github.get(f"/repos/{repo}/collaborators/rae-dev/permission")).json()
            for repo in (code["repoFullName"], debug["repoFullName"])
        ]

    assert submissions[5]["isComplete"] is True
    assert listing["total"] == 5
    assert [item["dayIndex"] for item in listing["items"]] == [5, 4, 3, 2, 1]
    feature = reviewed[2]["diffSummary"]
    assert (feature["filesChanged"], feature["additions"], feature["deletions"]) == (1, 3, 0)
    assert feature["files"][0]["status"] == "added"
    fixes = reviewed[3]["diffSummary"]
    assert (fixes["filesChanged"], fixes["additions"], fixes["deletions"]) == (3, 3, 3)
    assert {f["filename"] for f in fixes["files"]} == set(DEBUG_FIXES)
    for detail in reviewed.values():
        assert detail["testResults"]["status"] == "passed"
        assert (detail["testResults"]["passed"], detail["testResults"]["total"]) == (15, 15)
        assert detail["integrityFlags"] == []
    assert all(p["permission"] != "write" for p in permissions)


async def test_a_diff_over_githubs_300_file_cap_is_reported_truncated(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
        work = tmp_path / "clone"
        run_git(
            "clone", "--quiet", str(bare_repo(s.emulator, workspace["repoFullName"])), str(work)
        )
        for index in range(305):
            (work / "generated" / f"f{index:03}.txt").parent.mkdir(exist_ok=True)
            (work / "generated" / f"f{index:03}.txt").write_text(f"{index}\n")
        run_git("add", "--all", cwd=work)
        run_git("commit", "--quiet", "-m", "many files", cwd=work)
        run_git("push", "--quiet", "origin", "HEAD:main", cwd=work)
        submitted = await s.tenon.post(
            f"/api/tasks/{task_id}/submit", json={}, headers=candidate_headers(s)
        )
        detail = await _reviewed(s, submitted.json()["submissionId"])
    summary = detail["diffSummary"]
    assert summary["truncated"] is True
    assert summary["filesChanged"] == 300
