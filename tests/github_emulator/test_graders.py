"""The grader repositories shipped in the emulator, run as their tenon-grade workflow runs them.

Each test composes a grader and a template into a workspace (`grader/`, `candidate/`), runs
the grader's runner in a subprocess from the workspace root and reads the results files it
writes there, with Tenon's own parser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.github_emulator.config import DEFAULT_TEMPLATES_DIR
from app.github_emulator.template_layers import compose
from app.runs.results import ParsedResults, parse_file

RUN_TIMEOUT_SECONDS = 300
# Variables the workflow's runner has and the candidate's code must not see.
RUNNER_SECRETS = {"GITHUB_TOKEN": "ghs-not-for-candidates", "ACTIONS_RUNTIME_TOKEN": "secret"}

PYTHON_DEBUG_FAILURES = {
    ("visible.test_tasks", "test_create_task_rejects_blank_title"),
    ("visible.test_tasks", "test_list_tasks_in_creation_order"),
    ("visible.test_tasks", "test_list_tasks_paginates"),
    ("visible.test_tasks", "test_complete_task_twice_returns_409"),
    ("hidden.test_task_api", "test_title_is_trimmed_and_its_length_counts_after_trimming"),
    ("hidden.test_task_api", "test_patch_trims_the_title_and_an_empty_body_changes_nothing"),
    ("hidden.test_task_api", "test_paging_bounds_and_a_page_past_the_end"),
    (
        "hidden.test_regressions",
        "test_completing_a_task_twice_is_409_and_keeps_the_first_completion",
    ),
    ("hidden.test_regressions", "test_a_whitespace_only_title_is_rejected_on_create_and_update"),
    ("hidden.test_regressions", "test_the_first_page_holds_the_oldest_tasks"),
}
NODE_DEBUG_FAILURES = {
    ("visible.api.HTTP API", "returns a loan once"),
    ("visible.library.late fees", "charge every started day late"),
    ("visible.library.Library", "lets a member hold three loans, not four"),
    ("visible.library.Library", "refuses to return a loan twice"),
    ("hidden.lending.loans", "cost 25 cents per started day late, nothing up to the due time"),
    ("hidden.lending.loans", "count only active loans toward the limit of 3"),
    ("hidden.regressions.regressions", "refuses a fourth active loan and records none"),
    (
        "hidden.regressions.regressions",
        "refuses to return a returned loan and keeps its first return",
    ),
    ("hidden.regressions.regressions", "charges a full day for a return a few minutes late"),
}


@dataclass(frozen=True)
class Graded:
    results: ParsedResults  # from tenon-test-results.json
    cases: ParsedResults  # from tenon-junit.xml: the per-test list
    workspace: Path

    def failures(self) -> set[tuple[str | None, str]]:
        return {(case.classname, case.name) for case in self.cases.tests if case.status != "passed"}

    def hidden(self) -> list[str]:
        return [case.name for case in self.cases.tests if _is_hidden(case.classname)]


def _is_hidden(classname: str | None) -> bool:
    return classname is not None and (classname == "hidden" or classname.startswith("hidden."))


@dataclass(frozen=True)
class Stack:
    """How to run one language's graders."""

    runner: tuple[str, ...]
    prepare_grader: Callable[[Path], None]


Edit = Callable[[Path], None]


def _grade(
    workspace: Path, stack: Stack, grader: str, template: str, edit: Edit | None = None
) -> Graded:
    compose(DEFAULT_TEMPLATES_DIR / grader, workspace / "grader")
    compose(DEFAULT_TEMPLATES_DIR / template, workspace / "candidate")
    stack.prepare_grader(workspace / "grader")
    if edit is not None:
        edit(workspace / "candidate")
    env = os.environ | RUNNER_SECRETS | {"TENON_GRADING_ID": "42"}
    proc = subprocess.run(
        [*stack.runner, "candidate"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    results = parse_file(workspace / "tenon-test-results.json")
    cases = parse_file(workspace / "tenon-junit.xml")
    assert results.result_code == "OK", (results.detail, proc.stderr)
    assert cases.result_code == "OK", cases.detail
    # The results file counts a test that errored (e.g. in setup) as failed.
    assert (results.passed, results.failed, results.total) == (
        cases.passed,
        cases.failed + cases.errors,
        cases.total,
    )
    assert json.loads((workspace / "tenon-test-results.json").read_text())["gradingId"] == "42"
    return Graded(results=results, cases=cases, workspace=workspace)


def _write(folder: Path, files: dict[str, str]) -> None:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture(scope="module")
def python_stack() -> Stack:
    # The grader's requirements are what this interpreter already has (the emulator's case).
    return Stack(runner=(sys.executable, "grader/runner/grade.py"), prepare_grader=lambda _: None)


@pytest.fixture(scope="module")
def node_stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    # The grader's pinned dependencies, installed once (the workflow's `npm ci` in grader/).
    installed = tmp_path_factory.mktemp("node-grader")
    compose(DEFAULT_TEMPLATES_DIR / "node-express-ts-grader", installed)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=installed,
        check=True,
        capture_output=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )

    def link_modules(grader: Path) -> None:
        (grader / "node_modules").symlink_to(installed / "node_modules")

    return Stack(runner=("node", "grader/runner/grade.mjs"), prepare_grader=link_modules)


# What a candidate might try on the debug day instead of fixing the bugs.
def _forge_python(candidate: Path) -> None:
    flip_failures = (
        "import pytest\n\n\n"
        "@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n"
        "    outcome.get_result().outcome = 'passed'\n"
    )
    fake_results = json.dumps({"passed": 15, "failed": 0, "skipped": 0, "total": 15})
    _write(
        candidate,
        {
            "scripts/tenon_results.py": (
                "from pathlib import Path\n"
                f"Path('tenon-test-results.json').write_text({fake_results!r})\n"
                "print('15 passed')\n"
            ),
            "conftest.py": flip_failures,
            "pytest.ini": "[pytest]\naddopts = -p no:junitxml\n",
            # Once served, the app tries to reach into the grader and the results.
            "app/__init__.py": (
                "import json, os\n"
                "from pathlib import Path\n"
                f"Path('../grader/tests/hidden/conftest.py').write_text({flip_failures!r})\n"
                f"Path('../tenon-test-results.json').write_text({fake_results!r})\n"
                "Path('seen-env.json').write_text(json.dumps(sorted(os.environ)))\n"
            ),
        },
    )


def _forge_node(candidate: Path) -> None:
    fake_results = json.dumps({"passed": 15, "failed": 0, "skipped": 0, "total": 15})
    package = json.loads((candidate / "package.json").read_text())
    package["scripts"] |= {
        "postinstall": "node -e \"require('fs').writeFileSync('postinstall-ran', '')\"",
        "start": "node -e \"console.log('15 passed')\"",
    }
    server = (candidate / "src/server.ts").read_text()
    _write(
        candidate,
        {
            "package.json": json.dumps(package),
            "scripts/tenon-results.mjs": (
                f"import {{ writeFileSync }} from 'node:fs';\n"
                f"writeFileSync('tenon-test-results.json', {fake_results!r});\n"
            ),
            "src/server.ts": (
                "import { writeFileSync } from 'node:fs';\n"
                "writeFileSync('../grader/tests/hidden/zz-forged.test.mjs',"
                ' \'import { it } from "node:test"; it("free pass", () => {});\');\n'
                f"writeFileSync('../tenon-test-results.json', {fake_results!r});\n"
                "writeFileSync('seen-env.json', JSON.stringify(Object.keys(process.env)));\n"
                + server
            ),
        },
    )


def _break_python(candidate: Path) -> None:
    _write(candidate, {"app/main.py": "raise RuntimeError('the app does not import')\n"})


def _break_node(candidate: Path) -> None:
    _write(candidate, {"src/server.ts": "throw new Error('the server does not start');\n"})


@dataclass(frozen=True)
class Case:
    stack: str
    template: str
    debug_failures: set[tuple[str, str]]
    forge: Edit
    # What the forged service writes into the grader's tests once it runs.
    planted: str
    break_service: Edit

    def grader(self, debug: bool) -> str:
        return f"{self.template}-debug-grader" if debug else f"{self.template}-grader"

    def variant(self, debug: bool) -> str:
        return f"{self.template}-debug" if debug else self.template


CASES = [
    Case(
        stack="python_stack",
        template="python-fastapi",
        debug_failures=PYTHON_DEBUG_FAILURES,
        forge=_forge_python,
        planted="tests/hidden/conftest.py",
        break_service=_break_python,
    ),
    Case(
        stack="node_stack",
        template="node-express-ts",
        debug_failures=NODE_DEBUG_FAILURES,
        forge=_forge_node,
        planted="tests/hidden/zz-forged.test.mjs",
        break_service=_break_node,
    ),
]


@dataclass(frozen=True)
class Grading:
    case: Case
    stack: Stack

    def run(self, workspace: Path, *, debug: bool, edit: Edit | None = None) -> Graded:
        """Grade the code or debug variant (edited first, if asked) with its grader."""
        grader, template = self.case.grader(debug), self.case.variant(debug)
        return _grade(workspace, self.stack, grader, template, edit)


@pytest.fixture(params=CASES, ids=[case.template for case in CASES])
def grading(request: pytest.FixtureRequest) -> Grading:
    case: Case = request.param
    return Grading(case=case, stack=request.getfixturevalue(case.stack))


def test_the_debug_template_fails_exactly_the_tests_aimed_at_its_bugs(
    tmp_path: Path, grading: Grading
) -> None:
    expected = grading.case.debug_failures

    result = grading.run(tmp_path, debug=True)

    assert result.failures() == expected, result.results.stdout
    assert result.results.passed == result.results.total - len(expected)
    assert len(result.hidden()) >= 8
    classnames = {test.classname or "" for test in result.cases.tests}
    assert all(name.startswith(("visible.", "hidden.")) for name in classnames), classnames
    hidden_failures = {name for classname, name in expected if _is_hidden(classname)}
    assert hidden_failures <= set(result.hidden())


def test_a_forged_harness_in_the_candidate_repo_changes_nothing(
    tmp_path: Path, grading: Grading
) -> None:
    forged = grading.run(tmp_path, debug=True, edit=grading.case.forge)

    # The debug numbers, as in the test above: no forged pass counted, no test added or lost.
    assert forged.failures() == grading.case.debug_failures
    compose(DEFAULT_TEMPLATES_DIR / grading.case.grader(debug=True), tmp_path / "pristine")
    assert forged.results.total == _defined_tests(tmp_path / "pristine")
    candidate = forged.workspace / "candidate"
    # The service did run (and wrote into the grader's tests, too late to count), without the
    # runner's tokens; npm ran no candidate scripts.
    assert (forged.workspace / "grader" / grading.case.planted).is_file()
    seen_env = json.loads((candidate / "seen-env.json").read_text())
    assert [key for key in seen_env if key.startswith(("GITHUB_", "ACTIONS_"))] == []
    assert not (candidate / "postinstall-ran").exists()


def test_a_service_that_does_not_start_fails_every_test(tmp_path: Path, grading: Grading) -> None:
    broken = grading.run(tmp_path, debug=False, edit=grading.case.break_service)

    assert broken.results.passed == 0
    total = _defined_tests(broken.workspace / "grader")
    assert broken.results.failed == broken.results.total == total
    assert all("candidate's service" in (test.message or "") for test in broken.cases.tests)


def _defined_tests(grader: Path) -> int:
    """How many tests a composed grader defines, counted from its source."""
    return sum(
        1
        for path in (grader / "tests").rglob("*")
        if path.suffix in (".py", ".mjs")
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("def test_", "it("))
    )
