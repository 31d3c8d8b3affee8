"""The review job's integrity findings for harness edits, against the GitHub emulator over
real HTTP: the comparison lists the changed files, and a package.json is read at both
commits through the contents API to tell a scripts change from a dependency change."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.metrics import Metrics
from app.integrations.github.client import GitHubClient, build_github_client
from app.integrations.github.template_catalog import TemplateCatalog
from app.submissions.code_review import integrity_findings
from app.submissions.jobs import contents_reader
from tests.support.emulator import TOKEN, emulator_config, running_emulator
from tests.support.github_client import make_settings

OWNER = "tenon-templates"
CATALOG = TemplateCatalog(owner=OWNER, workflow_file="tenon-ci.yml")


@dataclass
class Emulated:
    api: httpx.AsyncClient
    github: GitHubClient


@pytest.fixture
async def emulated(tmp_path: Path) -> AsyncIterator[Emulated]:
    async with (
        running_emulator(emulator_config(tmp_path)) as running,
        running.client() as api,
        httpx.AsyncClient() as http,
    ):
        settings = make_settings(
            api_base=running.base_url, token=TOKEN, mutation_interval_seconds=0, max_retries=0
        )
        github = build_github_client(http, settings, Metrics())
        assert github is not None
        yield Emulated(api, github)


async def _head(api: httpx.AsyncClient, repo: str) -> str:
    sha: str = (await api.get(f"/repos/{repo}/branches/main")).json()["commit"]["sha"]
    return sha


async def _commit(api: httpx.AsyncClient, repo: str, files: dict[str, str]) -> str:
    """Commit each file (created or replaced) on main; the last commit's SHA."""
    sha = ""
    for path, content in files.items():
        found = await api.get(f"/repos/{repo}/contents/{path}")
        body: dict[str, Any] = {
            "message": f"Change {path}",
            "content": base64.b64encode(content.encode()).decode(),
            "branch": "main",
        }
        if found.status_code == 200:
            body["sha"] = found.json()["sha"]
        put = await api.put(f"/repos/{repo}/contents/{path}", json=body)
        assert put.status_code in (200, 201), put.text
        sha = put.json()["commit"]["sha"]
    return sha


async def _findings(emulated: Emulated, repo: str, base: str, cutoff: str) -> set[tuple[str, str]]:
    template = CATALOG.for_repository(repo)
    assert template is not None
    comparison = await emulated.github.compare(repo, base, cutoff)
    findings = await integrity_findings(
        comparison.files,
        template.protected_paths,
        read=contents_reader(emulated.github, repo),
        base=base,
        cutoff=cutoff,
    )
    return {(finding.path, finding.rule) for finding in findings}


async def test_a_forged_python_harness_is_flagged_rule_by_rule(emulated: Emulated) -> None:
    repo = f"{OWNER}/python-fastapi"
    base = await _head(emulated.api, repo)
    cutoff = await _commit(
        emulated.api,
        repo,
        {
            "scripts/tenon_results.py": "print('15 passed')\n",
            "conftest.py": "def pytest_runtest_makereport(item, call): ...\n",
            "requirements.txt": "pytest-forcepass\n",
            "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-p forcepass'\n",
            "app/notes.py": "# the candidate's own work\n",
        },
    )

    assert await _findings(emulated, repo, base, cutoff) == {
        ("scripts/tenon_results.py", "scripts/**"),
        ("conftest.py", "**/conftest.py"),
        ("requirements.txt", "**/requirements*.txt"),
        ("pyproject.toml", "pyproject.toml"),
    }


async def test_package_json_is_flagged_for_its_scripts_not_its_dependencies(
    emulated: Emulated,
) -> None:
    repo = f"{OWNER}/node-express-ts"
    base = await _head(emulated.api, repo)
    found = await emulated.api.get(f"/repos/{repo}/contents/package.json")
    package = json.loads(base64.b64decode(found.json()["content"]))
    dependencies = package | {"dependencies": package["dependencies"] | {"zod": "^3.23.8"}}
    with_dependency = await _commit(
        emulated.api, repo, {"package.json": json.dumps(dependencies, indent=2)}
    )
    forged = dependencies | {"scripts": package["scripts"] | {"build": "node fake-build.mjs"}}
    with_scripts = await _commit(emulated.api, repo, {"package.json": json.dumps(forged)})

    assert await _findings(emulated, repo, base, with_dependency) == set()
    assert await _findings(emulated, repo, base, with_scripts) == {
        ("package.json", "package.json#scripts")
    }
    # Between the two commits only the scripts changed.
    assert await _findings(emulated, repo, with_dependency, with_scripts) == {
        ("package.json", "package.json#scripts")
    }
