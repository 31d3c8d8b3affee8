"""Parsing an evidence item's `ref` by its kind (the grammar is in `schemas.Evidence`).

Parsing only reads the text: whether the ids exist, and belong to the reviewed candidate
session, is the sources' business (`evidence_sources`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# PostgreSQL's bigint: a larger id cannot name a row (and would fail the query).
_MAX_ID = 2**63 - 1
_ID = r"[0-9]{1,19}"
_LINE = r"[0-9]{1,9}"
# `#L{n}` alone is the one line n, as on GitHub.
_DIFF = re.compile(
    rf"(?P<id>{_ID}):(?P<path>[^#]+)(?:#L(?P<start>{_LINE})(?:-L(?P<end>{_LINE}))?)?"
)
_TEST = re.compile(rf"(?P<source>run|grading):(?P<id>{_ID}):(?P<name>.+)", re.DOTALL)
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
_TRANSCRIPT = re.compile(rf"(?P<id>{_ID}):(?P<segment>{_LINE})")


class RefInvalidError(ValueError):
    """The ref does not follow its kind's grammar; the message says how it should read."""


@dataclass(frozen=True)
class LineSpan:
    """Lines `start` to `end` of a file, 1-based and inclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class DiffRef:
    submission_id: int
    path: str
    span: LineSpan | None


@dataclass(frozen=True)
class TestRef:
    __test__ = False  # not a pytest test class, despite the name

    source: Literal["run", "grading"]
    id: int
    name: str


@dataclass(frozen=True)
class TextRef:
    submission_id: int


@dataclass(frozen=True)
class CommitRef:
    sha: str  # lower case, 7 to 40 hex digits


@dataclass(frozen=True)
class RunRef:
    test_run_id: int


@dataclass(frozen=True)
class TranscriptRef:
    recording_id: int
    segment: int  # the segment's position in the transcript, from 0


ParsedRef = DiffRef | TestRef | TextRef | CommitRef | RunRef | TranscriptRef


def parse_ref(kind: str, ref: str) -> ParsedRef:
    """The ref of an item of `kind`, or RefInvalidError."""
    parser = _PARSERS.get(kind)
    if parser is None:
        raise RefInvalidError(f"Evidence of kind {kind!r} has no ref to parse.")
    return parser(ref)


def _parse_diff(ref: str) -> DiffRef:
    match = _DIFF.fullmatch(ref)
    if match is None:
        raise RefInvalidError(
            f"The diff ref {ref!r} is not `{{submissionId}}:{{path}}` or "
            "`{submissionId}:{path}#L{start}-L{end}`."
        )
    path = match["path"]
    segments = path.split("/")
    if any(segment in ("", ".", "..") for segment in segments) or path != path.strip():
        raise RefInvalidError(
            f"The path {path!r} in the diff ref {ref!r} is not a file path relative to the "
            "repository's root."
        )
    span = None
    if match["start"] is not None:
        start = int(match["start"])
        span = LineSpan(start, int(match["end"]) if match["end"] is not None else start)
    return DiffRef(_id(match["id"], ref), path, span)


def _parse_test(ref: str) -> TestRef:
    match = _TEST.fullmatch(ref)
    if match is None:
        raise RefInvalidError(
            f"The test ref {ref!r} is not `run:{{testRunId}}:{{testName}}` or "
            "`grading:{gradingId}:{testName}`."
        )
    source: Literal["run", "grading"] = "run" if match["source"] == "run" else "grading"
    return TestRef(source, _id(match["id"], ref), match["name"])


def _parse_text(ref: str) -> TextRef:
    return TextRef(_whole_id(ref, "text", "{submissionId}"))


def _parse_run(ref: str) -> RunRef:
    return RunRef(_whole_id(ref, "run", "{testRunId}"))


def _parse_commit(ref: str) -> CommitRef:
    if _SHA.fullmatch(ref) is None:
        raise RefInvalidError(f"The commit ref {ref!r} is not a commit SHA (7 to 40 hex digits).")
    return CommitRef(ref.lower())


def _parse_transcript(ref: str) -> TranscriptRef:
    match = _TRANSCRIPT.fullmatch(ref)
    if match is None:
        raise RefInvalidError(
            f"The transcript ref {ref!r} is not `{{recordingId}}:{{segmentIndex}}` (two numbers)."
        )
    return TranscriptRef(_id(match["id"], ref), int(match["segment"]))


def _whole_id(ref: str, kind: str, shape: str) -> int:
    if re.fullmatch(_ID, ref) is None:
        raise RefInvalidError(f"The {kind} ref {ref!r} is not `{shape}` (a number).")
    return _id(ref, ref)


def _id(digits: str, ref: str) -> int:
    value = int(digits)
    if not 0 < value <= _MAX_ID:
        raise RefInvalidError(f"The id {digits} in the ref {ref!r} is not a valid id.")
    return value


_PARSERS: dict[str, Callable[[str], ParsedRef]] = {
    "diff": _parse_diff,
    "test": _parse_test,
    "text": _parse_text,
    "commit": _parse_commit,
    "run": _parse_run,
    "transcript": _parse_transcript,
}
