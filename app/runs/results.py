"""Turn a run's downloaded artifacts into normalised test results (SPEC §6.6).

Pure: no database, no network. Bad input never raises; it becomes a `ParsedResults` whose
`result_code` says what was wrong:

- `ARTIFACT_MISSING`: no artifacts, or none holds a results JSON or a JUnit report;
- `ARTIFACT_CORRUPT`: the zip container is unreadable (not a zip, truncated, bad CRC,
  encrypted, unknown compression);
- `ARTIFACT_TOO_LARGE`: a size, entry-count or compression-ratio limit is exceeded;
- `RESULTS_INVALID`: a results file is unreadable or breaks the contract (invalid UTF-8,
  malformed JSON or XML, DTDs or entities, XML nested too deep, bad counts).

The source is, in order: `tenon-test-results.json` in the artifact `tenon-test-results`
(both case-insensitive); any JSON object with `passed`, `failed` and `total` in any artifact;
all JUnit XML files of all artifacts, merged. A JSON result takes its per-test list from the
JUnit files uploaded in the same artifact, when there are any.

JUnit reports stream from the zip, so memory does not grow with their size; of their tests
only the first `max_tests` become (redacted) per-test results, the rest are only counted.

A path that cannot be read raises `OSError`: that is the caller's environment, not the
candidate's input.
"""

from __future__ import annotations

import json
import lzma
import math
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Literal, NamedTuple, Protocol
from xml.etree.ElementTree import Element, ParseError

from defusedxml.ElementTree import iterparse

from app.core.logging import redact_text
from app.runs.models import TestCaseStatus

ResultCode = Literal[
    "OK", "ARTIFACT_MISSING", "ARTIFACT_CORRUPT", "ARTIFACT_TOO_LARGE", "RESULTS_INVALID"
]
ResultSource = Literal["json", "junit"]

PREFERRED_ARTIFACT = "tenon-test-results"
PREFERRED_FILE = "tenon-test-results.json"

_MIB = 1024 * 1024


@dataclass(frozen=True)
class ParseLimits:
    max_archive_bytes: int = 50 * _MIB  # all artifact zips together, as downloaded
    max_uncompressed_bytes: int = 200 * _MIB  # all members together, as declared
    max_member_bytes: int = 32 * _MIB
    max_entries: int = 1000  # all artifacts together
    max_compression_ratio: int = 200  # per member and per archive
    max_xml_depth: int = 64
    max_total: int = 1_000_000  # more tests than this is not a real suite
    max_output_chars: int = 65_536  # stdout, stderr, summary
    max_message_chars: int = 2000  # test names, class names, messages
    max_tests: int = 2000  # per-test results kept


DEFAULT_LIMITS = ParseLimits()


@dataclass(frozen=True)
class ParsedTestCase:
    name: str
    classname: str | None
    status: TestCaseStatus
    duration_ms: int | None
    message: str | None


@dataclass(frozen=True)
class ParsedResults:
    result_code: ResultCode
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    total: int = 0
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    summary: str | None = None
    tests: tuple[ParsedTestCase, ...] = ()
    tests_truncated: bool = False
    source: ResultSource | None = None
    artifact_name: str | None = None
    # Why the result is not OK; on an OK result, a note (e.g. why the per-test list is empty).
    detail: str | None = None


def parse_artifacts(
    artifacts: Sequence[tuple[str, Path]], limits: ParseLimits = DEFAULT_LIMITS
) -> ParsedResults:
    """Parse a run's artifacts, given as (artifact name, downloaded zip path) pairs."""
    if not artifacts:
        return _failure("ARTIFACT_MISSING", "the run uploaded no artifacts")
    try:
        return _results_of(_load_artifacts(artifacts, limits), limits)
    except _ParseError as error:
        return error.result


def parse_file(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedResults:
    """Parse an artifact zip, a directory of artifact zips, a results JSON or a JUnit XML file."""
    if path.is_dir():
        zips = sorted(path.glob("*.zip"))
        return parse_artifacts([(zip_path.stem, zip_path) for zip_path in zips], limits)
    suffix = path.suffix.casefold()
    if suffix == ".zip":
        return parse_artifacts([(path.stem, path)], limits)
    if suffix not in (".json", ".xml"):
        return _failure("RESULTS_INVALID", f"{path.name}: expected a .zip, .json or .xml file")
    if path.stat().st_size > limits.max_member_bytes:
        return _failure(
            "ARTIFACT_TOO_LARGE", f"{path.name} exceeds {limits.max_member_bytes} bytes"
        )
    try:
        if suffix == ".json":
            document = _decode_json(path.read_bytes(), path.name)
            return _json_results(document, path.name, None, limits)
        with path.open("rb") as file:
            report = _parse_junit(file, path.name, limits.max_tests, limits)
        if report is None:
            raise _ParseError("RESULTS_INVALID", f"{path.name}: not a JUnit XML report")
        return _junit_results(report, None, limits)
    except _ParseError as error:
        return error.result


class _ParseError(Exception):
    def __init__(self, code: ResultCode, detail: str, artifact_name: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.artifact_name = artifact_name

    @property
    def result(self) -> ParsedResults:
        return _failure(self.code, self.detail, self.artifact_name)


@contextmanager
def _blaming(artifact_name: str | None) -> Iterator[None]:
    """Name the artifact in failures raised by code that only sees its files."""
    try:
        yield
    except _ParseError as error:
        error.artifact_name = error.artifact_name or artifact_name
        raise


def _failure(code: ResultCode, detail: str, artifact_name: str | None = None) -> ParsedResults:
    # Details quote candidate-controlled names and contents.
    return ParsedResults(
        result_code=code, detail=redact_text(detail)[:1000], artifact_name=artifact_name
    )


# ---- zip archives -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Artifact:
    name: str
    member_names: tuple[str, ...]
    json_files: Mapping[str, bytes]  # the .json members, by member name
    # The .xml members, by member name, tallied as they streamed out of the zip: a report,
    # None when the root is not JUnit's, or why the XML is invalid (raised if it is used).
    junit: Mapping[str, _JUnitReport | _ParseError | None]


# Errors zipfile and its decompressors raise on a damaged, encrypted or exotic archive.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,  # e.g. a member name that is not the UTF-8 its flag claims
    zlib.error,
    lzma.LZMAError,
)
# Below this, a high compression ratio is just a repetitive small file, not a bomb.
_RATIO_FLOOR_BYTES = _MIB
# 46 fixed bytes plus a generous allowance for the name, extra field and comment.
_MAX_DIRECTORY_RECORD_BYTES = 46 + 1024
# ZipFile's own end-of-archive reader; private, but using it means this check and ZipFile
# cannot disagree about where the central directory is or how big it is.
_read_end_record: Any = getattr(zipfile, "_EndRecData")  # noqa: B009
_END_RECORD_DIRECTORY_SIZE = 5


def _load_artifacts(artifacts: Sequence[tuple[str, Path]], limits: ParseLimits) -> list[_Artifact]:
    archive_bytes = sum(path.stat().st_size for _, path in artifacts)
    if archive_bytes > limits.max_archive_bytes:
        raise _ParseError(
            "ARTIFACT_TOO_LARGE",
            f"the artifacts total {archive_bytes} bytes (limit {limits.max_archive_bytes})",
        )
    loaded: list[_Artifact] = []
    entries = uncompressed = 0
    for name, path in artifacts:
        with _open_zip(name, path, limits) as archive:
            infos = archive.infolist()
            entries += len(infos)
            uncompressed += sum(info.file_size for info in infos)
            if entries > limits.max_entries:
                raise _ParseError(
                    "ARTIFACT_TOO_LARGE",
                    f"the artifacts hold more than {limits.max_entries} entries",
                    name,
                )
            if uncompressed > limits.max_uncompressed_bytes:
                raise _ParseError(
                    "ARTIFACT_TOO_LARGE",
                    f"the artifacts expand to more than {limits.max_uncompressed_bytes} bytes",
                    name,
                )
            _check_sizes(name, path.stat().st_size, infos, limits)
            loaded.append(_read_artifact(name, archive, infos, limits))
    return loaded


@contextmanager
def _open_zip(name: str, path: Path, limits: ParseLimits) -> Iterator[zipfile.ZipFile]:
    with path.open("rb") as file:
        _check_directory_size(name, file, limits)
        try:
            archive = zipfile.ZipFile(file)
        except _ZIP_ERRORS as exc:
            raise _ParseError(
                "ARTIFACT_CORRUPT", f"artifact {name!r} is not a readable zip: {exc}", name
            ) from exc
        with archive:
            yield archive


def _check_directory_size(name: str, file: BinaryIO, limits: ParseLimits) -> None:
    # ZipFile indexes the whole central directory when it opens the archive, so an archive
    # of millions of tiny entries must be refused before that, not after.
    end_record = _read_end_record(file)
    file.seek(0)
    if end_record is None:
        return  # not a zip: ZipFile says so
    directory_size: int = end_record[_END_RECORD_DIRECTORY_SIZE]
    if directory_size > limits.max_entries * _MAX_DIRECTORY_RECORD_BYTES:
        raise _ParseError(
            "ARTIFACT_TOO_LARGE",
            f"artifact {name!r} has a {directory_size}-byte central directory "
            f"(more than {limits.max_entries} entries)",
            name,
        )


def _check_sizes(
    name: str, archive_bytes: int, infos: Sequence[zipfile.ZipInfo], limits: ParseLimits
) -> None:
    for info in infos:
        if info.file_size > limits.max_member_bytes:
            raise _ParseError(
                "ARTIFACT_TOO_LARGE",
                f"{name}/{info.filename} expands to {info.file_size} bytes "
                f"(limit {limits.max_member_bytes})",
                name,
            )
        _check_ratio(name, f"{name}/{info.filename}", info.file_size, info.compress_size, limits)
    uncompressed = sum(info.file_size for info in infos)
    _check_ratio(name, f"artifact {name!r}", uncompressed, archive_bytes, limits)


def _check_ratio(name: str, label: str, size: int, compressed: int, limits: ParseLimits) -> None:
    if size > _RATIO_FLOOR_BYTES and size > limits.max_compression_ratio * max(compressed, 1):
        raise _ParseError(
            "ARTIFACT_TOO_LARGE",
            f"{label} expands {size // max(compressed, 1)}:1 "
            f"(limit {limits.max_compression_ratio}:1)",
            name,
        )


def _read_artifact(
    name: str, archive: zipfile.ZipFile, infos: Sequence[zipfile.ZipInfo], limits: ParseLimits
) -> _Artifact:
    candidates = [info for info in infos if _is_results_candidate(info)]
    # A repeated member name: the last member's content in the first one's place.
    last = {info.filename: info for info in candidates}
    repeated = {
        member
        for member, count in Counter(info.filename for info in candidates).items()
        if count > 1
    }
    json_files: dict[str, bytes] = {}
    junit: dict[str, _JUnitReport | _ParseError | None] = {}
    kept = 0  # per-test results held by the reports read so far, all listed before the next
    for info in candidates:
        with _open_member(name, archive, info) as member:
            if info.filename.casefold().endswith(".json"):
                json_files[info.filename] = member.read(info.file_size)
                continue
            junit.setdefault(info.filename, None)
            if last[info.filename] is not info:
                continue  # replaced; still read to its end, so its CRC is checked
            # The merged list takes only its first `max_tests`, so no report needs more than
            # what the reports before it leave. A repeated name is listed where it first
            # appeared, possibly before reports already read: it gets the whole allowance.
            repeat = info.filename in repeated
            where = f"{name}/{info.filename}"
            report = _stream_junit(
                member, where, limits.max_tests - (0 if repeat else kept), limits
            )
            if isinstance(report, _JUnitReport) and not repeat:
                kept += len(report.cases)
            junit[info.filename] = report
    return _Artifact(name, tuple(info.filename for info in infos), json_files, junit)


def _is_results_candidate(info: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(info.filename)
    return (
        not info.filename.endswith("/")  # a directory; ZipInfo.is_dir() fails on ""
        and not path.is_absolute()
        and ".." not in path.parts
        and path.suffix.casefold() in (".json", ".xml")
    )


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Member:
    """A zip member read as a stream; a damaged member raises `ARTIFACT_CORRUPT`.

    The declared size was checked against the limits. ZipExtFile never inflates past it and
    verifies the CRC at the end, so a header that understates the size yields a CRC error,
    not a bomb; hence every member is read to its end, even when its start was enough.
    """

    def __init__(self, name: str, info: zipfile.ZipInfo, file: _Readable) -> None:
        self._where = f"{name}/{info.filename}"
        self._name = name
        self._file = file

    def read(self, size: int = -1) -> bytes:
        try:
            return self._file.read(size)
        except _ZIP_ERRORS as exc:
            raise _ParseError(
                "ARTIFACT_CORRUPT", f"{self._where} cannot be read: {exc}", self._name
            ) from exc

    def drain(self) -> None:
        while self.read(_DRAIN_CHUNK_BYTES):
            pass


_DRAIN_CHUNK_BYTES = 256 * 1024


@contextmanager
def _open_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[_Member]:
    try:
        file = archive.open(info)
    except _ZIP_ERRORS as exc:
        raise _ParseError(
            "ARTIFACT_CORRUPT", f"{name}/{info.filename} cannot be read: {exc}", name
        ) from exc
    with file:
        member = _Member(name, info, file)
        yield member
        member.drain()


def _stream_junit(
    member: _Member, where: str, keep: int, limits: ParseLimits
) -> _JUnitReport | _ParseError | None:
    """Tally a member as it streams; invalid XML is returned, a damaged zip raised."""
    try:
        return _parse_junit(member, where, keep, limits)
    except _ParseError as error:
        if error.code == "ARTIFACT_CORRUPT":
            raise
        return error


# ---- choosing the results source ----------------------------------------------------------


class _JsonChoice(NamedTuple):
    artifact: _Artifact
    member: str
    document: Mapping[str, object]


_JSON_RESULT_KEYS = frozenset({"passed", "failed", "total"})


def _results_of(artifacts: Sequence[_Artifact], limits: ParseLimits) -> ParsedResults:
    choice = _preferred_json(artifacts) or _fallback_json(artifacts)
    if choice is not None:
        where = f"{choice.artifact.name}/{choice.member}"
        with _blaming(choice.artifact.name):
            return _json_results(choice.document, where, choice.artifact, limits)
    reports = [(artifact.name, _junit_reports(artifact)) for artifact in artifacts]
    names = ", ".join(dict.fromkeys(name for name, found in reports if found))
    if not names:
        raise _ParseError("ARTIFACT_MISSING", _nothing_found(artifacts))
    merged = _merge_reports((report for _, found in reports for report in found), limits)
    with _blaming(names):
        return _junit_results(merged, names, limits)


def _preferred_json(artifacts: Sequence[_Artifact]) -> _JsonChoice | None:
    for artifact in artifacts:
        if artifact.name.casefold() != PREFERRED_ARTIFACT:
            continue
        members = [
            member
            for member in artifact.json_files
            if PurePosixPath(member).name.casefold() == PREFERRED_FILE
        ]
        if members:
            member = min(members, key=lambda candidate: (candidate.count("/"), candidate))
            with _blaming(artifact.name):
                document = _decode_json(artifact.json_files[member], f"{artifact.name}/{member}")
            return _JsonChoice(artifact, member, document)
    return None


def _fallback_json(artifacts: Sequence[_Artifact]) -> _JsonChoice | None:
    for artifact in artifacts:
        for member in sorted(artifact.json_files):
            try:
                document = _decode_json(artifact.json_files[member], member)
            except _ParseError:
                continue  # some other JSON file, not ours to judge
            if document.keys() >= _JSON_RESULT_KEYS:
                return _JsonChoice(artifact, member, document)
    return None


def _junit_reports(artifact: _Artifact) -> list[_JUnitReport]:
    reports = []
    with _blaming(artifact.name):
        for report in artifact.junit.values():
            if isinstance(report, _ParseError):
                raise report
            if report is not None:
                reports.append(report)
    return reports


def _nothing_found(artifacts: Sequence[_Artifact]) -> str:
    found = "; ".join(
        f"{artifact.name!r} ({_describe_members(artifact.member_names)})" for artifact in artifacts
    )
    return f"no {PREFERRED_FILE}, results JSON or JUnit XML in the artifacts: {found}"


def _describe_members(names: Sequence[str]) -> str:
    if not names:
        return "empty"
    shown = ", ".join(names[:5])
    more = f", … {len(names) - 5} more" if len(names) > 5 else ""
    return f"{len(names)} entries: {shown}{more}"


# ---- JSON results -------------------------------------------------------------------------


class _Counts(NamedTuple):
    passed: int
    failed: int
    skipped: int
    errors: int
    total: int


def _decode_json(data: bytes, where: str) -> Mapping[str, object]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _ParseError("RESULTS_INVALID", f"{where} is not valid UTF-8: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise _ParseError("RESULTS_INVALID", f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise _ParseError("RESULTS_INVALID", f"{where} is not a JSON object")
    return document


def _json_results(
    document: Mapping[str, object],
    where: str,
    artifact: _Artifact | None,
    limits: ParseLimits,
) -> ParsedResults:
    counts = _json_counts(document, where, limits)
    stdout, stdout_truncated = _bounded(
        _json_text(document, "stdout", where), limits.max_output_chars
    )
    stderr, stderr_truncated = _bounded(
        _json_text(document, "stderr", where), limits.max_output_chars
    )
    summary = document.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise _ParseError("RESULTS_INVALID", f"{where}: 'summary' must be a string")
    junit = _JUnitReport(Counter(), ())
    detail = None
    try:
        junit = _merge_reports(_junit_reports(artifact) if artifact else [], limits)
    except _ParseError as error:
        detail = f"per-test results unavailable: {error}"
    return ParsedResults(
        result_code="OK",
        passed=counts.passed,
        failed=counts.failed,
        skipped=counts.skipped,
        errors=counts.errors,
        total=counts.total,
        stdout=stdout,
        stderr=stderr,
        stdout_truncated=stdout_truncated,
        stderr_truncated=stderr_truncated,
        summary=None if summary is None else _bounded(summary, limits.max_output_chars)[0],
        tests=junit.cases,
        tests_truncated=junit.truncated,
        source="json",
        artifact_name=None if artifact is None else artifact.name,
        detail=detail,
    )


def _json_counts(document: Mapping[str, object], where: str, limits: ParseLimits) -> _Counts:
    counts = _Counts(
        passed=_json_count(document, "passed", where, required=True),
        failed=_json_count(document, "failed", where, required=True),
        skipped=_json_count(document, "skipped", where, required=False),
        errors=_json_count(document, "errors", where, required=False),
        total=_json_count(document, "total", where, required=True),
    )
    _check_total(counts, where, limits)
    return counts


def _json_count(document: Mapping[str, object], key: str, where: str, *, required: bool) -> int:
    if key not in document:
        if required:
            raise _ParseError("RESULTS_INVALID", f"{where}: {key!r} is missing")
        return 0
    value = document[key]
    # `type(...) is int`: JSON true/false decode to bool, a subclass of int.
    if type(value) is not int or value < 0:
        shown = json.dumps(value)[:40]
        raise _ParseError(
            "RESULTS_INVALID", f"{where}: {key!r} must be a non-negative integer, got {shown}"
        )
    return value


def _check_total(counts: _Counts, where: str, limits: ParseLimits) -> None:
    outcomes = counts.passed + counts.failed + counts.skipped + counts.errors
    if counts.total < outcomes:
        raise _ParseError(
            "RESULTS_INVALID",
            f"{where}: total {counts.total} is less than the {outcomes} tests counted "
            "(passed + failed + skipped + errors)",
        )
    if counts.total > limits.max_total:
        raise _ParseError(
            "RESULTS_INVALID", f"{where}: total {counts.total} exceeds {limits.max_total}"
        )


def _json_text(document: Mapping[str, object], key: str, where: str) -> str:
    value = document.get(key, "")
    if not isinstance(value, str):
        raise _ParseError("RESULTS_INVALID", f"{where}: {key!r} must be a string")
    return value


# Redacting a little past the cut keeps a secret that straddles it matchable.
_REDACTION_MARGIN = 1024


def _bounded(text: str, limit: int) -> tuple[str, bool]:
    """Redact, then cut to `limit` characters; also says whether anything was cut."""
    head = text[: limit + _REDACTION_MARGIN]
    redacted = redact_text(head)
    return redacted[:limit], len(text) > len(head) or len(redacted) > limit


# ---- JUnit XML ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _JUnitReport:
    counts: Counter[TestCaseStatus]
    cases: tuple[ParsedTestCase, ...]  # the first `max_tests`

    @property
    def truncated(self) -> bool:
        return self.counts.total() > len(self.cases)


_JUNIT_ROOTS = frozenset({"testsuites", "testsuite"})
# Highest precedence first: one outcome per testcase. Surefire's flakyFailure, flakyError,
# rerunFailure and rerunError are not outcomes: with no failure or error beside them, the
# test passed on a rerun.
_OUTCOME_ELEMENTS: tuple[tuple[str, TestCaseStatus], ...] = (
    ("error", "error"),
    ("failure", "failed"),
    ("skipped", "skipped"),
)
# `status` values some runners (tst, gtest) write for a test that was not run.
_NOT_RUN_STATUSES = frozenset({"disabled", "skipped", "notrun"})
_MAX_DURATION_MS = 2**31 - 1  # the column is a 32-bit integer


# Elements dropped from the tree once read, so memory stays flat however long the report.
_DONE_ELEMENTS = frozenset({"testcase", "testsuite"})


def _parse_junit(
    source: _Readable, where: str, keep: int, limits: ParseLimits
) -> _JUnitReport | None:
    """Tally one JUnit file, keeping the first `keep` tests (only those are redacted); None
    when its root is not `testsuites` or `testsuite`."""
    counts: Counter[TestCaseStatus] = Counter()
    cases: list[ParsedTestCase] = []
    open_elements: list[Element] = []
    try:
        for event, element in iterparse(source, ("start", "end"), forbid_dtd=True):
            if event == "start":
                open_elements.append(element)
                if len(open_elements) == 1 and element.tag not in _JUNIT_ROOTS:
                    return None
                if len(open_elements) > limits.max_xml_depth:
                    raise _ParseError(
                        "RESULTS_INVALID", f"{where} nests deeper than {limits.max_xml_depth}"
                    )
                continue
            open_elements.pop()
            tag = element.tag
            if tag == "testcase":
                if len(cases) < keep:
                    case = _test_case(element, limits)
                    cases.append(case)
                    counts[case.status] += 1
                elif len(element) == 0 and element.get("status") is None:
                    counts["passed"] += 1  # most tests: nothing to look at
                else:
                    counts[_outcome(element)[0]] += 1
            if tag in _DONE_ELEMENTS and open_elements:
                element.clear()
                open_elements[-1].remove(element)
    # ValueError: defusedxml's refusals, and encodings expat cannot use; LookupError: an
    # encoding declaration naming no known codec.
    except (ParseError, ValueError, LookupError) as exc:
        raise _ParseError("RESULTS_INVALID", f"{where} is not valid XML: {exc!r}") from exc
    return _JUnitReport(counts, tuple(cases))


def _test_case(element: Element, limits: ParseLimits) -> ParsedTestCase:
    status, outcome = _outcome(element)
    message = None
    if outcome is not None:
        message = outcome.get("message") or (outcome.text or "").strip() or None
    classname = element.get("classname")
    return ParsedTestCase(
        name=_bounded(element.get("name", ""), limits.max_message_chars)[0],
        classname=None if classname is None else _bounded(classname, limits.max_message_chars)[0],
        status=status,
        duration_ms=_duration_ms(element.get("time")),
        message=None if message is None else _bounded(message, limits.max_message_chars)[0],
    )


def _outcome(element: Element) -> tuple[TestCaseStatus, Element | None]:
    for tag, status in _OUTCOME_ELEMENTS:
        found = element.find(tag)
        if found is not None:
            return status, found
    if element.get("status", "").casefold() in _NOT_RUN_STATUSES:
        return "skipped", None
    return "passed", None


def _duration_ms(seconds: str | None) -> int | None:
    if seconds is None:
        return None
    try:
        value = float(seconds) * 1000
    except ValueError:
        return None
    if not math.isfinite(value) or not 0 <= value <= _MAX_DURATION_MS:
        return None
    return round(value)


def _merge_reports(reports: Iterable[_JUnitReport], limits: ParseLimits) -> _JUnitReport:
    counts: Counter[TestCaseStatus] = Counter()
    cases: list[ParsedTestCase] = []
    for report in reports:
        counts.update(report.counts)
        cases.extend(report.cases[: limits.max_tests - len(cases)])
    return _JUnitReport(counts, tuple(cases))


def _junit_results(
    report: _JUnitReport, artifact_name: str | None, limits: ParseLimits
) -> ParsedResults:
    counts = _Counts(
        passed=report.counts["passed"],
        failed=report.counts["failed"],
        skipped=report.counts["skipped"],
        errors=report.counts["error"],
        total=report.counts.total(),
    )
    _check_total(counts, "the JUnit reports", limits)
    return ParsedResults(
        result_code="OK",
        passed=counts.passed,
        failed=counts.failed,
        skipped=counts.skipped,
        errors=counts.errors,
        total=counts.total,
        tests=report.cases,
        tests_truncated=report.truncated,
        source="junit",
        artifact_name=artifact_name,
    )
