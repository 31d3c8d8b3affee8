"""Diff summaries and integrity findings computed from a comparison."""

from __future__ import annotations

from typing import Any

import pytest

from app.integrations.github.schemas import Comparison, ComparisonFile
from app.integrations.github.template_catalog import TemplateCatalog
from app.submissions.code_review import (
    COMPARE_FILE_CAP,
    diff_summary,
    integrity_findings,
    matching_rule,
)

PROTECTED = TemplateCatalog(owner="o", workflow_file="tenon-ci.yml").get("node-express-ts")
assert PROTECTED is not None


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


def test_every_kind_of_change_to_a_protected_file_is_reported() -> None:
    files = [
        _file(".github/workflows/tenon-ci.yml"),
        _file("test/new.test.ts", "added"),
        _file("test/old.test.ts", "removed"),
        _file("src/moved.test.ts", "renamed", previous_filename="test/moved.test.ts"),
        _file("src/app.ts"),
    ]
    findings = integrity_findings(files, PROTECTED.protected_paths)
    assert [(f.path, f.change, f.rule) for f in findings] == [
        (".github/workflows/tenon-ci.yml", "modified", ".github/workflows/**"),
        ("test/new.test.ts", "added", "test/**"),
        ("test/old.test.ts", "removed", "test/**"),
        ("src/moved.test.ts", "renamed", "**/*.test.ts"),
    ]


def test_changes_outside_protected_paths_are_not_findings() -> None:
    files = [_file("src/app.ts"), _file("README.md", "added")]
    assert integrity_findings(files, PROTECTED.protected_paths) == []


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
