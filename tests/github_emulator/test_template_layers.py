"""Template folders composed from layers (app/github_emulator/template_layers.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from app.github_emulator.config import DEFAULT_TEMPLATES_DIR
from app.github_emulator.template_layers import (
    LAYERS_FILE,
    TemplateLayerError,
    compose,
    template_folders,
)
from app.integrations.github.template_catalog import GRADED_KEYS, TemplateCatalog
from app.submissions.code_review import matching_rule
from tests.support.emulator import write_template


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_template_gets_its_layers_files_under_its_own(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write_template(templates, "_ci", {"ci.yml": "ci", "shared.txt": "layer"})
    write_template(templates, "code", {LAYERS_FILE: "_ci\n", "app.py": "good", "shared.txt": "own"})
    write_template(templates, "code-debug", {LAYERS_FILE: "code", "app.py": "buggy"})

    compose(templates / "code-debug", tmp_path / "out")

    assert _files(tmp_path / "out") == {"ci.yml": "ci", "shared.txt": "own", "app.py": "buggy"}
    # Layer-only folders are not repositories.
    assert [folder.name for folder in template_folders(templates)] == ["code", "code-debug"]


def test_executable_bits_survive_composition(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write_template(templates, "_ci", {"run.sh": "#!/bin/sh\n"}, executable=("run.sh",))
    write_template(templates, "code", {LAYERS_FILE: "_ci"})

    compose(templates / "code", tmp_path / "out")

    assert (tmp_path / "out" / "run.sh").stat().st_mode & 0o111


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ({"a": "b", "b": "a"}, "layer cycle: a -> b -> a"),
        ({"a": "missing"}, "a: no layer folder 'missing' beside it"),
        ({"a": "../elsewhere"}, "a: no layer folder '../elsewhere' beside it"),
    ],
)
def test_cycles_and_missing_layers_are_refused(
    tmp_path: Path, layers: dict[str, str], message: str
) -> None:
    templates = tmp_path / "templates"
    for name, names in layers.items():
        write_template(templates, name, {LAYERS_FILE: names})

    with pytest.raises(TemplateLayerError) as caught:
        compose(templates / "a", tmp_path / "out")
    assert str(caught.value) == message


CATALOG = TemplateCatalog(owner="o", workflow_file="tenon-ci.yml")
# What a test file is called in the stacks the templates use.
TEST_FILE = re.compile(r"(^|/)(test_[^/]*\.py|conftest\.py|[^/]*\.(test|spec)\.[jt]sx?)$")


def _protected_paths(template_folder: str) -> tuple[str, ...]:
    template = CATALOG.for_repository(f"o/{template_folder}")
    assert template is not None, f"{template_folder} is not a catalog template"
    return template.protected_paths


def test_every_shipped_debug_variant_is_its_code_variant_with_other_files(
    tmp_path: Path,
) -> None:
    names = {folder.name for folder in template_folders(DEFAULT_TEMPLATES_DIR)}
    debug_variants = sorted(name for name in names if name.endswith("-debug"))
    assert debug_variants, "no debug templates shipped"
    for debug in debug_variants:
        code = debug.removesuffix("-debug")
        assert code in names
        compose(DEFAULT_TEMPLATES_DIR / code, tmp_path / code)
        compose(DEFAULT_TEMPLATES_DIR / debug, tmp_path / debug)
        code_files, debug_files = _files(tmp_path / code), _files(tmp_path / debug)
        # Same files, so the protected tests and the workflow are the code day's own…
        assert code_files.keys() == debug_files.keys(), debug
        protected = _protected_paths(code)
        for path in code_files:
            if matching_rule(path, protected) or path.startswith("scripts/"):
                assert code_files[path] == debug_files[path], (debug, path)
        # …and the service code differs: the planted bugs.
        changed = {path for path in code_files if code_files[path] != debug_files[path]}
        assert changed - {"README.md"}, debug


GRADER_SUFFIX = "-grader"


def _candidate_templates() -> list[Path]:
    """The shipped folders candidates get repositories from (graders are Tenon's own)."""
    return [
        folder
        for folder in template_folders(DEFAULT_TEMPLATES_DIR)
        if not folder.name.endswith(GRADER_SUFFIX)
    ]


def test_every_test_file_of_a_shipped_template_is_a_protected_path(tmp_path: Path) -> None:
    # A candidate who edits a test is flagged only when the test sits under a protected path.
    for folder in _candidate_templates():
        compose(folder, tmp_path / folder.name)
        paths = list(_files(tmp_path / folder.name))
        tests = [path for path in paths if TEST_FILE.search(path)]
        assert len(tests) >= 2, (folder.name, tests)
        protected = _protected_paths(folder.name)
        assert [path for path in tests if not matching_rule(path, protected)] == [], folder.name
        assert matching_rule(".github/workflows/tenon-ci.yml", protected)


def test_the_shipped_graders_are_the_catalogs_and_run_the_grading_workflow(
    tmp_path: Path,
) -> None:
    graders = {
        folder.name
        for folder in template_folders(DEFAULT_TEMPLATES_DIR)
        if folder.name.endswith(GRADER_SUFFIX)
    }
    expected = set()
    for key in GRADED_KEYS:
        template = CATALOG.get(key)
        assert template is not None
        for repo in (template.code_repo, template.debug_repo):
            grader = template.grader_for(repo)
            assert grader is not None
            expected.add(grader.removeprefix("o/"))
    assert graders == expected

    for name in sorted(graders):
        compose(DEFAULT_TEMPLATES_DIR / name, tmp_path / name)
        paths = list(_files(tmp_path / name))
        workflow = yaml.safe_load(
            (tmp_path / name / ".github/workflows/tenon-grade.yml").read_text()
        )
        assert workflow["name"] == "tenon-grade", name
        assert workflow["run-name"] == "tenon-grade ${{ inputs.tenon_grading_id }}", name
        # PyYAML reads the key `on` as True.
        inputs = workflow[True]["workflow_dispatch"]["inputs"]
        assert sorted(inputs) == ["candidate_repo", "candidate_sha", "tenon_grading_id"], name
        assert all(spec["required"] is True for spec in inputs.values()), name
        assert workflow["permissions"] == {"contents": "read"}, name
        steps = workflow["jobs"]["grade"]["steps"]
        uploads = [step for step in steps if step.get("uses") == "actions/upload-artifact@v4"]
        assert [step["with"]["path"].split() for step in uploads] == [
            ["tenon-test-results.json", "tenon-junit.xml"]
        ], name
        # Visible tests and hidden ones, and no candidate-style test folder.
        assert any(path.startswith("tests/visible/") for path in paths), name
        assert any(path.startswith("tests/hidden/") for path in paths), name
        assert not any(path.startswith("test/") for path in paths), name
