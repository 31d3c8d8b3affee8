"""The sources evidence points into, loaded for one verification call.

Every lookup is scoped to the reviewed candidate session: an id of another session's row
loads nothing, exactly like an id that does not exist. Each source is loaded once per call
(`EvidenceSources` memoises), so a scorecard quoting one file ten times fetches it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.grading.models import Grading
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubNotFoundError
from app.integrations.github.schemas import Commit
from app.recordings import service as recordings
from app.recordings.service import CitedRecording
from app.runs.models import TestRun
from app.services import require_github
from app.submissions.models import Submission
from app.workspaces.models import Workspace

# Ancestors of a cutoff listed at most (10 pages of 100): a candidate's few days of work
# on a freshly generated repository stay far below it.
MAX_ANCESTOR_PAGES = 10


@dataclass(frozen=True)
class Cutoff:
    """A code submission's repository and the commit it was turned in at."""

    submission_id: int
    repo: str
    sha: str


@dataclass(frozen=True)
class TestOutcome:
    """One test's result, as a run or a grading recorded it."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    classname: str | None
    message: str | None

    def names(self) -> tuple[str, ...]:
        """What a ref may call it: its name, or its name qualified by its class."""
        if self.classname:
            return (self.name, f"{self.classname}.{self.name}", f"{self.classname}::{self.name}")
        return (self.name,)

    def text(self) -> str:
        return "\n".join(part for part in (self.classname, self.name, self.message) if part)


# A file at a commit: its text, or why there is none to read.
FileText = str | Literal["missing", "too_large"]


class EvidenceSources:
    def __init__(self, session: AsyncSession, github: GitHubClient | None, cs_id: int) -> None:
        self._session = session
        self._github = github
        self._cs_id = cs_id
        self._submissions: dict[int, Submission | None] = {}
        self._cutoffs: list[Cutoff] | None = None
        self._runs: dict[int, TestRun | None] = {}
        self._gradings: dict[int, Grading | None] = {}
        self._files: dict[tuple[str, str, str], FileText] = {}
        self._ancestors: dict[tuple[str, str], list[Commit]] = {}
        self._recordings: dict[int, CitedRecording | None] = {}

    # The database

    async def submission(self, submission_id: int) -> Submission | None:
        if submission_id not in self._submissions:
            statement = select(Submission).where(
                Submission.id == submission_id, Submission.candidate_session_id == self._cs_id
            )
            self._submissions[submission_id] = (
                await self._session.scalars(statement)
            ).one_or_none()
        return self._submissions[submission_id]

    async def cutoff(self, submission_id: int) -> Cutoff | None:
        """The submission's code at its cutoff; None when it is not a code submission (or
        its repository was never made)."""
        cutoffs = await self.cutoffs()
        return next((cutoff for cutoff in cutoffs if cutoff.submission_id == submission_id), None)

    async def cutoffs(self) -> Sequence[Cutoff]:
        """Every code submission of the session, at its cutoff."""
        if self._cutoffs is None:
            statement = (
                select(Submission.id, Workspace.repo_full_name, Submission.cutoff_sha)
                .join(Workspace, Workspace.id == Submission.workspace_id)
                .where(
                    Submission.candidate_session_id == self._cs_id,
                    Submission.cutoff_sha.is_not(None),
                    Workspace.repo_full_name.is_not(None),
                )
                .order_by(Submission.id)
            )
            rows = (await self._session.execute(statement)).all()
            self._cutoffs = [
                Cutoff(submission_id, repo, sha)
                for submission_id, repo, sha in rows
                if repo is not None and sha is not None
            ]
        return self._cutoffs

    async def test_run(self, run_id: int) -> TestRun | None:
        """The run, with its per-test results, if it ran in one of the session's workspaces."""
        if run_id not in self._runs:
            statement = (
                select(TestRun)
                .join(Workspace, Workspace.id == TestRun.workspace_id)
                .where(TestRun.id == run_id, Workspace.candidate_session_id == self._cs_id)
                .options(selectinload(TestRun.tests))
            )
            self._runs[run_id] = (await self._session.scalars(statement)).one_or_none()
        return self._runs[run_id]

    async def grading(self, grading_id: int) -> Grading | None:
        """The grading, with its per-test results, if it graded one of the session's
        submissions."""
        if grading_id not in self._gradings:
            statement = (
                select(Grading)
                .join(Submission, Submission.id == Grading.submission_id)
                .where(Grading.id == grading_id, Submission.candidate_session_id == self._cs_id)
                .options(selectinload(Grading.tests))
            )
            self._gradings[grading_id] = (await self._session.scalars(statement)).one_or_none()
        return self._gradings[grading_id]

    async def tests(
        self, source: Literal["run", "grading"], source_id: int
    ) -> list[TestOutcome] | None:
        """The per-test results of a run or a grading; None when it is not the session's."""
        found = await (self.test_run(source_id) if source == "run" else self.grading(source_id))
        if found is None:
            return None
        return [TestOutcome(test.name, test.classname, test.message) for test in found.tests]

    async def recording(self, recording_id: int) -> CitedRecording | None:
        """The session's recording with its transcript; share-locked (see
        `recordings.cited_recording`)."""
        if recording_id not in self._recordings:
            self._recordings[recording_id] = await recordings.cited_recording(
                self._session, self._cs_id, recording_id
            )
        return self._recordings[recording_id]

    # GitHub

    async def file(self, cutoff: Cutoff, path: str) -> FileText:
        """The file's text at the cutoff. A directory or a missing path is `missing`; a file
        over the contents API's 1 MB inline limit is `too_large`. Other GitHub failures
        propagate."""
        key = (cutoff.repo, cutoff.sha, path)
        if key not in self._files:
            self._files[key] = await self._fetch_file(cutoff, path)
        return self._files[key]

    async def _fetch_file(self, cutoff: Cutoff, path: str) -> FileText:
        found = await require_github(self._github).find_file(cutoff.repo, path, ref=cutoff.sha)
        # A symlink or a submodule has no text of its own either.
        if found is None or found.type != "file":
            return "missing"
        try:
            data = found.decoded()
        except ValueError:
            return "too_large"
        return data.decode("utf-8", errors="replace")

    async def ancestors(self, cutoff: Cutoff) -> list[Commit]:
        """The cutoff commit and its ancestors, newest first (at most MAX_ANCESTOR_PAGES
        pages); none when the repository is gone."""
        key = (cutoff.repo, cutoff.sha)
        if key not in self._ancestors:
            github = require_github(self._github)
            try:
                self._ancestors[key] = await github.list_commits(
                    cutoff.repo, sha=cutoff.sha, max_pages=MAX_ANCESTOR_PAGES
                )
            except GitHubNotFoundError:
                # The repository was deleted (retention): no commit of it can be cited.
                self._ancestors[key] = []
        return self._ancestors[key]
