"""Trusted grading end to end for both graded templates, over real HTTP: Tenon's worker, the
GitHub emulator running the candidate's CI and the shipped grader's `tenon-grade.yml` for
real (a read-only token for the candidate's repository alone, checkout at the cutoff, the
candidate's service started as its own process and tested over HTTP).

An honest fix is graded correctly. A candidate who forges the visible result (an edited
results script, a conftest that flips failures, an edited workflow) and pushes the real fix
only after submitting gets the grader's true numbers for the cutoff commit and flags that
say what was done. No candidate response names a hidden test."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.db import Database
from tests.support.emulator import eventually
from tests.support.identity import IdentityProvider
from tests.support.stack import (
    Stack,
    candidate_headers,
    claimed_simulation,
    commit_file,
    stack,
    workspace_for,
)

FORGED_RESULTS = {"passed": 99, "failed": 0, "skipped": 0, "total": 99, "summary": "99 passed"}
FLIP_FAILURES = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.outcome = "passed"
"""


@dataclass(frozen=True)
class Graded:
    key: str
    # The debug variant's planted bugs: path -> [(wrong, right)].
    fixes: dict[str, list[tuple[str, str]]]
    results_script: str
    forged_results_script: str
    # Forgeries particular to the stack: path -> rewrite, and the flag each must raise.
    forgeries: dict[str, tuple[Callable[[str], str], str]]


PYTHON = Graded(
    key="python-fastapi",
    fixes={
        "app/store.py": [
            ("        start = page * page_size\n", "        start = (page - 1) * page_size\n")
        ],
        "app/models.py": [
            (
                '    model_config = ConfigDict(extra="forbid")\n',
                '    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)\n',
            )
        ],
        "app/main.py": [
            (
                "            status_code=status.HTTP_400_BAD_REQUEST,\n",
                "            status_code=status.HTTP_409_CONFLICT,\n",
            )
        ],
    },
    results_script="scripts/tenon_results.py",
    forged_results_script=(
        "from pathlib import Path\n\n"
        f"Path('tenon-test-results.json').write_text({json.dumps(json.dumps(FORGED_RESULTS))})\n"
    ),
    forgeries={"conftest.py": (lambda _: FLIP_FAILURES, "added:conftest.py")},
)
NODE = Graded(
    key="node-express-ts",
    fixes={
        "src/library.ts": [
            ("Math.floor(lateMs / DAY_MS)", "Math.ceil(lateMs / DAY_MS)"),
            ("active.length > MAX_ACTIVE_LOANS", "active.length >= MAX_ACTIVE_LOANS"),
            (
                '    if (loan === undefined) throw new LibraryError(404, "loan not found");\n',
                '    if (loan === undefined) throw new LibraryError(404, "loan not found");\n'
                "    if (loan.returnedAt !== null) "
                'throw new LibraryError(409, "this loan was already returned");\n',
            ),
        ]
    },
    results_script="scripts/tenon-results.mjs",
    forged_results_script=(
        "import { writeFileSync } from 'node:fs';\n"
        f"writeFileSync('tenon-test-results.json', {json.dumps(json.dumps(FORGED_RESULTS))});\n"
    ),
    forgeries={
        "package.json": (
            lambda src: json.dumps(
                json.loads(src) | {"scripts": json.loads(src)["scripts"] | {"test": "true"}},
                indent=2,
            ),
            "modified:package.json#scripts",
        )
    },
)
DEBUG_PLAN = [
    {"dayIndex": 1, "type": "debug", "title": "Fix", "description": "Fix the regressions."},
    {"dayIndex": 2, "type": "handoff", "title": "Handoff", "description": "Hand over."},
]


def _fixed(source: str, fixes: list[tuple[str, str]]) -> str:
    for wrong, right in fixes:
        assert wrong in source, wrong
        source = source.replace(wrong, right)
    return source


async def _fix_everything(s: Stack, repo: str, graded: Graded) -> str:
    head = ""
    for path, fixes in graded.fixes.items():
        head = await commit_file(s, repo, path, lambda src, f=fixes: _fixed(src, f))  # type: ignore[misc]
    return head


async def _graded(s: Stack, submission_id: int) -> dict[str, Any]:
    """The recruiter's detail once both the candidate's final run and the grading ended."""

    async def done() -> dict[str, Any] | None:
        detail: dict[str, Any] = (
            await s.tenon.get(f"/api/submissions/{submission_id}", headers=s.recruiter)
        ).json()
        grading = detail["grading"]
        graded = grading is not None and grading["status"] in ("completed", "error")
        tested = detail["testResults"] is not None and detail["testResults"]["status"] in (
            "passed",
            "failed",
            "error",
        )
        return detail if graded and tested and detail["diffSummary"] is not None else None

    return await eventually(done, within=420, interval=0.5)


async def _submit(s: Stack, task_id: int) -> dict[str, Any]:
    response = await s.tenon.post(
        f"/api/tasks/{task_id}/submit",
        json={"contentText": "Fixed the regressions."},
        headers=candidate_headers(s),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _candidate_responses(s: Stack, task_id: int) -> list[httpx.Response]:
    """Everything the candidate can read about the task, its runs and the session."""
    headers = candidate_headers(s)
    responses = [
        await s.tenon.get(f"/api/candidate/session/{s.cs_id}/current_task", headers=headers),
        await s.tenon.get(f"/api/tasks/{task_id}/codespace/status", headers=headers),
        await s.tenon.get("/api/candidate/invites", headers=headers),
    ]
    started = await s.tenon.post(f"/api/tasks/{task_id}/run", json={}, headers=headers)
    responses.append(started)
    if started.status_code == 202:
        run_id = started.json()["runId"]
        responses.append(await s.tenon.get(f"/api/tasks/{task_id}/run/{run_id}", headers=headers))
    return responses


def _grading_counts(grading: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        grading["passed"],
        grading["total"],
        grading["hidden"]["passed"],
        grading["hidden"]["total"],
    )


@pytest.mark.parametrize("graded", [PYTHON, NODE], ids=lambda g: g.key)
async def test_honest_and_forged_submissions_get_the_graders_true_numbers(
    graded: Graded,
    tmp_path: Path,
    jobs_database_url: str,
    jobs_db: Database,
    idp: IdentityProvider,
) -> None:
    async with stack(
        tmp_path, jobs_database_url, jobs_db, idp, graders=True, run_timeout_seconds=600.0
    ) as s:
        honest_task = (await claimed_simulation(s, DEBUG_PLAN, template_key=graded.key))[1]
        honest_repo = (await workspace_for(s, honest_task))["repoFullName"]
        honest_head = await _fix_everything(s, honest_repo, graded)
        honest = await _graded(s, (await _submit(s, honest_task))["submissionId"])

        forger_task = (await claimed_simulation(s, DEBUG_PLAN, template_key=graded.key))[1]
        forger_repo = (await workspace_for(s, forger_task))["repoFullName"]
        await commit_file(
            s, forger_repo, graded.results_script, lambda _: graded.forged_results_script
        )
        for path, (rewrite, _) in graded.forgeries.items():
            await commit_file(s, forger_repo, path, rewrite)
        cutoff = await commit_file(
            s,
            forger_repo,
            ".github/workflows/tenon-ci.yml",
            lambda src: src + "\n# the results step is ours now\n",
        )
        forged_submit = await _submit(s, forger_task)
        # The real fix, pushed after submitting: the grader must still grade the cutoff.
        late_head = await _fix_everything(s, forger_repo, graded)
        forged = await _graded(s, forged_submit["submissionId"])
        candidate_view = await _candidate_responses(s, forger_task)

    grading = honest["grading"]
    assert grading["status"] == "completed", grading
    assert grading["candidateSha"] == honest_head
    assert grading["graderRepo"] == f"tenon-templates/{graded.key}-debug-grader"
    assert len(grading["graderSha"]) == 40
    assert len(grading["artifactSha256"]) == 64
    assert grading["workflowRunId"] > 0
    passed, total, hidden_passed, hidden_total = _grading_counts(grading)
    assert hidden_total > 0
    assert total > hidden_total
    assert (passed, hidden_passed) == (total, hidden_total)
    assert len(grading["tests"]) == total
    assert {test["hidden"] for test in grading["tests"]} == {True, False}
    assert honest["testResults"]["passed"] == honest["testResults"]["total"]
    assert "results-mismatch" not in honest["integrityFlags"]

    fake = forged["grading"]
    assert fake["status"] == "completed", fake
    assert fake["candidateSha"] == cutoff != late_head
    assert fake["total"] == total
    assert fake["hidden"]["total"] == hidden_total
    assert fake["passed"] < total
    assert fake["hidden"]["passed"] < hidden_total
    failing = {t["name"] for t in fake["tests"] if t["status"] in ("failed", "error")}
    assert failing, fake["tests"]
    # The candidate's own final run believed the forgery; the grader did not.
    visible_run = forged["testResults"]
    assert (visible_run["passed"], visible_run["failed"]) == (99, 0)
    flags = set(forged["integrityFlags"])
    assert {
        f"modified:{graded.results_script}",
        "modified:.github/workflows/tenon-ci.yml",
        "results-mismatch",
    } <= flags
    assert {flag for _, flag in graded.forgeries.values()} <= flags
    rules = {finding["path"]: finding["rule"] for finding in forged["integrity"]}
    assert rules[graded.results_script] == "scripts/**"

    hidden_names = {t["name"] for t in fake["tests"] if t["hidden"]}
    assert hidden_names
    for response in candidate_view:
        assert response.status_code < 500, response.text
        for name in hidden_names:
            assert name not in response.text, (response.request.url, name)


async def test_a_node_candidate_completes_all_five_days_and_both_code_days_are_graded(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(
        tmp_path, jobs_database_url, jobs_db, idp, graders=True, run_timeout_seconds=600.0
    ) as s:
        day = await claimed_simulation(s, template_key=NODE.key)
        submitted: dict[int, dict[str, Any]] = {}
        submitted[1] = await _submit(s, day[1])
        code_repo = (await workspace_for(s, day[2]))["repoFullName"]
        code_head = await commit_file(
            s,
            code_repo,
            "src/overdue.ts",
            lambda _: "export const isOverdue = (due: Date, now: Date): boolean => now > due;\n",
        )
        submitted[2] = await _submit(s, day[2])
        debug_repo = (await workspace_for(s, day[3]))["repoFullName"]
        debug_head = await _fix_everything(s, debug_repo, NODE)
        submitted[3] = await _submit(s, day[3])
        submitted[4] = await _submit(s, day[4])
        submitted[5] = await _submit(s, day[5])
        reviewed = {n: await _graded(s, submitted[n]["submissionId"]) for n in (2, 3)}

    assert submitted[5]["isComplete"] is True
    for n, head, grader in (
        (2, code_head, "node-express-ts-grader"),
        (3, debug_head, "node-express-ts-debug-grader"),
    ):
        detail = reviewed[n]
        grading = detail["grading"]
        assert grading["status"] == "completed", grading
        assert grading["graderRepo"] == f"tenon-templates/{grader}"
        assert grading["candidateSha"] == head
        passed, total, hidden_passed, hidden_total = _grading_counts(grading)
        assert hidden_total > 0
        assert (passed, hidden_passed) == (total, hidden_total)
        results = detail["testResults"]
        assert results["status"] == "passed"
        assert results["passed"] == results["total"] > 0
        assert detail["integrityFlags"] == []
