"""Run the test suite and write tenon-test-results.json for Tenon.

Runs pytest with a JUnit XML report, counts the outcomes, writes the results file and
exits with pytest's exit code. Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

JUNIT_PATH = Path("tenon-junit.xml")
RESULTS_PATH = Path("tenon-test-results.json")
MAX_OUTPUT_CHARS = 64_000


def truncate(text: str) -> str:
    """Keep the end of long output: that is where pytest puts failures and the summary."""
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return "[truncated]\n" + text[-MAX_OUTPUT_CHARS:]


def count_outcomes(junit_path: Path) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    if not junit_path.is_file():
        return counts
    try:
        root = ET.parse(junit_path).getroot()
    except ET.ParseError:
        return counts
    for case in root.iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"error", "failure"}:
            counts["failed"] += 1
        elif "skipped" in tags:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


def main() -> int:
    JUNIT_PATH.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", f"--junitxml={JUNIT_PATH}", *sys.argv[1:]]
    proc = subprocess.run(command, capture_output=True, text=True, errors="replace")
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)

    counts = count_outcomes(JUNIT_PATH)
    if sum(counts.values()) == 0 and proc.returncode not in (0, 5):
        # pytest could not run the suite at all (e.g. a broken conftest): count one failure.
        counts["failed"] = 1
        summary = f"pytest exited with code {proc.returncode} before reporting any test results"
    else:
        summary = ", ".join(f"{counts[key]} {key}" for key in ("passed", "failed", "skipped"))
    total = counts["passed"] + counts["failed"] + counts["skipped"]

    results = {
        **counts,
        "total": total,
        "stdout": truncate(proc.stdout),
        "stderr": truncate(proc.stderr),
        "summary": summary,
        "runId": os.environ.get("TENON_RUN_ID", ""),
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"tenon: {summary} (exit code {proc.returncode})")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
