"""JUnit parsing benchmark: `parse_artifacts` against a plain `iterparse` pass over the same
zipped report, for CPU time (median of interleaved rounds) and peak memory.

    .venv/bin/python -m benchmarks.parse [--sizes 50000 100000] [--rounds 5] [--seed 16]

Each size is one artifact zip, as GitHub Actions uploads it, holding one JUnit report of that
many testcases: 2 % failures and 0.5 % errors whose messages and output carry tokens the
redaction rules target, 3 % skipped, the rest passed. The plain pass streams the member
through defusedxml's `iterparse`, clearing every element at its end; it is the floor any
parser that must refuse DTDs pays. The standard library's C `iterparse`, which cannot refuse
them, is timed too, as the floor of parsing at all. Memory is measured in a fresh child
process per (size, parser): its peak RSS (VmHWM) above the peak after imports, and the
tracemalloc peak of a second run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path
from xml.etree.ElementTree import iterparse as stdlib_iterparse
from xml.sax.saxutils import escape, quoteattr

from defusedxml.ElementTree import iterparse

from app.runs.results import parse_artifacts

ARTIFACT_NAME = "junit-results"
MEMBER_NAME = "build/test-results/TEST-all.xml"
TESTS_PER_SUITE = 400


def write_artifact(path: Path, testcases: int, seed: int) -> None:
    """Write a zip holding one JUnit report of `testcases` tests."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(MEMBER_NAME, "w", force_zip64=True) as member,
    ):
        member.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
        for first in range(0, testcases, TESTS_PER_SUITE):
            count = min(TESTS_PER_SUITE, testcases - first)
            suite = f"com.example.module{first // TESTS_PER_SUITE}.ServiceTest"
            lines = [f'  <testsuite name="{suite}" tests="{count}" time="12.5">']
            lines.extend(_testcase(rng, suite, first + index) for index in range(count))
            lines.append("  </testsuite>")
            member.write("\n".join(lines).encode() + b"\n")
        member.write(b"</testsuites>\n")


def _testcase(rng: random.Random, suite: str, number: int) -> str:
    name = f"test_{rng.choice(('creates', 'updates', 'rejects', 'lists'))}_{number}"
    head = f'    <testcase name="{name}" classname="{suite}" time="{rng.random():.3f}"'
    roll = rng.random()
    if roll >= 0.055:
        return head + "/>"
    if roll < 0.03:
        return head + '>\n      <skipped message="not on this platform"/>\n    </testcase>'
    tag = "failure" if roll < 0.05 else "error"
    token = "".join(
        rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=36)
    )
    message = f"expected 200, got 401 calling https://user:hunter2@api.example.com with ghp_{token}"
    trace = "\n".join(
        f"    at {suite}.{name}(ServiceTest.java:{rng.randint(10, 900)})" for _ in range(12)
    )
    output = f"Authorization: Bearer {token}\nGET /invite/{token}?api_key={token}\n" * 3
    return (
        f'{head}>\n      <{tag} message={quoteattr(message)} type="AssertionError">'
        f"{escape(trace)}</{tag}>\n      <system-out>{escape(output)}</system-out>\n    </testcase>"
    )


def plain_pass(path: Path) -> int:
    """Stream the member through defusedxml's iterparse, clearing every element: the floor
    for a parser that must refuse DTDs (defusedxml's expat handlers are Python)."""
    elements = 0
    with zipfile.ZipFile(path) as archive, archive.open(MEMBER_NAME) as member:
        for _, element in iterparse(member, ("end",), forbid_dtd=True):
            elements += 1
            element.clear()
    return elements


def stdlib_pass(path: Path) -> int:
    """The same with the standard library's C iterparse, which cannot refuse DTDs."""
    elements = 0
    with zipfile.ZipFile(path) as archive, archive.open(MEMBER_NAME) as member:
        for _, element in stdlib_iterparse(member, ("end",)):  # noqa: S314 - our own file
            elements += 1
            element.clear()
    return elements


def our_parse(path: Path) -> int:
    result = parse_artifacts([(ARTIFACT_NAME, path)])
    if result.result_code != "OK":
        raise SystemExit(f"parse failed: {result.result_code} {result.detail}")
    return result.total


PARSERS = {"plain": plain_pass, "stdlib": stdlib_pass, "ours": our_parse}
MEASURED = ("plain", "ours")  # memory: the stdlib pass holds what the plain one does


def _child(parser: str, path: Path, traced: bool) -> None:
    """Run one parser once in this fresh process and print its memory figures as JSON."""
    if traced:
        tracemalloc.start()
    before = _peak_rss_kib()
    PARSERS[parser](path)
    after = _peak_rss_kib()
    figures = {"rss_growth_kib": after - before}
    if traced:
        figures["traced_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
    print(json.dumps(figures))


def _peak_rss_kib() -> int:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forking
    # parent, whose own peak would hide the child's.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status (Linux only)")


def _memory(parser: str, path: Path) -> dict[str, int]:
    figures: dict[str, int] = {}
    for traced in (False, True):
        command = [sys.executable, __file__, "--child", parser, str(path)]
        if traced:
            command.append("--traced")
        output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
        measured = json.loads(output.stdout)
        key = "traced_peak_kib" if traced else "rss_growth_kib"  # tracing inflates the RSS
        figures[key] = measured[key]
    return figures


def _timings(path: Path, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in PARSERS}
    for _ in range(rounds):
        for name, parser in PARSERS.items():  # interleaved, so load changes hit both
            # CPU time, not wall time: on a shared machine the other processes' load
            # changes the wall time of a round by tens of percent, the CPU time hardly.
            started = time.process_time()
            parser(path)
            samples[name].append(time.process_time() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000])
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--seed", type=int, default=16)
    options.add_argument("--child", nargs=2, metavar=("PARSER", "ZIP"), help=argparse.SUPPRESS)
    options.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]), args.traced)
        return
    print(
        f"{'testcases':>9} {'zip MiB':>7} {'xml MiB':>7} {'plain CPU s':>11} "
        f"{'stdlib CPU s':>12} {'ours CPU s':>10} {'ratio':>6} {'/stdlib':>7} "
        f"{'plain RSS+ MiB':>14} {'ours RSS+ MiB':>13} "
        f"{'plain traced MiB':>16} {'ours traced MiB':>15}"
    )
    with tempfile.TemporaryDirectory(prefix="tenon-parse-bench-") as folder:
        for size in args.sizes:
            path = Path(folder) / f"{ARTIFACT_NAME}-{size}.zip"
            write_artifact(path, size, args.seed)
            with zipfile.ZipFile(path) as archive:
                xml_bytes = archive.getinfo(MEMBER_NAME).file_size
            if our_parse(path) != size:
                raise SystemExit("our parse miscounted the testcases")
            times = _timings(path, args.rounds)
            memory = {name: _memory(name, path) for name in MEASURED}
            print(
                f"{size:>9} {path.stat().st_size / 2**20:>7.1f} {xml_bytes / 2**20:>7.1f} "
                f"{times['plain']:>11.3f} {times['stdlib']:>12.3f} {times['ours']:>10.3f} "
                f"{times['ours'] / times['plain']:>5.2f}x "
                f"{times['ours'] / times['stdlib']:>6.2f}x "
                f"{memory['plain']['rss_growth_kib'] / 1024:>14.1f} "
                f"{memory['ours']['rss_growth_kib'] / 1024:>13.1f} "
                f"{memory['plain']['traced_peak_kib'] / 1024:>16.1f} "
                f"{memory['ours']['traced_peak_kib'] / 1024:>15.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
