"""Evidence verification: every evidence item must point at a real source of the reviewed
candidate session, and its quote, if any, must occur in that source (SPEC §11.2).

Quotes are compared case-sensitively with every run of whitespace taken as one space, so a
quote copied across a line break or re-indented still matches. Human evidence that does not
verify is refused with one 422 naming each item (`raise_evidence_problems`); AI evidence
that does not verify is dropped by its caller.

A transcript item cites one segment of a Day 4 transcript; once the recording's media is
removed (deleted by the candidate or purged) its quotes are redacted wherever they were
stored (`app.evaluation.redaction`), and the item verifies only as such a redacted one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnprocessableError
from app.core.openapi import ErrorSpec
from app.evaluation.evidence_refs import (
    CommitRef,
    DiffRef,
    ParsedRef,
    RefInvalidError,
    RunRef,
    TestRef,
    TextRef,
    TranscriptRef,
    parse_ref,
)
from app.evaluation.evidence_sources import EvidenceSources
from app.evaluation.schemas import Evidence
from app.integrations.github.client import GitHubClient

REF_INVALID = "EVIDENCE_REF_INVALID"
SOURCE_NOT_FOUND = "EVIDENCE_SOURCE_NOT_FOUND"
SOURCE_REMOVED = "EVIDENCE_SOURCE_REMOVED"
QUOTE_NOT_FOUND = "EVIDENCE_QUOTE_NOT_FOUND"
SPAN_INVALID = "EVIDENCE_SPAN_INVALID"
# The top-level code of a 422 whose items failed for different reasons.
EVIDENCE_INVALID = "EVIDENCE_INVALID"

# What a route that verifies evidence declares with `@raises(*EVIDENCE_ERRORS)`.
EVIDENCE_ERRORS: tuple[ErrorSpec, ...] = tuple(
    (UnprocessableError, code)
    for code in (
        REF_INVALID,
        SOURCE_NOT_FOUND,
        SOURCE_REMOVED,
        QUOTE_NOT_FOUND,
        SPAN_INVALID,
        EVIDENCE_INVALID,
    )
)

# Where an item sits in the request: ["body", "scores", "0", "evidence", "1"], or the same
# dotted ("body.scores.0.evidence.1").
Loc = str | Sequence[str | int]


@dataclass(frozen=True)
class EvidenceProblem:
    """Why one evidence item did not verify: `code` is one of EVIDENCE_REF_INVALID,
    EVIDENCE_SOURCE_NOT_FOUND, EVIDENCE_SOURCE_REMOVED, EVIDENCE_QUOTE_NOT_FOUND,
    EVIDENCE_SPAN_INVALID; `message` says it in a sentence naming the ref."""

    code: str
    message: str


async def verify_evidence(
    session: AsyncSession,
    github: GitHubClient | None,
    cs_id: int,
    items: Sequence[Evidence],
) -> list[EvidenceProblem | None]:
    """One result per item, in order: None when it verified.

    Diff and commit items read GitHub: without a configured GitHub client they raise
    GitHubNotConfiguredError, and GitHub's failures propagate (the route answers 502/503).
    Each file and each commit history is fetched once per call."""
    sources = EvidenceSources(session, github, cs_id)
    return [await _verify(sources, item) for item in items]


def raise_evidence_problems(problems: Sequence[tuple[Loc, EvidenceProblem]]) -> None:
    """Refuse the request with one 422 listing every item that did not verify (`loc`,
    `msg`, `type` as in every 422, plus the item's `code`); nothing when there are none.
    The answer's own code is the items' code when they share one, else EVIDENCE_INVALID."""
    if not problems:
        return
    errors = [
        {"loc": _loc(loc), "msg": problem.message, "type": "evidence", "code": problem.code}
        for loc, problem in problems
    ]
    codes = {problem.code for _, problem in problems}
    named = "; ".join(f"{'.'.join(error['loc'])}: {error['msg']}" for error in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    raise UnprocessableError(
        f"Evidence did not verify: {named}{more}",
        code=codes.pop() if len(codes) == 1 else EVIDENCE_INVALID,
        errors=errors,
    )


def _loc(loc: Loc) -> list[str]:
    return loc.split(".") if isinstance(loc, str) else [str(part) for part in loc]


def quote_occurs(quote: str, text: str) -> bool:
    """Whether `quote` occurs in `text`, whitespace runs counting as one space."""
    return _normalised(quote) in _normalised(text)


def _normalised(text: str) -> str:
    return " ".join(text.split())


async def _verify(sources: EvidenceSources, item: Evidence) -> EvidenceProblem | None:
    if item.kind != "transcript" and (item.start_ms is not None or item.end_ms is not None):
        return EvidenceProblem(
            SPAN_INVALID,
            f"startMs and endMs apply to transcript evidence only, not to the {item.kind} "
            f"ref {item.ref!r}.",
        )
    try:
        ref = parse_ref(item.kind, item.ref)
    except RefInvalidError as exc:
        return EvidenceProblem(REF_INVALID, str(exc))
    if item.quote is not None and not _normalised(item.quote):
        return EvidenceProblem(QUOTE_NOT_FOUND, f"The quote for {item.ref!r} is blank.")
    return await _verify_ref(sources, ref, item)


async def _verify_ref(
    sources: EvidenceSources, ref: ParsedRef, item: Evidence
) -> EvidenceProblem | None:
    match ref:
        case DiffRef():
            return await _diff(sources, ref, item)
        case TestRef():
            return await _test(sources, ref, item)
        case TextRef():
            return await _text(sources, ref, item)
        case CommitRef():
            return await _commit(sources, ref, item)
        case RunRef():
            return await _run(sources, ref, item)
        case TranscriptRef():
            return await _transcript(sources, ref, item)


def _not_found(message: str) -> EvidenceProblem:
    return EvidenceProblem(SOURCE_NOT_FOUND, message)


def _quote_problem(item: Evidence, text: str, where: str) -> EvidenceProblem | None:
    if item.quote is None or quote_occurs(item.quote, text):
        return None
    return EvidenceProblem(
        QUOTE_NOT_FOUND, f"The quote does not occur in {where} (the {item.kind} ref {item.ref!r})."
    )


async def _diff(sources: EvidenceSources, ref: DiffRef, item: Evidence) -> EvidenceProblem | None:
    cutoff = await sources.cutoff(ref.submission_id)
    if cutoff is None:
        if await sources.submission(ref.submission_id) is None:
            return _not_found(f"No submission {ref.submission_id} in this candidate session.")
        return _not_found(f"Submission {ref.submission_id} has no code at a cutoff commit.")
    text = await sources.file(cutoff, ref.path)
    at = f"at the cutoff commit {cutoff.sha[:12]} of submission {ref.submission_id}"
    if text == "missing":
        return _not_found(f"{ref.path} is not a file {at}.")
    if text == "too_large":
        if ref.span is None and item.quote is None:
            return None
        return _not_found(
            f"{ref.path} {at} is over GitHub's 1 MB limit for reading a file's contents, so "
            "a quote or line span in it cannot be checked."
        )
    where = f"{ref.path} {at}"
    if ref.span is not None:
        lines = text.splitlines()
        start, end = ref.span.start, ref.span.end
        if start < 1 or start > end:
            return EvidenceProblem(
                SPAN_INVALID,
                f"The line span L{start}-L{end} of {item.ref!r} must start at line 1 or "
                "later and not end before it starts.",
            )
        if end > len(lines):
            return EvidenceProblem(
                SPAN_INVALID,
                f"The line span L{start}-L{end} of {item.ref!r} is outside {ref.path}, which "
                f"has {len(lines)} lines {at}.",
            )
        text = "\n".join(lines[start - 1 : end])
        where = f"lines {start}-{end} of {where}"
    return _quote_problem(item, text, where)


async def _test(sources: EvidenceSources, ref: TestRef, item: Evidence) -> EvidenceProblem | None:
    what = "test run" if ref.source == "run" else "grading"
    tests = await sources.tests(ref.source, ref.id)
    if tests is None:
        return _not_found(f"No {what} {ref.id} in this candidate session.")
    named = [test for test in tests if ref.name in test.names()]
    if not named:
        return _not_found(f"The {what} {ref.id} has no test named {ref.name!r}.")
    text = "\n".join(test.text() for test in named)
    return _quote_problem(item, text, f"the result of {ref.name!r} in {what} {ref.id}")


async def _text(sources: EvidenceSources, ref: TextRef, item: Evidence) -> EvidenceProblem | None:
    submission = await sources.submission(ref.submission_id)
    if submission is None:
        return _not_found(f"No submission {ref.submission_id} in this candidate session.")
    if submission.content_text is None:
        return _not_found(f"Submission {ref.submission_id} has no text answer.")
    return _quote_problem(
        item, submission.content_text, f"the text answer of submission {ref.submission_id}"
    )


async def _run(sources: EvidenceSources, ref: RunRef, item: Evidence) -> EvidenceProblem | None:
    run = await sources.test_run(ref.test_run_id)
    if run is None:
        return _not_found(f"No test run {ref.test_run_id} in this candidate session.")
    output = "\n".join(part for part in (run.stdout, run.stderr) if part)
    return _quote_problem(item, output, f"the output of test run {ref.test_run_id}")


async def _commit(
    sources: EvidenceSources, ref: CommitRef, item: Evidence
) -> EvidenceProblem | None:
    cutoffs = await sources.cutoffs()
    if not cutoffs:
        return _not_found(
            f"This candidate session has no code submission, so no commit {ref.sha} to cite."
        )
    matches = {
        commit.sha: commit
        for cutoff in cutoffs
        for commit in await sources.ancestors(cutoff)
        if commit.sha.lower().startswith(ref.sha)
    }
    if not matches:
        return _not_found(
            f"Commit {ref.sha} is neither the cutoff commit of one of this candidate "
            "session's code submissions nor one of its ancestors."
        )
    if len(matches) > 1:
        return EvidenceProblem(
            REF_INVALID, f"The commit ref {ref.sha} names {len(matches)} commits; give more digits."
        )
    (commit,) = matches.values()
    return _quote_problem(item, commit.commit.message, f"the message of commit {commit.sha[:12]}")


async def _transcript(
    sources: EvidenceSources, ref: TranscriptRef, item: Evidence
) -> EvidenceProblem | None:
    recording = await sources.recording(ref.recording_id)
    if recording is None:
        return _not_found(f"No recording {ref.recording_id} in this candidate session.")
    if recording.removed:
        if item.redacted is not None:
            return None  # a citation kept, without its quote, after the media went
        return EvidenceProblem(
            SOURCE_REMOVED,
            f"Recording {ref.recording_id} was deleted or purged with its transcript, so "
            f"{item.ref!r} can no longer be cited.",
        )
    if item.redacted is not None:
        return EvidenceProblem(
            REF_INVALID,
            f"Recording {ref.recording_id} is not removed: cite {item.ref!r} without `redacted`.",
        )
    segments = recording.segments
    if not segments:
        return _not_found(f"Recording {ref.recording_id} has no transcript to cite.")
    if ref.segment >= len(segments):
        return _not_found(
            f"The transcript of recording {ref.recording_id} has no segment {ref.segment}; "
            f"its segments are 0 to {len(segments) - 1}."
        )
    segment = segments[ref.segment]
    # Times are whole milliseconds; a segment's bounds are not.
    low, high = math.floor(segment.start_seconds * 1000), math.ceil(segment.end_seconds * 1000)
    for name, ms in (("startMs", item.start_ms), ("endMs", item.end_ms)):
        if ms is not None and not low <= ms <= high:
            return EvidenceProblem(
                SPAN_INVALID,
                f"{name} {ms} of {item.ref!r} is outside its segment, which runs from "
                f"{low} to {high} ms.",
            )
    return _quote_problem(
        item,
        segment.text,
        f"segment {ref.segment} of the transcript of recording {ref.recording_id}",
    )
