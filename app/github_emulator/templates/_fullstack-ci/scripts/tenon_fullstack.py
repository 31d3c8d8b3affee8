"""Run both test suites of a backend + front-end repository and write one set of results.

The repository has two parts: the Python backend in `backend/` and a Node front end in the
folder that `tenon-ci.json` names (`{"frontend": "web"}`). Each part runs through its own
stack's script, in its own folder: `scripts/tenon_results.py` (pytest) for the backend and
`scripts/tenon-results.mjs` (build, then `node --test`) for the front end. Each writes
`tenon-test-results.json` and `tenon-junit.xml` in its folder; this script adds them up
into the same two files at the root, which CI uploads. A part that cannot run at all, or
runs no test, counts as one failed test. The exit code is 0 only when both parts pass.

`python scripts/tenon_fullstack.py --env` prints `FRONTEND_DIR=<folder>` for the workflow.
The two stack scripts come from the `_python-ci` and `_node-ci` layers, which this layer
includes. Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
CONFIG_PATH = ROOT / "tenon-ci.json"
BACKEND_DIR = "backend"
RESULTS_NAME = "tenon-test-results.json"
JUNIT_NAME = "tenon-junit.xml"
OUTCOMES = ("passed", "failed", "skipped")


@dataclass(frozen=True)
class Part:
    folder: str
    command: list[str]


@dataclass(frozen=True)
class PartResult:
    part: Part
    exit_code: int
    counts: dict[str, int]
    stdout: str
    stderr: str
    summary: str
    # The part's JUnit test cases; a part that reported none gets one standing for it.
    cases: list[ET.Element]

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.counts["failed"] == 0


def frontend_dir() -> str:
    try:
        folder = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))["frontend"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.exit(f"{CONFIG_PATH.name} must name the front end's folder: {exc!r}")
    if not isinstance(folder, str) or not folder or "/" in folder or folder.startswith("."):
        sys.exit(f"{CONFIG_PATH.name}: {folder!r} is not the name of a folder at the root")
    return folder


def parts() -> list[Part]:
    return [
        Part(BACKEND_DIR, [sys.executable, str(SCRIPTS / "tenon_results.py")]),
        Part(frontend_dir(), ["node", str(SCRIPTS / "tenon-results.mjs")]),
    ]


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[key]} {key}" for key in OUTCOMES)


def junit_cases(path: Path) -> list[ET.Element]:
    try:
        return list(ET.parse(path).getroot().iter("testcase"))
    except (OSError, ET.ParseError):
        return []


def standing_case(part: Part, message: str) -> ET.Element:
    """A failed test case for a part that reported none of its own."""
    case = ET.Element("testcase", classname=part.folder, name=f"the {part.folder} tests run")
    ET.SubElement(case, "failure", message=message)
    return case


def did_not_run(part: Part, message: str) -> PartResult:
    counts = {"passed": 0, "failed": 1, "skipped": 0}
    return PartResult(part, 1, counts, "", message, message, [standing_case(part, message)])


def run(part: Part) -> PartResult:
    folder = ROOT / part.folder
    results_path, junit_path = folder / RESULTS_NAME, folder / JUNIT_NAME
    print(f"tenon: running the {part.folder} tests", flush=True)
    try:
        # Results from an earlier local run must not stand in for this one.
        results_path.unlink(missing_ok=True)
        exit_code = subprocess.run(part.command, cwd=folder, check=False).returncode
    except OSError as exc:
        return did_not_run(part, f"the {part.folder} tests could not start: {exc}")
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
        counts = {key: int(results[key]) for key in OUTCOMES}
        stdout, stderr, summary = results["stdout"], results["stderr"], results["summary"]
    except (OSError, ValueError, KeyError, TypeError):
        message = f"the {part.folder} tests wrote no results (exit code {exit_code})"
        return did_not_run(part, message)
    if sum(counts.values()) == 0:
        counts["failed"] = 1
        summary = f"no {part.folder} test ran (exit code {exit_code})"
    cases = junit_cases(junit_path) or [standing_case(part, summary)]
    return PartResult(part, exit_code, counts, stdout, stderr, summary, cases)


def merged_junit(results: list[PartResult]) -> ET.ElementTree:
    root = ET.Element("testsuites", name="tenon")
    for result in results:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=result.part.folder,
            tests=str(sum(result.counts.values())),
            failures=str(result.counts["failed"]),
            skipped=str(result.counts["skipped"]),
        )
        suite.extend(result.cases)
    ET.indent(root)
    return ET.ElementTree(root)


def labelled(outputs: list[tuple[str, str]]) -> str:
    return "\n".join(f"===== {folder} =====\n{text}" for folder, text in outputs)


def main() -> int:
    if sys.argv[1:] == ["--env"]:
        print(f"FRONTEND_DIR={frontend_dir()}")
        return 0
    if sys.argv[1:]:
        sys.exit("usage: python scripts/tenon_fullstack.py [--env]")
    results = [run(part) for part in parts()]
    counts = {key: sum(result.counts[key] for result in results) for key in OUTCOMES}
    details = "; ".join(f"{result.part.folder}: {result.summary}" for result in results)
    summary = f"{describe(counts)} ({details})"
    document = {
        **counts,
        "total": sum(counts.values()),
        "stdout": labelled([(result.part.folder, result.stdout) for result in results]),
        "stderr": labelled([(result.part.folder, result.stderr) for result in results]),
        "summary": summary,
        "runId": os.environ.get("TENON_RUN_ID", ""),
    }
    (ROOT / RESULTS_NAME).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    merged_junit(results).write(ROOT / JUNIT_NAME, encoding="utf-8", xml_declaration=True)
    print(f"tenon: {summary}")
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
