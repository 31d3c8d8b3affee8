"""Diff summaries and integrity findings computed from a comparison."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from app.github_emulator.config import DEFAULT_TEMPLATES_DIR
from app.github_emulator.template_layers import compose, template_folders
from app.integrations.github.schemas import Comparison, ComparisonFile
from app.integrations.github.template_catalog import Template, TemplateCatalog
from app.submissions.code_review import (
    COMPARE_FILE_CAP,
    ReadFile,
    diff_summary,
    integrity_findings,
    matching_rule,
    section_changed,
)

CATALOG = TemplateCatalog(owner="o", workflow_file="tenon-ci.yml")
BASE, CUTOFF = "b" * 40, "c" * 40


def _template(key: str) -> Template:
    template = CATALOG.get(key)
    assert template is not None
    return template


PROTECTED = _template("node-express-ts")
PACKAGE = {
    "name": "library-loans-api",
    "config": {"testDir": "dist/test"},
    "scripts": {"build": "tsc -p tsconfig.json", "test": "npm run build && node --test dist/test"},
    "dependencies": {"express": "^4.21.2"},
}


def _reader(base: Mapping[str, str], cutoff: Mapping[str, str]) -> ReadFile:
    """The files of the two commits (any file not given is absent)."""

    async def read(path: str, sha: str) -> str | None:
        return {BASE: base, CUTOFF: cutoff}[sha].get(path)

    return read


async def _findings(
    files: list[ComparisonFile],
    protected: tuple[str, ...] = PROTECTED.protected_paths,
    *,
    base: Mapping[str, str] | None = None,
    cutoff: Mapping[str, str] | None = None,
) -> list[tuple[str, str, str]]:
    read = _reader(base or {}, cutoff or {})
    found = await integrity_findings(files, protected, read=read, base=BASE, cutoff=CUTOFF)
    return [(f.path, f.change, f.rule) for f in found]


def _file(filename: str, status: str = "modified", **extra: Any) -> ComparisonFile:
    values: dict[str, Any] = {"additions": 2, "deletions": 1, "changes": 3} | extra
    return ComparisonFile(filename=filename, status=status, **values)


def _comparison(files: list[ComparisonFile]) -> Comparison:
    return Comparison(
        status="ahead", ahead_by=3, behind_by=0, total_commits=3, commits=[], files=files
    )


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        (".github/workflows/tenon-ci.yml", ".github/workflows/**"),
        (".github/workflows/nested/x.yml", ".github/workflows/**"),
        ("test/api.test.ts", "test/**"),
        ("src/deep/util.test.ts", "**/*.test.ts"),
        ("util.spec.ts", "**/*.spec.ts"),
        ("src/util.ts", None),
        ("mytest/notes.md", None),
        (".github/dependabot.yml", None),
    ],
)
def test_protected_path_rules(path: str, rule: str | None) -> None:
    assert matching_rule(path, PROTECTED.protected_paths) == rule


async def test_every_kind_of_change_to_a_protected_file_is_reported() -> None:
    files = [
        _file(".github/workflows/tenon-ci.yml"),
        _file("test/new.test.ts", "added"),
        _file("test/old.test.ts", "removed"),
        _file("src/moved.test.ts", "renamed", previous_filename="test/moved.test.ts"),
        _file("src/app.ts"),
    ]
    assert await _findings(files) == [
        (".github/workflows/tenon-ci.yml", "modified", ".github/workflows/**"),
        ("test/new.test.ts", "added", "test/**"),
        ("test/old.test.ts", "removed", "test/**"),
        ("src/moved.test.ts", "renamed", "**/*.test.ts"),
    ]


async def test_changes_outside_protected_paths_are_not_findings() -> None:
    files = [_file("src/app.ts"), _file("README.md", "added"), _file("package-lock.json")]
    assert await _findings(files) == []


# A candidate editing the harness of a graded template: each file names the rule it matched.
@pytest.mark.parametrize(
    ("key", "path", "rule"),
    [
        ("python-fastapi", "scripts/tenon_results.py", "scripts/**"),
        ("python-fastapi", "conftest.py", "**/conftest.py"),
        ("python-fastapi", "app/conftest.py", "**/conftest.py"),
        ("python-fastapi", "tests/conftest.py", "tests/**"),
        ("python-fastapi", "pytest.ini", "pytest.ini"),
        ("python-fastapi", "pyproject.toml", "pyproject.toml"),
        ("python-fastapi", "tox.ini", "tox.ini"),
        ("python-fastapi", "setup.cfg", "setup.cfg"),
        ("python-fastapi", "requirements.txt", "**/requirements*.txt"),
        ("python-fastapi", "requirements-dev.txt", "**/requirements*.txt"),
        ("python-fastapi", "deps/requirements.txt", "**/requirements*.txt"),
        ("node-express-ts", "scripts/tenon-results.mjs", "scripts/**"),
        ("node-express-ts", "jest.config.js", "**/jest.config.*"),
        ("node-express-ts", "src/vitest.config.ts", "**/vitest.config.*"),
        ("node-express-ts", ".mocharc.yml", "**/.mocharc*"),
        ("node-express-ts", "test/.mocharc.json", "test/**"),
        ("monorepo-nextjs-fastapi", "backend/requirements.txt", "**/requirements*.txt"),
        ("monorepo-nextjs-fastapi", "backend/pytest.ini", "backend/pytest.ini"),
        ("monorepo-nextjs-fastapi", "backend/conftest.py", "**/conftest.py"),
        ("monorepo-nextjs-fastapi", "tenon-ci.json", "tenon-ci.json"),
        ("monorepo-nextjs-fastapi", "web/jest.config.ts", "**/jest.config.*"),
        ("mobile-fullstack-expo-fastapi", "backend/pyproject.toml", "backend/pyproject.toml"),
    ],
)
async def test_an_edited_harness_file_is_a_finding_naming_its_rule(
    key: str, path: str, rule: str
) -> None:
    files = [_file(path), _file("src/app.ts")]
    assert await _findings(files, _template(key).protected_paths) == [(path, "modified", rule)]


def _package(**changes: Any) -> str:
    return json.dumps(PACKAGE | changes, indent=2)


@pytest.mark.parametrize(
    ("cutoff", "rule"),
    [
        # Dependencies are the candidate's normal work.
        (_package(dependencies={"express": "^4.21.2", "zod": "^3.23.0"}), None),
        (_package(description="Loans"), None),
        (json.dumps(PACKAGE), None),  # reformatted only
        (_package(scripts=PACKAGE["scripts"] | {"build": "true"}), "package.json#scripts"),
        (
            _package(scripts=PACKAGE["scripts"] | {"pretest": "cp -r fake dist/test"}),
            "package.json#scripts",
        ),
        (_package(config={"testDir": "dist/mine"}), "package.json#config"),
        (_package(scripts=None), "package.json#scripts"),
        ("{ not json", "package.json#scripts"),
    ],
)
async def test_a_package_json_change_is_a_finding_only_when_its_harness_keys_changed(
    cutoff: str, rule: str | None
) -> None:
    base = {"package.json": _package()}
    findings = await _findings([_file("package.json")], base=base, cutoff={"package.json": cutoff})
    assert findings == ([("package.json", "modified", rule)] if rule else [])


async def test_a_removed_or_renamed_package_json_loses_its_scripts() -> None:
    base = {"package.json": _package()}
    removed = await _findings([_file("package.json", "removed")], base=base)
    renamed = await _findings(
        [_file("pkg.json", "renamed", previous_filename="package.json")],
        base=base,
        cutoff={"pkg.json": _package()},
    )
    assert removed == [("package.json", "removed", "package.json#scripts")]
    assert renamed == [("package.json", "renamed", "package.json#scripts")]


async def test_workspace_package_json_scripts_are_protected_in_monorepos() -> None:
    protected = _template("monorepo-react-express").protected_paths
    path = "apps/api/package.json"
    base = {path: _package()}
    cutoff = {path: _package(scripts={"build": "echo skipped"})}
    dependencies = {path: _package(devDependencies={"typescript": "~5.9.3"})}
    assert await _findings([_file(path)], protected, base=base, cutoff=cutoff) == [
        (path, "modified", "**/package.json#scripts")
    ]
    assert await _findings([_file(path)], protected, base=base, cutoff=dependencies) == []


@pytest.mark.parametrize(
    ("base", "cutoff", "changed"),
    [
        (None, None, False),
        ('{"scripts": {}}', None, True),
        (None, '{"scripts": {"a": "b"}}', True),
        ('{"name": "x"}', '{"name": "y"}', False),
        ("[1]", "[1]", False),
        ("[1]", "[2]", True),
    ],
)
def test_section_changed(base: str | None, cutoff: str | None, changed: bool) -> None:
    assert section_changed(base, cutoff, "scripts") is changed


# The files that install, run or score a shipped template's tests, by name.
HARNESS_FILE = re.compile(
    r"(^scripts/|(^|/)(conftest\.py|pytest\.ini|pyproject\.toml|tox\.ini|setup\.cfg"
    r"|requirements[^/]*\.txt|package\.json|tenon-ci\.json)$)"
)


def test_every_harness_file_of_a_shipped_template_is_protected(tmp_path: Path) -> None:
    for folder in template_folders(DEFAULT_TEMPLATES_DIR):
        template = CATALOG.for_repository(f"o/{folder.name}")
        if template is None:  # a grader: not a template candidates work in
            continue
        compose(folder, tmp_path / folder.name)
        files = [
            str(path.relative_to(tmp_path / folder.name))
            for path in (tmp_path / folder.name).rglob("*")
            if path.is_file()
        ]
        harness = [path for path in files if HARNESS_FILE.search(path)]
        assert any(path.startswith("scripts/") for path in harness), folder.name
        unprotected = [p for p in harness if not matching_rule(p, template.protected_paths)]
        assert unprotected == [], folder.name


def test_diff_summary_totals_and_patch_truncation() -> None:
    files = [_file("a.py", patch="x" * 50), _file("b.py", "added", additions=10, changes=10)]
    summary = diff_summary(_comparison(files), max_patch_chars=20)
    assert (summary.files_changed, summary.additions, summary.deletions) == (2, 12, 2)
    assert (summary.ahead_by, summary.total_commits, summary.truncated) == (3, 3, False)
    first, second = summary.files
    assert (first.patch, first.patch_truncated) == ("x" * 20, True)
    assert (second.patch, second.patch_truncated) == (None, False)


def test_a_comparison_at_githubs_file_cap_is_reported_truncated() -> None:
    files = [_file(f"f{n}.py") for n in range(COMPARE_FILE_CAP)]
    assert diff_summary(_comparison(files)).truncated is True
    assert diff_summary(_comparison(files[:-1])).truncated is False
