"""Artifact and test-result parsing (SPEC §6.6): the JSON contract, JUnit XML, hostile zips
and XML, output bounds, and `tenon results parse`.

The JUnit corpus under `tests/fixtures/junit/publish-unit-test-result-action/` is test data
of EnricoMi/publish-unit-test-result-action (`python/test/files/junit-xml/`), used under the
Apache License 2.0 in that folder's LICENSE file. Each `*.results.json` holds that tool's own
counts for the sibling XML; an `*.exception` marks a file it fails to parse.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import pytest

from app.core.logging import REDACTED, redact_text
from app.runs import results
from app.runs.results import ParsedResults, ParseLimits, parse_artifacts, parse_file
from tests.support.corpora import CORPORA
from tests.support.paths import REPOSITORY_ROOT

JUNIT_CORPUS = CORPORA / "junit" / "publish-unit-test-result-action"

# (passed, skipped, failed, errors) under our rules where they differ from the tool's
# `tests_*` counts, which count unique test names and read suite attributes.
OUR_COUNTS: dict[str, tuple[int, int, int, int]] = {
    # 109 testcases under 101 distinct names: we count every testcase, not every name.
    "mocha/latex-utensils.xml": (109, 0, 0, 0),
    # A suite that claims tests="6" but holds no testcase: counts come from testcases only.
    "no-cases-but-tests.xml": (0, 0, 0, 0),
}


CORPUS_XML = sorted(JUNIT_CORPUS.rglob("*.xml"))


def _corpus_files(*, broken: bool) -> list[Path]:
    return [xml for xml in CORPUS_XML if xml.with_suffix(".exception").exists() == broken]


def _corpus_id(path: Path) -> str:
    return path.relative_to(JUNIT_CORPUS).as_posix()


# ---- builders ----------------------------------------------------------------------------


def _zip(path: Path, members: Mapping[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _artifact(tmp_path: Path, name: str, members: Mapping[str, bytes | str]) -> tuple[str, Path]:
    return name, _zip(tmp_path / f"{name}.zip", members)


def _contract(**fields: object) -> str:
    document: dict[str, object] = {
        "passed": 3,
        "failed": 1,
        "total": 5,
        "stdout": "collected 5 items",
        "stderr": "",
    }
    document.update(fields)
    return json.dumps(document)


def _junit(*cases: str) -> str:
    return f'<testsuites><testsuite name="s">{"".join(cases)}</testsuite></testsuites>'


def _parse_one(tmp_path: Path, members: Mapping[str, bytes | str], **limits: int) -> ParsedResults:
    artifact = _artifact(tmp_path, "tenon-test-results", members)
    return parse_artifacts([artifact], ParseLimits(**limits))


def _counts(result: ParsedResults) -> tuple[int, int, int, int, int]:
    return result.passed, result.failed, result.skipped, result.errors, result.total


# ---- the corpus --------------------------------------------------------------------------


@pytest.mark.parametrize("xml", _corpus_files(broken=False), ids=_corpus_id)
def test_corpus_counts_match_the_reference(xml: Path) -> None:
    stats = json.loads(xml.with_suffix(".results.json").read_text())["stats"]
    reference = (
        stats["tests_succ"],
        stats["tests_skip"],
        stats["tests_fail"],
        stats["tests_error"],
    )
    expected = OUR_COUNTS.get(_corpus_id(xml), reference)

    result = parse_file(xml)

    assert result.result_code == "OK", result.detail
    assert (result.passed, result.skipped, result.failed, result.errors) == expected
    assert result.total == sum(expected) == len(result.tests)
    assert result.source == "junit"


@pytest.mark.parametrize("xml", _corpus_files(broken=True), ids=_corpus_id)
def test_corpus_files_the_reference_rejects_are_invalid(xml: Path) -> None:
    result = parse_file(xml)

    assert result.result_code == "RESULTS_INVALID"
    assert result.detail


def test_every_corpus_file_is_checked_against_a_reference() -> None:
    assert len(CORPUS_XML) > 20
    for xml in _corpus_files(broken=False):
        assert xml.with_suffix(".results.json").is_file(), xml
    assert all((JUNIT_CORPUS / name).is_file() for name in OUR_COUNTS)


# ---- the JSON contract -------------------------------------------------------------------


def test_contract_json_gives_counts_output_and_summary(tmp_path: Path) -> None:
    result = _parse_one(
        tmp_path, {"tenon-test-results.json": _contract(skipped=1, summary="3 passed, 1 failed")}
    )

    assert result.result_code == "OK"
    assert _counts(result) == (3, 1, 1, 0, 5)
    assert (result.stdout, result.stderr) == ("collected 5 items", "")
    assert result.summary == "3 passed, 1 failed"
    assert (result.source, result.artifact_name, result.tests) == ("json", "tenon-test-results", ())


def test_contract_json_without_optional_keys_has_empty_output(tmp_path: Path) -> None:
    document = json.dumps({"passed": 2, "failed": 0, "total": 2})

    result = _parse_one(tmp_path, {"tenon-test-results.json": document})

    assert _counts(result) == (2, 0, 0, 0, 2)
    assert (result.stdout, result.stderr, result.summary) == ("", "", None)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(json.dumps({"failed": 0, "total": 1}), id="missing-passed"),
        pytest.param(json.dumps({"passed": 1, "failed": 0}), id="missing-total"),
        pytest.param(_contract(failed=-1), id="negative"),
        pytest.param(_contract(passed=True), id="bool"),
        pytest.param(_contract(passed="3"), id="string"),
        pytest.param(_contract(passed=3.0), id="float"),
        pytest.param(_contract(skipped=None), id="null-skipped"),
        pytest.param(_contract(passed=2_000_000, total=2_000_000), id="absurd-total"),
        pytest.param(_contract(total=3), id="total-below-passed-plus-failed"),
        pytest.param(_contract(skipped=2), id="total-below-with-skipped"),
        pytest.param(_contract(stdout=["line"]), id="stdout-not-a-string"),
        pytest.param(_contract(summary=7), id="summary-not-a-string"),
        pytest.param("[1, 2, 3]", id="not-an-object"),
        pytest.param('{"passed": 1,', id="malformed"),
        pytest.param("[" * 100_000, id="nested-too-deep"),
        pytest.param(b'{"passed": 1, "failed": 0, "total": 1, "stdout": "\xff\xfe"}', id="utf8"),
    ],
)
def test_contract_json_violations_are_results_invalid(
    tmp_path: Path, document: str | bytes
) -> None:
    result = _parse_one(tmp_path, {"tenon-test-results.json": document})

    assert (result.result_code, result.artifact_name) == ("RESULTS_INVALID", "tenon-test-results")
    assert _counts(result) == (0, 0, 0, 0, 0)
    assert result.detail


def test_invalid_contract_json_does_not_fall_back_to_junit(tmp_path: Path) -> None:
    members = {"tenon-test-results.json": _contract(failed=-1), "junit.xml": _junit("<testcase/>")}

    assert _parse_one(tmp_path, members).result_code == "RESULTS_INVALID"


def test_preferred_artifact_and_file_names_are_case_insensitive(tmp_path: Path) -> None:
    artifacts = [
        _artifact(tmp_path, "other", {"results.json": _contract(passed=0, failed=0, total=0)}),
        _artifact(tmp_path, "Tenon-Test-Results", {"out/TENON-test-results.json": _contract()}),
    ]

    result = parse_artifacts(artifacts)

    assert (result.artifact_name, _counts(result)) == ("Tenon-Test-Results", (3, 1, 0, 0, 5))


def test_results_json_in_any_artifact_is_the_fallback(tmp_path: Path) -> None:
    artifacts = [
        _artifact(tmp_path, "build", {"package.json": '{"name": "app"}', "bad.json": b"\xff"}),
        _artifact(tmp_path, "logs", {"reports/summary.json": _contract(errors=1)}),
        _artifact(tmp_path, "junit", {"junit.xml": _junit("<testcase/>")}),
    ]

    result = parse_artifacts(artifacts)

    assert (result.source, result.artifact_name) == ("json", "logs")
    assert _counts(result) == (3, 1, 0, 1, 5)


def test_junit_files_of_all_artifacts_are_merged(tmp_path: Path) -> None:
    artifacts = [
        _artifact(tmp_path, "unit", {"a/junit.xml": _junit('<testcase name="a"/>')}),
        _artifact(
            tmp_path,
            "e2e",
            {
                "coverage.xml": '<coverage line-rate="0.9"/>',
                "junit.xml": _junit('<testcase name="b"><failure/></testcase>'),
            },
        ),
    ]

    result = parse_artifacts(artifacts)

    assert (result.source, result.artifact_name) == ("junit", "unit, e2e")
    assert _counts(result) == (1, 1, 0, 0, 2)
    assert [test.name for test in result.tests] == ["a", "b"]


def test_contract_json_takes_its_test_list_from_junit_beside_it(tmp_path: Path) -> None:
    junit = _junit(
        '<testcase classname="t.api" name="test_ok" time="0.25"/>',
        '<testcase classname="t.api" name="test_bad" time="1.5">'
        '<failure message="assert 1 == 2">trace</failure></testcase>',
    )
    members = {"tenon-test-results.json": _contract(), "tenon-junit.xml": junit}

    result = _parse_one(tmp_path, members)

    assert (result.source, _counts(result)) == ("json", (3, 1, 0, 0, 5))
    assert [(t.name, t.classname, t.status, t.duration_ms, t.message) for t in result.tests] == [
        ("test_ok", "t.api", "passed", 250, None),
        ("test_bad", "t.api", "failed", 1500, "assert 1 == 2"),
    ]


def test_broken_junit_beside_contract_json_only_loses_the_test_list(tmp_path: Path) -> None:
    members = {"tenon-test-results.json": _contract(), "tenon-junit.xml": "<testsuites><oops"}

    result = _parse_one(tmp_path, members)

    assert (result.result_code, _counts(result), result.tests) == ("OK", (3, 1, 0, 0, 5), ())
    assert result.detail is not None
    assert result.detail.startswith("per-test results unavailable")


def test_no_artifacts_is_artifact_missing() -> None:
    assert parse_artifacts([]).result_code == "ARTIFACT_MISSING"


def test_artifacts_without_results_are_missing_and_say_what_was_found(tmp_path: Path) -> None:
    artifacts = [
        _artifact(tmp_path, "screenshots", {"home.png": b"\x89PNG", "coverage.xml": "<coverage/>"}),
        _artifact(tmp_path, "evil", {"../tenon-test-results.json": _contract()}),
        _artifact(tmp_path, "empty", {}),
    ]

    result = parse_artifacts(artifacts)

    assert result.result_code == "ARTIFACT_MISSING"
    assert result.detail is not None
    assert "'screenshots' (2 entries: home.png, coverage.xml)" in result.detail
    assert "'empty' (empty)" in result.detail


def test_parse_file_reads_a_directory_of_artifact_zips(tmp_path: Path) -> None:
    _zip(tmp_path / "tenon-test-results.zip", {"tenon-test-results.json": _contract()})
    _zip(tmp_path / "logs.zip", {"log.txt": "hello"})

    result = parse_file(tmp_path)

    assert (result.artifact_name, _counts(result)) == ("tenon-test-results", (3, 1, 0, 0, 5))


def test_parse_file_reads_a_bare_contract_json(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(_contract())

    result = parse_file(path)

    assert (result.source, result.artifact_name, _counts(result)) == ("json", None, (3, 1, 0, 0, 5))


# ---- JUnit semantics ---------------------------------------------------------------------


def test_surefire_reruns_pass_unless_a_real_failure_remains(tmp_path: Path) -> None:
    # The shapes of the reference tool's `flaky.xml` (Surefire with rerunFailingTestsCount).
    junit = _junit(
        '<testcase name="throws"><error message="boom"/><rerunError message="boom"/></testcase>',
        '<testcase name="fails"><failure message="no"/><rerunFailure message="no"/></testcase>',
        '<testcase name="flaky-failure"><flakyFailure message="first try"/></testcase>',
        '<testcase name="flaky-error"><flakyError message="first try"/></testcase>',
    )

    result = _parse_one(tmp_path, {"junit.xml": junit})

    assert [(test.name, test.status, test.message) for test in result.tests] == [
        ("throws", "error", "boom"),
        ("fails", "failed", "no"),
        ("flaky-failure", "passed", None),
        ("flaky-error", "passed", None),
    ]


def test_junit_testsuite_root_and_deep_nesting(tmp_path: Path) -> None:
    nested = '<testsuite name="n">' * 20 + '<testcase name="deep"/>' + "</testsuite>" * 20

    result = _parse_one(tmp_path, {"junit.xml": nested})

    assert [test.name for test in result.tests] == ["deep"]


def test_junit_odd_durations_are_dropped(tmp_path: Path) -> None:
    times = ["abc", "-1", "inf", "nan", "1e12", "0.0004"]
    junit = _junit(*(f'<testcase name="{time}" time="{time}"/>' for time in times))

    result = _parse_one(tmp_path, {"junit.xml": junit})

    assert [test.duration_ms for test in result.tests] == [None, None, None, None, None, 0]


def test_junit_message_falls_back_to_text_and_is_bounded(tmp_path: Path) -> None:
    token = "ghp_" + "a" * 36
    junit = _junit(
        f"<testcase name='t'><error>  token {token} leaked {'x' * 5000}</error></testcase>"
    )

    result = _parse_one(tmp_path, {"junit.xml": junit}, max_message_chars=100)

    message = result.tests[0].message
    assert message is not None
    assert message.startswith(f"token {REDACTED} leaked xxx")
    assert len(message) == 100


def test_test_list_is_capped_across_files_but_counts_are_not(tmp_path: Path) -> None:
    artifacts = [
        _artifact(tmp_path, f"part{n}", {"junit.xml": _junit(*['<testcase name="t"/>'] * 3)})
        for n in range(2)
    ]

    result = parse_artifacts(artifacts, ParseLimits(max_tests=4))

    assert (result.total, len(result.tests), result.tests_truncated) == (6, 4, True)


def test_counts_past_the_test_list_cap_keep_every_outcome(tmp_path: Path) -> None:
    kept = "<testcase name='a'/>" * 2
    counted = (
        "<testcase name='p'/>"
        "<testcase name='f'><failure/></testcase>"
        "<testcase name='e'><failure/><error/></testcase>"
        "<testcase name='s'><skipped/></testcase>"
        "<testcase name='d' status='Disabled'/>"
        "<testcase name='r'><rerunFailure/><system-out>flaky</system-out></testcase>"
    )

    result = _parse_one(tmp_path, {"junit.xml": _junit(kept + counted)}, max_tests=2)

    assert _counts(result) == (4, 1, 2, 1, 8)
    assert [test.name for test in result.tests] == ["a", "a"]


def test_a_repeated_member_name_lists_the_last_member_where_the_first_was(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("junit.xml", _junit(*[f"<testcase name='a{n}'/>" for n in range(3)]))
        archive.writestr("other.xml", _junit("<testcase name='o'/>"))
        with pytest.warns(UserWarning, match="Duplicate"):
            archive.writestr("junit.xml", _junit("<testcase name='b0'/><testcase name='b1'/>"))

    result = parse_artifacts([("a", path)], ParseLimits(max_tests=3))

    assert result.total == 3
    assert [test.name for test in result.tests] == ["b0", "b1", "o"]


def test_only_the_kept_tests_are_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "ghp_" + "b" * 36
    failing = f"<testcase name='t' classname='c'><failure message='{token}'/></testcase>"
    redacted: list[str] = []

    def counting_redact(text: str) -> str:
        redacted.append(text)
        return redact_text(text)

    monkeypatch.setattr(results, "redact_text", counting_redact)
    result = _parse_one(tmp_path, {"junit.xml": _junit(*[failing] * 500)}, max_tests=3)

    assert (result.failed, result.total, len(result.tests)) == (500, 500, 3)
    assert {test.message for test in result.tests} == {REDACTED}
    assert len(redacted) == 3 * 3  # name, class name and message of each kept test


def _many_tests(count: int) -> str:
    # Random names, so the member compresses like a real report, not like a bomb.
    rng = random.Random(count)
    return _junit(
        *(f'<testcase name="t{rng.getrandbits(64):x}" time="0.001"/>' for _ in range(count))
    )


def _traced_peak(tmp_path: Path, document: str) -> tuple[ParsedResults, int]:
    artifact = _artifact(tmp_path, "junit", {"junit.xml": document})
    tracemalloc.start()
    try:
        result = parse_artifacts([artifact], ParseLimits(max_tests=10))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_large_report_streams_in_memory_that_does_not_grow_with_it(tmp_path: Path) -> None:
    small, large = _many_tests(40_000), _many_tests(80_000)

    small_result, small_peak = _traced_peak(tmp_path, small)
    large_result, large_peak = _traced_peak(tmp_path, large)

    assert (small_result.total, large_result.total) == (40_000, 80_000)
    # Neither the member's bytes nor its parsed testcases are held: a fraction of the
    # 2 MB small report, and no more for twice the tests.
    assert small_peak < len(small) // 4
    assert large_peak < small_peak * 1.5


@pytest.mark.parametrize(
    "document",
    [pytest.param(_junit("<testcase/>"), id="junit"), pytest.param("<coverage/>", id="not-junit")],
)
def test_xml_member_with_a_bad_crc_is_artifact_corrupt(tmp_path: Path, document: str) -> None:
    # Padding past the parser's first read: a report it stops reading early is still checked.
    path = _zip(tmp_path / "good.zip", {"junit.xml": document + " " * 100_000})
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    broken = _patched_member(
        path.read_bytes(), method=info.compress_type, crc=info.CRC ^ 1, file_size=info.file_size
    )

    assert parse_artifacts([_write(tmp_path, "a", broken)]).result_code == "ARTIFACT_CORRUPT"


def test_junit_xml_nested_ten_thousand_deep_is_results_invalid(tmp_path: Path) -> None:
    deep = "<testsuites>" + "<testsuite>" * 10_000 + "</testsuite>" * 10_000 + "</testsuites>"

    result = _parse_one(tmp_path, {"junit.xml": deep})

    assert result.result_code == "RESULTS_INVALID"
    assert result.detail is not None
    assert "deeper than 64" in result.detail


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE testsuites [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuites><testsuite><testcase name="&lol3;"/></testsuite></testsuites>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite><testcase name="&secret;"/></testsuite></testsuites>
"""
BARE_DOCTYPE = (
    '<!DOCTYPE testsuites><testsuites><testsuite><testcase name="t"/></testsuite></testsuites>'
)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(BILLION_LAUGHS, id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, id="external-entity"),
        pytest.param(BARE_DOCTYPE, id="doctype"),
        pytest.param(b'<testsuites><testcase name="\xff\xfe"/></testsuites>', id="invalid-utf8"),
        pytest.param("<testsuites><testsuite>", id="truncated"),
        pytest.param('<?xml version="1.0" encoding="big5"?><testsuites/>', id="multibyte-codec"),
        pytest.param('<?xml version="1.0" encoding="utf-a"?><testsuites/>', id="unknown-codec"),
        pytest.param('<?xml version="1.0" encoding="idna"?><testsuites/>', id="idna-codec"),
        pytest.param("not xml at all", id="not-xml"),
    ],
)
def test_hostile_or_broken_junit_is_results_invalid(tmp_path: Path, document: str | bytes) -> None:
    result = _parse_one(tmp_path, {"junit.xml": document})

    assert result.result_code == "RESULTS_INVALID"
    assert result.tests == ()


# ---- hostile and broken zips -------------------------------------------------------------

GIB = 1 << 30
# zlib.crc32 of GIB zero bytes, precomputed to keep the module fast.
GIB_OF_ZEROS_CRC = 0x5B64C2B0


def _deflated_zeros(mebibytes: int) -> bytes:
    # After a full flush the compressor's state repeats, so one flushed block of a MiB of
    # zeros can be repeated instead of compressing a gigabyte.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    mebibyte = bytes(1 << 20)
    first = compressor.compress(mebibyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(mebibyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + repeated * (mebibytes - 1) + compressor.flush()


def _patched_member(archive: bytes, *, method: int, crc: int, file_size: int) -> bytes:
    """Rewrite the one member's local and central headers: method, CRC, uncompressed size."""
    data = bytearray(archive)
    central = data.rindex(b"PK\x01\x02")
    for header, offsets in ((0, (8, 14, 22)), (central, (10, 16, 24))):
        for offset, value, width in zip(offsets, (method, crc, file_size), (2, 4, 4), strict=True):
            data[header + offset : header + offset + width] = value.to_bytes(width, "little")
    return bytes(data)


@pytest.fixture(scope="module")
def gib_bomb_stored(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A zip whose member is a deflate stream of 1 GiB of zeros, still labelled STORED."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("tenon-test-results.json", _deflated_zeros(1024))
    return path.read_bytes()


def _write(tmp_path: Path, name: str, data: bytes) -> tuple[str, Path]:
    path = tmp_path / f"{name}.zip"
    path.write_bytes(data)
    return name, path


def test_gigabyte_zip_bomb_is_refused_from_its_declared_size(
    tmp_path: Path, gib_bomb_stored: bytes
) -> None:
    bomb = _patched_member(
        gib_bomb_stored, method=zipfile.ZIP_DEFLATED, crc=GIB_OF_ZEROS_CRC, file_size=GIB
    )
    assert len(bomb) < 2 * (1 << 20)

    result = parse_artifacts([_write(tmp_path, "tenon-test-results", bomb)])

    assert result.result_code == "ARTIFACT_TOO_LARGE"
    assert result.artifact_name == "tenon-test-results"


def test_zip_header_understating_the_size_inflates_no_further(
    tmp_path: Path, gib_bomb_stored: bytes
) -> None:
    liar = _patched_member(
        gib_bomb_stored, method=zipfile.ZIP_DEFLATED, crc=GIB_OF_ZEROS_CRC, file_size=1000
    )
    artifact = _write(tmp_path, "tenon-test-results", liar)

    tracemalloc.start()
    try:
        result = parse_artifacts([artifact])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.result_code == "ARTIFACT_CORRUPT"
    assert peak < 16 * (1 << 20)


def test_high_compression_ratio_is_too_large_even_under_the_size_limits(tmp_path: Path) -> None:
    result = _parse_one(tmp_path, {"tenon-test-results.json": bytes(8 << 20)})

    assert result.result_code == "ARTIFACT_TOO_LARGE"
    assert result.detail is not None
    assert ":1" in result.detail


def test_too_many_entries_is_too_large(tmp_path: Path) -> None:
    members = {f"f{n}.txt": "" for n in range(1001)}

    assert _parse_one(tmp_path, members).result_code == "ARTIFACT_TOO_LARGE"


def test_oversized_central_directory_is_refused_before_it_is_indexed(tmp_path: Path) -> None:
    members = {f"{'d' * 200}/{n}.txt": "" for n in range(100)}

    result = _parse_one(tmp_path, members, max_entries=10)

    assert result.result_code == "ARTIFACT_TOO_LARGE"
    assert result.detail is not None
    assert "central directory" in result.detail


def test_artifacts_over_the_compressed_limit_are_too_large(tmp_path: Path) -> None:
    result = _parse_one(tmp_path, {"tenon-test-results.json": _contract()}, max_archive_bytes=100)

    assert result.result_code == "ARTIFACT_TOO_LARGE"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty-file"),
        pytest.param(b"this is not a zip", id="not-a-zip"),
        pytest.param(b"PK\x03\x04" + bytes(100), id="local-header-only"),
    ],
)
def test_unreadable_zip_is_artifact_corrupt(tmp_path: Path, data: bytes) -> None:
    assert parse_artifacts([_write(tmp_path, "a", data)]).result_code == "ARTIFACT_CORRUPT"


def test_member_with_a_bad_crc_is_artifact_corrupt(tmp_path: Path) -> None:
    path = _zip(tmp_path / "good.zip", {"tenon-test-results.json": _contract()})
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    broken = _patched_member(
        path.read_bytes(), method=info.compress_type, crc=info.CRC ^ 1, file_size=info.file_size
    )

    result = parse_artifacts([_write(tmp_path, "tenon-test-results", broken)])

    assert result.result_code == "ARTIFACT_CORRUPT"


def test_member_name_that_is_not_the_utf8_it_claims_is_artifact_corrupt(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "good.zip", {"\u00e9.json": "{}"}).read_bytes()
    broken = archive.replace("\u00e9".encode(), b"\xa6\xa9")

    assert parse_artifacts([_write(tmp_path, "a", broken)]).result_code == "ARTIFACT_CORRUPT"


def test_member_with_an_empty_name_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), "")
        archive.writestr("junit.xml", _junit("<testcase/>"))

    assert parse_artifacts([("a", path)]).total == 1


def test_empty_zip_is_artifact_missing(tmp_path: Path) -> None:
    assert _parse_one(tmp_path, {}).result_code == "ARTIFACT_MISSING"


# ---- output bounds -----------------------------------------------------------------------


def test_output_is_redacted_then_truncated(tmp_path: Path) -> None:
    token = "ghp_" + "A1b2" * 9
    # The token straddles the cut: redacting first means no prefix of it survives.
    stdout = "x" * 94 + " " + token + " " + "y" * 500
    document = _contract(stdout=stdout, stderr=f"push with {token}")

    result = _parse_one(tmp_path, {"tenon-test-results.json": document}, max_output_chars=100)

    assert (result.stdout, result.stdout_truncated) == ("x" * 94 + " " + REDACTED[:5], True)
    assert (result.stderr, result.stderr_truncated) == (f"push with {REDACTED}", False)


def test_output_far_over_the_limit_is_truncated(tmp_path: Path) -> None:
    # Random hex: repetitive output would trip the compression-ratio limit instead.
    document = _contract(stdout=random.Random(0).randbytes(1_500_000).hex())

    result = _parse_one(tmp_path, {"tenon-test-results.json": document}, max_output_chars=1000)

    assert (len(result.stdout), result.stdout_truncated) == (1000, True)


# ---- the command -------------------------------------------------------------------------


def _tenon(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("TENON_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=clean | {"TENON_ENV": "test"},
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_results_parse_prints_one_json_line_per_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    report = JUNIT_CORPUS / "pytest" / "junit.fail.xml"

    completed = _tenon("results", "parse", str(report), str(bad))

    assert completed.returncode == 0, completed.stderr
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(report), str(bad)]
    assert lines[0] | {"file": None} == {
        "file": None,
        "resultCode": "OK",
        "passed": 3,
        "failed": 1,
        "skipped": 1,
        "errors": 0,
        "total": 5,
        "tests": 5,
        "testsTruncated": False,
        "source": "junit",
        "artifactName": None,
        "detail": None,
    }
    assert (lines[1]["resultCode"], lines[1]["total"]) == ("ARTIFACT_CORRUPT", 0)


def test_results_parse_of_a_missing_path_exits_2(tmp_path: Path) -> None:
    completed = _tenon("results", "parse", str(tmp_path / "nope.zip"))

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "no such file" in completed.stderr
