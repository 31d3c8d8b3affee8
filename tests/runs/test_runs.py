"""Test runs end to end over real HTTP: Tenon served by uvicorn with its in-process worker,
the GitHub emulator running the template's workflow for real and sending signed
webhooks back, the candidate watching the run over Server-Sent Events."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

from app.core.db import Database
from app.github_emulator.faults import FaultRule
from tests.support.api import assert_problem
from tests.support.emulator import bare_repo, eventually, run_git
from tests.support.identity import IdentityProvider
from tests.support.stack import (
    Stack,
    candidate_headers,
    claimed_simulation,
    one_task,
    ready_workspace,
    stack,
    workspace_for,
)

BROKEN_LINE = "        start = page * page_size\n"
FIXED_LINE = "        start = (page - 1) * page_size\n"


async def _push_fix(s: Stack, repo: str) -> str:
    """The candidate fixes the pagination bug with a commit, as a push would."""
    current = (await s.github.get(f"/repos/{repo}/contents/app/store.py")).json()
    source = base64.b64decode(current["content"]).decode()
    fixed = source.replace(BROKEN_LINE, FIXED_LINE).encode()
    put = await s.github.put(
        f"/repos/{repo}/contents/app/store.py",
        json={
            "message": "Fix pagination",
            "content": base64.b64encode(fixed).decode(),
            "sha": current["sha"],
            "branch": "main",
        },
    )
    assert put.status_code == 200, put.text
    sha: str = put.json()["commit"]["sha"]
    return sha


async def _stream(s: Stack, task_id: int, run_id: int) -> list[dict[str, Any]]:
    return await asyncio.wait_for(_read_stream(s, task_id, run_id), 60)


async def _read_stream(s: Stack, task_id: int, run_id: int) -> list[dict[str, Any]]:
    events = []
    async with s.tenon.stream(
        "GET", f"/api/tasks/{task_id}/run/{run_id}/events", headers=candidate_headers(s)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line.removeprefix("data:").strip()))
    return events


async def test_a_debug_run_streams_to_completion_with_the_planted_failures(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "debug")
        started = await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        assert started.status_code == 202, started.text
        assert started.json()["status"] == "queued"
        assert started.json()["pollAfterMs"] > 0
        run_id = started.json()["runId"]

        events = await _stream(s, task_id, run_id)
        result = (
            await s.tenon.get(f"/api/tasks/{task_id}/run/{run_id}", headers=candidate_headers(s))
        ).json()

    statuses = [event["status"] for event in events]
    assert statuses[-1] == "failed"
    assert "running" in statuses
    order = ["queued", "dispatching", "running", "failed"]
    assert [order.index(status) for status in statuses] == sorted(
        order.index(status) for status in statuses
    )  # never backwards
    assert result == events[-1]
    assert (result["passed"], result["failed"], result["total"]) == (11, 4, 15)
    assert result["conclusion"] == "failure"
    assert result["resultCode"] == "OK"
    assert result["artifactName"] == "tenon-test-results"
    assert result["commitSha"] == workspace["baseTemplateSha"]
    failing = sorted(test["name"] for test in result["tests"] if test["status"] == "failed")
    assert len(failing) == 4
    assert "test_list_tasks_paginates" in failing
    assert len(result["tests"]) == 15


async def test_a_fixed_bug_passes_and_the_workspace_remembers_the_run(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
        head = await _push_fix(s, workspace["repoFullName"])
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        events = await _stream(s, task_id, run_id)
        status = (
            await s.tenon.get(
                f"/api/tasks/{task_id}/codespace/status", headers=candidate_headers(s)
            )
        ).json()
    assert events[-1]["status"] == "passed"
    assert events[-1]["commitSha"] == head
    assert status["latestCommitSha"] == head
    assert status["lastRun"]["runId"] == run_id
    assert status["lastRun"]["passed"] == 15


async def test_without_webhooks_the_poller_completes_the_run(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp, webhooks=False) as s:
        task_id, _ = await ready_workspace(s, "code")
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        seen = []

        async def final() -> dict[str, Any] | None:
            run: dict[str, Any] = (
                await s.tenon.get(
                    f"/api/tasks/{task_id}/run/{run_id}", headers=candidate_headers(s)
                )
            ).json()
            seen.append(run["resultCode"])
            return run if run["status"] in ("passed", "failed", "error") else None

        result = await eventually(final, within=90, interval=0.2)
    assert result["status"] == "passed"
    assert result["total"] == 15
    # Polled all along while it ran: never an "artifact missing" on the way.
    assert set(seen[:-1]) <= {None}


async def test_runs_need_aready_workspace(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id = (await claimed_simulation(s, one_task("code")))[1]
        response = await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
    assert_problem(response, 409, "WORKSPACE_NOT_READY")


async def test_the_run_completes_through_502s_and_a_secondary_rate_limit(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    faults = (
        FaultRule(route=r"^POST .*/dispatches$", rate_limit="secondary", retry_after=1, times=1),
        FaultRule(route=r"^(GET|POST|PUT) /(repos|users)/", error_rate=0.3, status=502),
    )
    async with stack(tmp_path, jobs_database_url, jobs_db, idp, faults=faults, fault_seed=11) as s:
        task_id, _ = await ready_workspace(s, "debug")
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        events = await _stream(s, task_id, run_id)
        stats = (await s.github.get("/_emulator/stats")).json()
    assert events[-1]["status"] == "failed"
    assert (events[-1]["passed"], events[-1]["failed"]) == (11, 4)
    assert stats["faults_injected_total"] >= 3


async def test_a_client_leaving_the_stream_early_is_let_go(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, _ = await ready_workspace(s, "code")
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        hub = s.app.state.run_events
        path = f"/api/tasks/{task_id}/run/{run_id}/events"
        async with s.tenon.stream("GET", path, headers=candidate_headers(s)) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    break  # the first state arrived; the client hangs up
            assert hub.watched_runs == 1

        async def released() -> bool | None:
            return True if hub.watched_runs == 0 else None

        await eventually(released, within=10)
        final = await eventually(lambda: _final_run(s, task_id, run_id), within=60, interval=0.3)
    assert final["status"] == "passed"  # the run itself carried on


async def _final_run(s: Stack, task_id: int, run_id: int) -> dict[str, Any] | None:
    run: dict[str, Any] = (
        await s.tenon.get(f"/api/tasks/{task_id}/run/{run_id}", headers=candidate_headers(s))
    ).json()
    return run if run["status"] in ("passed", "failed", "error") else None


async def _commit(s: Stack, repo: str, path: str, rewrite: Any) -> str:
    """Commit `rewrite(current content)` to `path` (created when it does not exist)."""
    found = await s.github.get(f"/repos/{repo}/contents/{path}")
    current = found.json() if found.status_code == 200 else None
    source = base64.b64decode(current["content"]).decode() if current else ""
    body = {
        "message": f"Change {path}",
        "content": base64.b64encode(rewrite(source).encode()).decode(),
        "branch": "main",
    }
    if current:
        body["sha"] = current["sha"]
    put = await s.github.put(f"/repos/{repo}/contents/{path}", json=body)
    assert put.status_code in (200, 201), put.text
    sha: str = put.json()["commit"]["sha"]
    return sha


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
        head = await _commit(
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
        await _commit(s, repo, "NOTES.md", lambda _: "after the deadline of this task\n")
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
        await _commit(s, repo, "tests/conftest.py", lambda src: src + "\n# relaxed\n")
        await _commit(s, repo, ".github/workflows/tenon-ci.yml", lambda src: src + "\n# tweaked\n")
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
        await _commit(s, code["repoFullName"], "app/filters.py", lambda _: FEATURE)
        await submit(2, {"contentText": "Added filters."})
        debug = await workspace_for(s, day[3])
        for path, (wrong, right) in DEBUG_FIXES.items():
            await _commit(
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
