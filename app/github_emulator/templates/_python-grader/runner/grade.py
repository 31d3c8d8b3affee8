"""Grade a candidate's checkout with this grader's tests, and write Tenon's results files.

Run from the workspace root, as the tenon-grade workflow does:

    python grader/runner/grade.py candidate

The grader's pytest runs in its own process, with the grader's own configuration only, so
nothing in the candidate's checkout (conftest.py, pytest.ini, pyproject.toml, plugins) takes
part in it. The candidate's code runs only in the service process that tests/conftest.py
starts once pytest has collected every test. After pytest has ended and the service's process
group is stopped, the results land at the workspace root: tenon-junit.xml (classnames
`visible.…` for the template's own tests, `hidden.…` for the grader's) and
tenon-test-results.json. Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent
JUNIT_PATH = Path("tenon-junit.xml")
RESULTS_PATH = Path("tenon-test-results.json")
MAX_OUTPUT_CHARS = 64_000
PYTEST_TIMEOUT_SECONDS = 15 * 60
# The runner's own variables, so that nothing the candidate's service inherits can reach GitHub.
RUNNER_ENV_PREFIXES = ("GITHUB_", "ACTIONS_", "RUNNER_")
# pytest names a test's class after its path under the rootdir: tests/hidden/x.py -> tests.hidden.x
TESTS_PACKAGE = "tests."


def truncate(text: str) -> str:
    """Keep the end of long output: that is where pytest puts failures and the summary."""
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return "[truncated]\n" + text[-MAX_OUTPUT_CHARS:]


def grading_env(temp: Path, candidate: Path) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(RUNNER_ENV_PREFIXES)
    }
    return env | {
        "TENON_CANDIDATE_DIR": str(candidate),
        "TENON_SERVICE_PIDFILE": str(temp / "service.pid"),
        "TENON_SERVICE_LOG": str(temp / "service.log"),
        # Only pytest's own plugins: whatever else is installed has no say in the grading.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run_pytest(junit: Path, env: dict[str, str]) -> tuple[int, str, str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(GRADER / "pytest.ini"),
        "--rootdir",
        str(GRADER),
        "--confcutdir",
        str(GRADER),
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        str(GRADER / "tests"),
    ]
    try:
        proc = subprocess.run(
            command,
            cwd=GRADER,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PYTEST_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as expired:
        stdout = expired.stdout.decode(errors="replace") if expired.stdout else ""
        message = f"the grader's tests did not finish within {PYTEST_TIMEOUT_SECONDS} s\n"
        return 1, stdout, message
    return proc.returncode, proc.stdout, proc.stderr


def stop_service(pidfile: Path) -> None:
    """End the candidate's service group, should pytest have left it running (it was killed)."""
    try:
        pgid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_cases(junit: Path) -> list[ET.Element]:
    if not junit.is_file():
        return []
    try:
        root = ET.parse(junit).getroot()
    except ET.ParseError:
        return []
    return list(root.iter("testcase"))


def outcome(case: ET.Element) -> str:
    tags = {child.tag for child in case}
    if tags & {"error", "failure"}:
        return "failed"
    return "skipped" if "skipped" in tags else "passed"


def write_junit(cases: list[ET.Element]) -> None:
    suite = ET.Element("testsuite", name="tenon-grade", tests=str(len(cases)))
    for case in cases:
        classname = case.get("classname", "")
        case.set("classname", classname.removeprefix(TESTS_PACKAGE))
        suite.append(case)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(JUNIT_PATH, encoding="utf-8", xml_declaration=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: grade.py CANDIDATE_DIR", file=sys.stderr)
        return 2
    candidate = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="tenon-grade-") as temp_name:
        temp = Path(temp_name)
        junit = temp / "junit.xml"
        env = grading_env(temp, candidate)
        code, stdout, stderr = run_pytest(junit, env)
        stop_service(Path(env["TENON_SERVICE_PIDFILE"]))
        cases = read_cases(junit)
    sys.stdout.write(stdout)
    sys.stderr.write(stderr)

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for case in cases:
        counts[outcome(case)] += 1
    if not cases:
        # The grader's suite did not run at all: one failure, never an empty pass.
        counts["failed"] = 1
        summary = f"the grader's tests exited with code {code} before reporting any results"
    else:
        summary = ", ".join(f"{counts[key]} {key}" for key in ("passed", "failed", "skipped"))
    write_junit(cases)
    results = {
        **counts,
        "total": sum(counts.values()),
        "stdout": truncate(stdout),
        "stderr": truncate(stderr),
        "summary": summary,
        "gradingId": os.environ.get("TENON_GRADING_ID", ""),
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"tenon-grade: {summary} (exit code {code})")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
