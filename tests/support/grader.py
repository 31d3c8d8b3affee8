"""Grader repositories for tests: a templates folder holding the emulator's own templates
(without their graders) and graders whose `tenon-grade.yml` only writes the results a test
chose, in the contract's format and artifact."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from app.github_emulator.config import DEFAULT_TEMPLATES_DIR
from tests.support.emulator import write_template

GRADER = "python-fastapi-grader"
DEBUG_GRADER = "python-fastapi-debug-grader"


@dataclass(frozen=True)
class GraderTest:
    classname: str
    name: str
    passed: bool = True


def grader_tests(group: str, passed: int, failed: int = 0) -> list[GraderTest]:
    """`passed` passing and `failed` failing tests of classname `<group>.test_grading`."""
    return [
        GraderTest(f"{group}.test_grading", f"test_{group}_{index}", passed=index < passed)
        for index in range(passed + failed)
    ]


def _junit(tests: Sequence[GraderTest]) -> str:
    cases = "".join(
        f"<testcase classname={quoteattr(test.classname)} name={quoteattr(test.name)} "
        'time="0.01">'
        + ("" if test.passed else '<failure message="assert False">assert False</failure>')
        + "</testcase>"
        for test in tests
    )
    failures = sum(not test.passed for test in tests)
    return (
        f'<testsuite name="grader" tests="{len(tests)}" failures="{failures}">{cases}</testsuite>'
    )


def _results_json(tests: Sequence[GraderTest]) -> str:
    passed = sum(test.passed for test in tests)
    return json.dumps(
        {
            "passed": passed,
            "failed": len(tests) - passed,
            "skipped": 0,
            "total": len(tests),
            "stdout": "",
            "stderr": "",
            # The cutoff the grader was asked to grade, so a test can see the input arrived.
            "summary": "graded ${{ inputs.candidate_sha }}",
        }
    )


def grading_workflow(
    tests: Sequence[GraderTest] | None, *, fail_before_results: bool = False
) -> str:
    """The contract's workflow header and inputs, a step writing `tests` as the results
    (none: the step writes nothing), and the upload of `tenon-grade-results`."""
    if fail_before_results:
        script = "echo 'the grader broke' >&2\nexit 1\n"
    elif tests is None:
        script = "echo 'no results written'\n"
    else:
        script = (
            "cat > tenon-test-results.json <<'RESULTS'\n"
            f"{_results_json(tests)}\nRESULTS\n"
            "cat > tenon-junit.xml <<'JUNIT'\n"
            f"{_junit(tests)}\nJUNIT\n"
        )
    steps = textwrap.indent(script, " " * 10)
    return f"""name: tenon-grade
run-name: tenon-grade ${{{{ inputs.tenon_grading_id }}}}
on:
  workflow_dispatch:
    inputs:
      candidate_repo: {{description: "owner/name of the candidate repository", required: true}}
      candidate_sha: {{description: "the cutoff commit to grade", required: true}}
      tenon_grading_id: {{description: "Tenon grading id", required: true}}
permissions:
  contents: read
jobs:
  grade:
    runs-on: ubuntu-latest
    steps:
      - name: Grade
        run: |
{steps}
      - if: always()
        uses: actions/upload-artifact@v4
        with:
          name: tenon-grade-results
          path: |
            tenon-test-results.json
            tenon-junit.xml
"""


def templates_with_graders(
    tmp_path: Path, graders: Mapping[str, str | None], *, templates: bool = True
) -> Path:
    """A templates folder: the emulator's templates (linked, their graders left out; none
    without `templates`) and a grader per name, holding the given `tenon-grade.yml` (None:
    no workflow at all)."""
    folder = tmp_path / "templates"
    folder.mkdir()
    for child in DEFAULT_TEMPLATES_DIR.iterdir() if templates else ():
        if child.is_dir() and not child.name.endswith("-grader"):
            (folder / child.name).symlink_to(child, target_is_directory=True)
    for name, workflow in graders.items():
        files = {"README.md": f"# {name}\n"}
        if workflow is not None:
            files[".github/workflows/tenon-grade.yml"] = workflow
        write_template(folder, name, files)
    return folder
