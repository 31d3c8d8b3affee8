"""What an AI draft scorecard is made from and checked against: the day's inputs and their
fingerprint, the prompt (bounded in size, personal values replaced), the answer's schema
built from the day's criteria, its validation and the verification of its evidence."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.evaluation.ai_schemas import AiDraftContent
from app.evaluation.evidence import verify_evidence
from app.evaluation.models import MAX_LEVEL, MIN_LEVEL
from app.evaluation.rubrics import criteria_of, current_rubric
from app.evaluation.schemas import Criterion, Evidence, EvidenceKind
from app.integrations.ai.pii import Placeholders
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError
from app.recordings import service as recordings
from app.recordings.service import CitedRecording
from app.runs.models import TestCaseResult, TestRun
from app.services import GitHubNotConfiguredError
from app.simulations.models import Task
from app.submissions.models import Submission

log = structlog.get_logger(__name__)

# Bounds on what one prompt carries of the candidate's work (characters).
MAX_TEXT_ANSWER = 20_000
MAX_PATCHES = 30_000
MAX_PATCH_PER_FILE = 6_000
MAX_TESTS_LISTED = 100
MAX_TEST_MESSAGE = 500
MAX_TRANSCRIPT = 20_000
MAX_OUTPUT_TOKENS = 4_000

SYSTEM = (
    "You help human reviewers assess one day of a candidate's work simulation. Score each "
    "rubric criterion of the day on its 1-4 scale, choosing the level whose anchor fits the "
    "work best, with a short note saying why. Cite evidence only from the work shown: each "
    "evidence item has a kind, a ref in the grammar given and, optionally, a quote copied "
    "verbatim from the referenced source; evidence that cannot be found is discarded. "
    "Personal details appear as placeholders such as [CANDIDATE_NAME]: use them as they "
    "are. Your scores are a draft for reviewers, who decide."
)


@dataclass(frozen=True)
class DayInputs:
    """What a day's draft is made from, and their fingerprint."""

    task: Task
    submission: Submission
    test_run: TestRun | None
    tests: list[TestCaseResult]
    rubric_version_id: int
    criteria: list[Criterion]
    # The task's recording, when its transcript is ready (the handoff day).
    transcript: CitedRecording | None = None

    @property
    def fingerprint(self) -> str:
        run = self.test_run
        facts = {
            "submission": [self.submission.id, self.submission.content_text],
            "cutoff": self.submission.cutoff_sha,
            "diff": self.submission.diff_summary,
            "run": [run.id, run.status, run.passed, run.failed, run.total] if run else None,
            "tests": [[t.name, t.status] for t in self.tests],
            "task": [self.task.type, self.task.title, self.task.description],
            "rubric": [self.rubric_version_id, *(c.model_dump(mode="json") for c in self.criteria)],
        }
        if self.transcript is not None:
            # Only when there is one: the fingerprints of the other days stay as they were.
            facts["transcript"] = [
                self.transcript.recording_id,
                [[s.start_seconds, s.end_seconds, s.text] for s in self.transcript.segments],
            ]
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


async def day_inputs(
    session: AsyncSession, cs: CandidateSession, day_index: int
) -> DayInputs | None:
    """The day's inputs, or None when the day has no submission (or no criteria)."""
    found = (
        await session.execute(
            select(Task, Submission)
            .join(Submission, Submission.task_id == Task.id)
            .where(
                Task.simulation_id == cs.simulation_id,
                Task.day_index == day_index,
                Submission.candidate_session_id == cs.id,
            )
        )
    ).one_or_none()
    if found is None:
        return None
    task, submission = found
    rubric = await current_rubric(session, cs.simulation_id)
    criteria = [c for c in criteria_of(rubric) if c.day_index == day_index]
    if not criteria:
        return None
    run = await session.get(TestRun, submission.test_run_id) if submission.test_run_id else None
    tests: list[TestCaseResult] = []
    if run is not None:
        statement = (
            select(TestCaseResult)
            .where(TestCaseResult.test_run_id == run.id)
            .order_by(TestCaseResult.position)
            .limit(MAX_TESTS_LISTED)
        )
        tests = list((await session.scalars(statement)).all())
    transcript = await recordings.ready_transcript(session, cs.id, task.id)
    return DayInputs(task, submission, run, tests, rubric.id, criteria, transcript)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n[... cut at {limit} characters]"


def _work_section(inputs: DayInputs) -> str:
    submission = inputs.submission
    parts = [f"Submission id: {submission.id}"]
    if submission.content_text:
        parts.append("Text answer:\n" + _cut(submission.content_text, MAX_TEXT_ANSWER))
    diff = submission.diff_summary
    if diff:
        parts.append(
            f"Code changes up to the cutoff commit {submission.cutoff_sha}: "
            f"{diff.get('filesChanged')} files, +{diff.get('additions')} "
            f"-{diff.get('deletions')}, {diff.get('totalCommits')} commits."
        )
        left = MAX_PATCHES
        for file in diff.get("files", []):
            shown = (
                f"--- {file.get('filename')} ({file.get('status')}, "
                f"+{file.get('additions')} -{file.get('deletions')})"
            )
            patch = file.get("patch") or ""
            if patch and left > 0:
                cut = _cut(patch, min(MAX_PATCH_PER_FILE, left))
                left -= len(cut)
                shown += "\n" + cut
            parts.append(shown)
    run = inputs.test_run
    if run is not None:
        parts.append(
            f"Final test run id {run.id}: {run.status}, passed {run.passed}, failed "
            f"{run.failed}, total {run.total}."
        )
        for test in inputs.tests:
            message = f": {_cut(test.message, MAX_TEST_MESSAGE)}" if test.message else ""
            parts.append(f"- test {test.name}: {test.status}{message}")
    if inputs.transcript is not None:
        parts.append(_transcript_section(inputs.transcript))
    return "\n\n".join(parts)


def _transcript_section(transcript: CitedRecording) -> str:
    """The segments as `[index] start-end s: text`, whole segments up to MAX_TRANSCRIPT."""
    lines = [
        f"Transcript of the recording {transcript.recording_id} (cite a segment as the "
        f"transcript ref {transcript.recording_id}:{{index}}):"
    ]
    left = MAX_TRANSCRIPT
    for index, segment in enumerate(transcript.segments):
        line = f"[{index}] {segment.start_seconds:.2f}-{segment.end_seconds:.2f}s: {segment.text}"
        if len(line) > left:
            lines.append(f"[... {len(transcript.segments) - index} more segments cut]")
            break
        left -= len(line)
        lines.append(line)
    return "\n".join(lines)


def _criteria_section(criteria: list[Criterion]) -> str:
    lines = []
    for c in criteria:
        anchors = c.anchors
        lines.append(
            f"- key {c.key}: {c.title} (weight {c.weight:g}). {c.description}\n"
            f"  1: {anchors.level1}\n  2: {anchors.level2}\n"
            f"  3: {anchors.level3}\n  4: {anchors.level4}"
        )
    return "\n".join(lines)


def build_prompt(inputs: DayInputs) -> str:
    task = inputs.task
    return "\n\n".join(
        [
            f"Day {task.day_index} task ({task.type}): {task.title}\n{task.description}",
            "The candidate's work:\n" + _work_section(inputs),
            "Rubric criteria of the day:\n" + _criteria_section(inputs.criteria),
            "Evidence refs:\n" + (Evidence.__doc__ or ""),
        ]
    )


_EVIDENCE_KINDS: list[EvidenceKind] = ["diff", "test", "text", "transcript", "commit", "run"]


def output_schema(criteria: list[Criterion]) -> dict[str, Any]:
    """The answer's JSON Schema: one entry per criterion key of the day."""
    evidence = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "ref", "quote"],
        "properties": {
            "kind": {"type": "string", "enum": _EVIDENCE_KINDS},
            "ref": {"type": "string"},
            "quote": {"type": ["string", "null"]},
        },
    }
    entry = {
        "type": "object",
        "additionalProperties": False,
        "required": ["criterionKey", "level", "note", "evidence"],
        "properties": {
            "criterionKey": {"type": "string", "enum": [c.key for c in criteria]},
            "level": {"type": "integer", "enum": list(range(MIN_LEVEL, MAX_LEVEL + 1))},
            "note": {"type": "string"},
            "evidence": {"type": "array", "items": evidence},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["summary", "entries"],
        "properties": {"summary": {"type": "string"}, "entries": {"type": "array", "items": entry}},
    }


def validated(data: dict[str, Any], criteria: list[Criterion]) -> AiDraftContent:
    """The answer as draft content; ValueError naming the problem when it does not fit the
    day's rubric (exactly its criterion keys, once each, levels 1-4)."""
    try:
        content = AiDraftContent.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ValueError(f"The answer does not match the draft schema: {problems}") from exc
    keys = [entry.criterion_key for entry in content.entries]
    expected = sorted(c.key for c in criteria)
    if sorted(keys) != expected:
        raise ValueError(f"The answer scored {sorted(keys)}; the day's criteria are {expected}.")
    return content


async def verified(
    session: AsyncSession, github: GitHubClient | None, cs_id: int, content: AiDraftContent
) -> tuple[AiDraftContent, int]:
    """The content with only the evidence that verified, and how many items were dropped."""
    items = [item for entry in content.entries for item in entry.evidence]
    if not items:
        return content, 0
    verified_items = iter(await _verify_each(session, github, cs_id, items))
    entries = [
        entry.model_copy(
            update={"evidence": [item for item in entry.evidence if next(verified_items)]}
        )
        for entry in content.entries
    ]
    kept = sum(len(entry.evidence) for entry in entries)
    return content.model_copy(update={"entries": entries}), len(items) - kept


async def _verify_each(
    session: AsyncSession, github: GitHubClient | None, cs_id: int, items: list[Evidence]
) -> list[bool]:
    """Whether each item verified. The answer is paid for, so a GitHub failure (or no
    GitHub) costs only the items that needed it: they count as unverified."""
    try:
        return [problem is None for problem in await verify_evidence(session, github, cs_id, items)]
    except (GitHubError, GitHubNotConfiguredError) as exc:
        log.warning("evaluation.ai_evidence_unverifiable", error=type(exc).__name__)
    results = []
    for item in items:
        try:
            (problem,) = await verify_evidence(session, github, cs_id, [item])
        except (GitHubError, GitHubNotConfiguredError):
            results.append(False)
        else:
            results.append(problem is None)
    return results


def placeholders_for(cs: CandidateSession, company: Company) -> Placeholders:
    return Placeholders(
        {
            "CANDIDATE_NAME": cs.candidate_name,
            "CANDIDATE_EMAIL": cs.invite_email,
            "GITHUB_LOGIN": cs.github_username,
            "COMPANY_NAME": company.name,
        }
    )
