"""Evidence verification against real sources: rows in PostgreSQL and a real repository in
the GitHub emulator, with one commit before the cutoff and one after it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnprocessableError
from app.core.metrics import Metrics
from app.core.settings import GitHubSettings
from app.evaluation.evidence import (
    EvidenceProblem,
    quote_occurs,
    raise_evidence_problems,
    verify_evidence,
)
from app.evaluation.schemas import Evidence
from app.grading.models import Grading, GradingTestResult
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubUnavailableError
from app.runs.models import TestCaseResult, TestRun
from app.services import GitHubNotConfiguredError
from app.submissions.models import Submission
from app.workspaces.models import Workspace
from tests.support import factories
from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    emulator_config,
    eventually,
    running_emulator,
    write_template,
)
from tests.support.github_client import API, REPO, FakeTime, make_client

TEMPLATE = "evidence-py"
CONTENTS_ROUTE = "GET /repos/{owner}/{repo}/contents/{path}"
COMMITS_ROUTE = "GET /repos/{owner}/{repo}/commits"

MAIN_PY = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
"""
PAGINATION_AT_CUTOFF = """\
def page_slice(items, page, page_size):
    # Pages are numbered from 1.
    start = (page - 1) * page_size
    return items[start : start + page_size]
"""
PAGINATION_LATER = PAGINATION_AT_CUTOFF.replace("(page - 1)", "max(page - 1, 0)")
FIX_MESSAGE = "Fix the off-by-one in page_slice\n\nPages are numbered from 1, not 0."
LATER_MESSAGE = "Clamp negative pages after the deadline"
ANSWER = "I would split the service into a read path and a write path,\nbehind one gateway."


@dataclass(frozen=True)
class Repo:
    github: RunningEmulator
    client: GitHubClient
    full_name: str
    base_sha: str
    cutoff_sha: str
    later_sha: str

    def served(self, route: str) -> int:
        return self.github.emulator.requests[route]


@pytest.fixture(scope="module")
async def repo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Repo]:
    root = tmp_path_factory.mktemp("evidence")
    write_template(root / "templates", TEMPLATE, {"app/main.py": MAIN_PY, "README.md": "# API\n"})
    config = emulator_config(root, templates_dir=root / "templates")
    settings = GitHubSettings(
        _env_file=None, api_base="http://unused", token=SecretStr(TOKEN), max_retries=1
    )
    async with running_emulator(config) as github, httpx.AsyncClient(timeout=30) as http:
        settings = settings.model_copy(update={"api_base": github.base_url})
        client = GitHubClient(
            http, settings, TokenAuth(SecretStr(TOKEN)), Metrics(), sleep=_no_wait
        )
        yield await _history(github, client)


async def _no_wait(seconds: float) -> None:
    return None


async def _history(github: RunningEmulator, client: GitHubClient) -> Repo:
    """Generated from the template; the fix is the cutoff, then one commit after it."""
    made = await client.generate_repository(
        f"tenon-templates/{TEMPLATE}", owner="acme-workspaces", name=f"ws-{uuid.uuid4().hex[:8]}"
    )
    full_name = made.full_name

    async def head() -> str | None:
        commits = await client.list_commits(full_name, per_page=1, max_pages=1)
        return commits[0].sha if commits else None

    base_sha = await eventually(head)
    fix = await client.put_file(
        full_name, "app/pagination.py", message=FIX_MESSAGE, content=PAGINATION_AT_CUTOFF.encode()
    )
    later = await client.put_file(
        full_name,
        "app/pagination.py",
        message=LATER_MESSAGE,
        content=PAGINATION_LATER.encode(),
        sha=fix.content.sha,
    )
    return Repo(github, client, full_name, base_sha, fix.commit.sha, later.commit.sha)


@dataclass(frozen=True)
class Scene:
    cs_id: int
    code: Submission
    text: Submission
    run: TestRun
    grading: Grading
    # Another candidate's rows in the same simulation.
    other_code: Submission
    other_text: Submission
    other_run: TestRun
    other_grading: Grading


async def _candidate(
    session: AsyncSession, simulation: Any, tasks: list[Any], repo: Repo, name: str
) -> tuple[int, Submission, Submission, TestRun, Grading]:
    candidate_session = await factories.create_candidate_session(
        session, simulation, candidate_name=name
    )
    workspace = await factories.create_workspace(session, candidate_session)
    # Only Casey's workspace is the emulator's repository: Olive's is never read.
    workspace.repo_full_name = repo.full_name if name == "Casey" else f"x/{uuid.uuid4().hex}"
    design, code_task = tasks[0], tasks[1]
    text = await factories.create_submission(
        session, candidate_session, design, content_text=ANSWER
    )
    run = await factories.create_test_run(session, workspace, code_task, status="failed")
    run.stdout = "collected 2 items\ntests/test_pages.py .F\n1 failed, 1 passed in 0.12s"
    run.stderr = "DeprecationWarning: the   page  parameter"
    session.add_all(
        [
            TestCaseResult(
                test_run_id=run.id,
                position=0,
                name="test_first_page",
                classname="tests.test_pages",
                status="passed",
            ),
            TestCaseResult(
                test_run_id=run.id,
                position=1,
                name="test_last_page",
                classname="tests.test_pages",
                status="failed",
                message="AssertionError: expected 3 items, got 2",
            ),
        ]
    )
    code = await factories.create_submission(
        session, candidate_session, code_task, content_text=None, workspace=workspace, test_run=run
    )
    code.cutoff_sha = repo.cutoff_sha
    grading = Grading(
        submission_id=code.id,
        status="completed",
        grader_repo="tenon-templates/_python-grader",
        candidate_repo=workspace.repo_full_name,
        candidate_sha=repo.cutoff_sha,
    )
    session.add(grading)
    await session.flush()
    session.add(
        GradingTestResult(
            grading_id=grading.id,
            position=0,
            name="test_page_zero_is_rejected",
            classname="hidden.test_edges",
            status="failed",
            hidden=True,
            message="ValueError not raised for page 0",
        )
    )
    await session.flush()
    return candidate_session.id, code, text, run, grading


@pytest.fixture
async def scene(db_session: AsyncSession, repo: Repo) -> Scene:
    company = await factories.create_company(db_session)
    simulation = await factories.create_simulation(db_session, company)
    tasks = await factories.create_tasks(db_session, simulation)
    cs_id, code, text, run, grading = await _candidate(db_session, simulation, tasks, repo, "Casey")
    _, other_code, other_text, other_run, other_grading = await _candidate(
        db_session, simulation, tasks, repo, "Olive"
    )
    return Scene(cs_id, code, text, run, grading, other_code, other_text, other_run, other_grading)


async def _check(
    session: AsyncSession, repo: Repo, scene: Scene, *items: Evidence
) -> list[str | None]:
    problems = await verify_evidence(session, repo.client, scene.cs_id, items)
    return [problem.code if problem else None for problem in problems]


def _item(kind: Any, ref: str, quote: str | None = None, **extra: Any) -> Evidence:
    return Evidence(kind=kind, ref=ref, quote=quote, **extra)


# Quotes


@pytest.mark.parametrize(
    ("quote", "text", "found"),
    [
        ("start = (page - 1)", "    start = (page - 1) * size", True),
        ("read path and a write path, behind", "a read path and a write path,\n  behind", True),
        ("Read path", "a read path", False),
        ("read  path", "a read\tpath", True),
        ("read path and", "a read pathand", False),
    ],
)
def test_quotes_match_case_sensitively_with_whitespace_runs_normalised(
    quote: str, text: str, found: bool
) -> None:
    assert quote_occurs(quote, text) is found


# Each kind accepts a real quote and refuses an invented one


async def test_diff_quotes_the_file_at_the_cutoff_commit(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    ref = f"{scene.code.id}:app/pagination.py"
    assert await _check(
        db_session,
        repo,
        scene,
        _item("diff", ref, "start = (page - 1) * page_size"),
        _item("diff", ref),
        _item("diff", f"{scene.code.id}:app/main.py", "app = FastAPI()"),
        # Only in the commit after the cutoff.
        _item("diff", ref, "max(page - 1, 0)"),
        _item("diff", ref, "start = page * page_size"),
    ) == [None, None, None, "EVIDENCE_QUOTE_NOT_FOUND", "EVIDENCE_QUOTE_NOT_FOUND"]


async def test_a_diff_span_bounds_where_the_quote_may_occur(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    ref = f"{scene.code.id}:app/pagination.py"
    problems = await verify_evidence(
        db_session,
        repo.client,
        scene.cs_id,
        [
            _item("diff", f"{ref}#L2-L3", "# Pages are numbered from 1. start = (page - 1)"),
            _item("diff", f"{ref}#L3", "start = (page - 1)"),
            _item("diff", f"{ref}#L1-L4"),
            _item("diff", f"{ref}#L1-L2", "start = (page - 1)"),
            _item("diff", f"{ref}#L3-L5"),
            _item("diff", f"{ref}#L3-L2"),
            _item("diff", f"{ref}#L0-L2"),
        ],
    )
    assert [problem.code if problem else None for problem in problems] == [
        None,
        None,
        None,
        "EVIDENCE_QUOTE_NOT_FOUND",
        "EVIDENCE_SPAN_INVALID",
        "EVIDENCE_SPAN_INVALID",
        "EVIDENCE_SPAN_INVALID",
    ]
    assert problems[4] is not None
    assert "has 4 lines" in problems[4].message
    assert ref in problems[4].message


async def test_a_diff_path_that_is_missing_or_a_directory_is_not_found(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    assert (
        await _check(
            db_session,
            repo,
            scene,
            _item("diff", f"{scene.code.id}:app/nothing.py"),
            _item("diff", f"{scene.code.id}:app"),
            # A text submission has no code.
            _item("diff", f"{scene.text.id}:app/main.py"),
        )
        == ["EVIDENCE_SOURCE_NOT_FOUND"] * 3
    )


async def test_test_quotes_a_test_of_a_run_or_of_the_grading(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    run, grading = f"run:{scene.run.id}", f"grading:{scene.grading.id}"
    assert await _check(
        db_session,
        repo,
        scene,
        _item("test", f"{run}:test_last_page", "expected 3 items, got 2"),
        _item("test", f"{run}:tests.test_pages.test_last_page", "AssertionError"),
        _item("test", f"{run}:tests.test_pages::test_first_page"),
        _item("test", f"{grading}:test_page_zero_is_rejected", "not raised for page 0"),
        # Another test's message, an invented one, a test that does not exist.
        _item("test", f"{run}:test_first_page", "expected 3 items"),
        _item("test", f"{grading}:test_page_zero_is_rejected", "IndexError"),
        _item("test", f"{run}:test_no_such_test"),
    ) == [
        None,
        None,
        None,
        None,
        "EVIDENCE_QUOTE_NOT_FOUND",
        "EVIDENCE_QUOTE_NOT_FOUND",
        "EVIDENCE_SOURCE_NOT_FOUND",
    ]


async def test_text_quotes_the_text_answer(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    ref = str(scene.text.id)
    assert await _check(
        db_session,
        repo,
        scene,
        _item("text", ref, "a write path, behind one gateway"),
        _item("text", ref, "a microservice per table"),
        _item("text", str(scene.code.id)),
    ) == [None, "EVIDENCE_QUOTE_NOT_FOUND", "EVIDENCE_SOURCE_NOT_FOUND"]


async def test_run_quotes_the_run_output(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    ref = str(scene.run.id)
    assert await _check(
        db_session,
        repo,
        scene,
        _item("run", ref, "1 failed, 1 passed"),
        _item("run", ref, "the page parameter"),
        _item("run", ref, "2 passed"),
    ) == [None, None, "EVIDENCE_QUOTE_NOT_FOUND"]


async def test_commit_is_the_cutoff_or_an_ancestor_and_quotes_its_message(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    assert await _check(
        db_session,
        repo,
        scene,
        _item("commit", repo.cutoff_sha, "Pages are numbered from 1, not 0."),
        _item("commit", repo.cutoff_sha[:7].upper(), "off-by-one"),
        _item("commit", repo.base_sha),
        _item("commit", repo.cutoff_sha, "Clamp negative pages"),
        # After the cutoff; not in the repository at all.
        _item("commit", repo.later_sha),
        _item("commit", "deadbeef" * 5),
    ) == [
        None,
        None,
        None,
        "EVIDENCE_QUOTE_NOT_FOUND",
        "EVIDENCE_SOURCE_NOT_FOUND",
        "EVIDENCE_SOURCE_NOT_FOUND",
    ]


# Another session's ids, malformed refs (transcripts: test_transcript_evidence.py)


async def test_another_sessions_ids_are_not_found_like_missing_ones(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    items = [
        _item("diff", f"{scene.other_code.id}:app/main.py"),
        _item("text", str(scene.other_text.id)),
        _item("run", str(scene.other_run.id)),
        _item("test", f"run:{scene.other_run.id}:test_last_page"),
        _item("test", f"grading:{scene.other_grading.id}:test_page_zero_is_rejected"),
    ]
    missing = [
        _item("diff", "999999999:app/main.py"),
        _item("text", "999999999"),
        _item("run", "999999999"),
        _item("test", "run:999999999:test_last_page"),
        _item("test", "grading:999999999:test_page_zero_is_rejected"),
    ]
    others = await verify_evidence(db_session, repo.client, scene.cs_id, items)
    absent = await verify_evidence(db_session, repo.client, scene.cs_id, missing)
    assert [p.code if p else None for p in others] == ["EVIDENCE_SOURCE_NOT_FOUND"] * 5
    # The same answer as for an id nobody has, so nothing leaks across sessions.
    assert [
        p.message.replace(str(i), "#") for p, i in zip(others, _ids(scene), strict=True) if p
    ] == [p.message.replace("999999999", "#") for p in absent if p]


def _ids(scene: Scene) -> list[int]:
    return [
        scene.other_code.id,
        scene.other_text.id,
        scene.other_run.id,
        scene.other_run.id,
        scene.other_grading.id,
    ]


@pytest.mark.parametrize(
    ("kind", "ref"),
    [
        ("diff", "app/main.py"),
        ("diff", "12"),
        ("diff", "12:"),
        ("diff", "12:app/../secrets.py"),
        ("diff", "12:/etc/passwd"),
        ("diff", "12:app/main.py#L2-"),
        ("diff", "12:app/main.py#lines"),
        ("diff", "99999999999999999999:app/main.py"),
        ("test", "12:test_a"),
        ("test", "job:12:test_a"),
        ("test", "run:x:test_a"),
        ("test", "run:12:"),
        ("text", "twelve"),
        ("text", "0"),
        ("text", "12:app.py"),
        ("run", "-3"),
        ("run", "9223372036854775808"),
        ("commit", "abc12"),
        ("commit", "not-a-sha-at-all"),
        ("commit", "a" * 41),
    ],
)
async def test_malformed_refs_are_invalid(
    db_session: AsyncSession, repo: Repo, scene: Scene, kind: str, ref: str
) -> None:
    [problem] = await verify_evidence(db_session, repo.client, scene.cs_id, [_item(kind, ref)])
    assert problem is not None
    assert problem.code == "EVIDENCE_REF_INVALID"
    assert repr(ref) in problem.message or ref in problem.message


async def test_times_are_only_for_transcripts(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    assert await _check(
        db_session,
        repo,
        scene,
        _item("text", str(scene.text.id), start_ms=10),
        _item("run", str(scene.run.id), end_ms=10),
    ) == ["EVIDENCE_SPAN_INVALID", "EVIDENCE_SPAN_INVALID"]


async def test_a_blank_quote_is_refused(db_session: AsyncSession, repo: Repo, scene: Scene) -> None:
    assert await _check(db_session, repo, scene, _item("text", str(scene.text.id), " \n ")) == [
        "EVIDENCE_QUOTE_NOT_FOUND"
    ]


# GitHub: configuration, failures, one fetch per source


async def test_one_fetch_per_file_and_per_history_in_a_call(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    contents, commits = repo.served(CONTENTS_ROUTE), repo.served(COMMITS_ROUTE)
    ref = f"{scene.code.id}:app/pagination.py"
    items = [
        _item("diff", ref, "page_size"),
        _item("diff", f"{ref}#L1-L2", "def page_slice"),
        _item("diff", ref, "invented"),
        _item("diff", f"{scene.code.id}:app/main.py"),
        _item("commit", repo.cutoff_sha),
        _item("commit", repo.base_sha),
    ]
    assert await _check(db_session, repo, scene, *items) == [
        None,
        None,
        "EVIDENCE_QUOTE_NOT_FOUND",
        None,
        None,
        None,
    ]
    assert repo.served(CONTENTS_ROUTE) - contents == 2
    assert repo.served(COMMITS_ROUTE) - commits == 1
    # A new call fetches again: nothing is cached across calls.
    await _check(db_session, repo, scene, items[0])
    assert repo.served(CONTENTS_ROUTE) - contents == 3


async def test_github_failures_propagate(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    async with repo.github.client() as control:
        faults = [{"route": "^GET /repos/.*/contents/", "status": 502}]
        assert (await control.post("/_emulator/faults", json=faults)).status_code == 200
        try:
            with pytest.raises(GitHubUnavailableError):
                await verify_evidence(
                    db_session,
                    repo.client,
                    scene.cs_id,
                    [_item("diff", f"{scene.code.id}:app/main.py", "FastAPI")],
                )
        finally:
            await control.delete("/_emulator/faults")


async def test_without_github_diff_and_commit_evidence_cannot_be_checked(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    for item in (
        _item("diff", f"{scene.code.id}:app/main.py"),
        _item("commit", repo.cutoff_sha),
    ):
        with pytest.raises(GitHubNotConfiguredError):
            await verify_evidence(db_session, None, scene.cs_id, [item])
    # The rest needs no GitHub.
    offline = [_item("text", str(scene.text.id), "one gateway"), _item("run", str(scene.run.id))]
    assert await verify_evidence(db_session, None, scene.cs_id, offline) == [None, None]


# The 422


def test_problems_become_one_422_naming_each_item() -> None:
    quote = EvidenceProblem("EVIDENCE_QUOTE_NOT_FOUND", "The quote does not occur in x.")
    span = EvidenceProblem("EVIDENCE_SPAN_INVALID", "The line span L9-L10 is outside x.")
    with pytest.raises(UnprocessableError) as raised:
        raise_evidence_problems(
            [("body.scores.0.evidence.1", quote), (["body", "scores", 2, "evidence", 0], span)]
        )
    error = raised.value
    assert (error.status, error.code) == (422, "EVIDENCE_INVALID")
    assert error.errors == [
        {
            "loc": ["body", "scores", "0", "evidence", "1"],
            "msg": quote.message,
            "type": "evidence",
            "code": "EVIDENCE_QUOTE_NOT_FOUND",
        },
        {
            "loc": ["body", "scores", "2", "evidence", "0"],
            "msg": span.message,
            "type": "evidence",
            "code": "EVIDENCE_SPAN_INVALID",
        },
    ]
    assert "body.scores.0.evidence.1: The quote does not occur in x." in error.detail


def test_one_kind_of_problem_is_the_answers_code() -> None:
    problem = EvidenceProblem("EVIDENCE_QUOTE_NOT_FOUND", "The quote does not occur in x.")
    with pytest.raises(UnprocessableError) as raised:
        raise_evidence_problems([("body.evidence.0", problem), ("body.evidence.1", problem)])
    assert raised.value.code == "EVIDENCE_QUOTE_NOT_FOUND"
    raise_evidence_problems([])  # nothing to refuse


async def test_a_file_over_the_inline_limit_cannot_back_a_quote_or_a_span(
    db_session: AsyncSession,
) -> None:
    # GitHub sends no content for files over 1 MB (`encoding: none`); the emulator never does.
    company = await factories.create_company(db_session)
    simulation = await factories.create_simulation(db_session, company)
    tasks = await factories.create_tasks(db_session, simulation)
    candidate_session = await factories.create_candidate_session(db_session, simulation)
    workspace = await factories.create_workspace(db_session, candidate_session)
    workspace.repo_full_name = REPO
    code = await factories.create_submission(
        db_session, candidate_session, tasks[1], content_text=None, workspace=workspace
    )
    code.cutoff_sha = "c" * 40
    await db_session.flush()
    big = {"type": "file", "encoding": "none", "content": "", "sha": "f1", "size": 2_000_000}
    ref = f"{code.id}:data/big.json"
    async with httpx.AsyncClient() as http, respx.mock(base_url=API) as api:
        route = api.get(f"/repos/{REPO}/contents/data/big.json", params={"ref": "c" * 40})
        route.respond(200, json=big | {"path": "data/big.json"})
        problems = await verify_evidence(
            db_session,
            make_client(http, FakeTime()),
            candidate_session.id,
            [_item("diff", ref), _item("diff", ref, "{"), _item("diff", f"{ref}#L1")],
        )
    assert problems[0] is None
    assert [p.code if p else None for p in problems[1:]] == ["EVIDENCE_SOURCE_NOT_FOUND"] * 2
    assert problems[1] is not None
    assert "1 MB" in problems[1].message
    assert route.call_count == 1


async def test_a_deleted_repository_leaves_nothing_to_cite(
    db_session: AsyncSession, repo: Repo, scene: Scene
) -> None:
    workspace = await db_session.get(Workspace, scene.code.workspace_id)
    assert workspace is not None
    workspace.repo_full_name = f"acme-workspaces/retired-{uuid.uuid4().hex[:8]}"
    await db_session.flush()
    assert await _check(
        db_session,
        repo,
        scene,
        _item("diff", f"{scene.code.id}:app/main.py"),
        _item("commit", repo.cutoff_sha),
    ) == ["EVIDENCE_SOURCE_NOT_FOUND", "EVIDENCE_SOURCE_NOT_FOUND"]
