"""Template health (SPEC §6.5): the admin routes against the GitHub emulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import yaml

from app.admin.template_health import (
    declares_dispatch,
    lists_results_file,
    upload_steps,
)
from app.core.db import Database
from app.github_emulator.config import DEFAULT_TEMPLATES_DIR
from app.github_emulator.faults import FaultRule
from app.github_emulator.template_layers import compose
from app.integrations.github.client import GitHubClient
from app.integrations.github.schemas import DispatchResult
from app.integrations.github.template_catalog import TEMPLATE_KEYS
from tests.support.api import assert_problem
from tests.support.app import ADMIN_KEY, client_for, make_settings, running_app
from tests.support.emulator import TOKEN, RunningEmulator, emulator_config, running_emulator
from tests.support.identity import IdentityProvider

ADMIN = {"x-admin-key": ADMIN_KEY}
HEALTH = "/api/admin/templates/health"
WORKFLOW = ".github/workflows/tenon-ci.yml"
STATIC_CHECKS = {
    "repoReachable": True,
    "defaultBranchUsable": True,
    "workflowFileExists": True,
    "workflowHasDispatch": True,
    "workflowUploadsArtifact": True,
    "artifactNameMatches": True,
    "artifactIncludesResultsJson": True,
}
NOT_FOUND_CHECKS = {
    "repoReachable": False,
    "defaultBranchUsable": None,
    "workflowFileExists": None,
    "workflowHasDispatch": None,
    "workflowUploadsArtifact": None,
    "artifactNameMatches": None,
    "artifactIncludesResultsJson": None,
    "producesResultsJson": None,
}
BROKEN_WORKFLOW = """\
name: tenon-ci
on:
  push:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python scripts/tenon_results.py
      - uses: actions/upload-artifact@v4
        with:
          name: results
          path: tenon-test-results.json
"""
SLOW_WORKFLOW = """\
name: tenon-ci
on:
  workflow_dispatch:
    inputs:
      tenon_run_id:
        required: false
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 20
      - uses: actions/upload-artifact@v4
        with:
          name: tenon-test-results
          path: tenon-test-results.json
"""


# Catalogued, not shipped by the emulator: the JVM, Go and .NET stacks need registries
# (Maven Central, Go proxies, NuGet) the emulator's machines cannot reach.
UNSHIPPED = (
    "dotnet-webapi",
    "go-gin",
    "java-springboot",
    "monorepo-react-springboot",
)
SHIPPED = tuple(key for key in TEMPLATE_KEYS if key not in UNSHIPPED)


def not_installed(name: str) -> str:
    return (
        f"TEMPLATE_NOT_INSTALLED: repository {name} not found (not installed on this GitHub, "
        "or not visible to Tenon's credentials)"
    )


class Scene(NamedTuple):
    client: httpx.AsyncClient
    github: RunningEmulator


@asynccontextmanager
async def health_scene(
    tmp_path: Path,
    database_url: str,
    database: Database,
    idp: IdentityProvider,
    **emulator: Any,
) -> AsyncIterator[Scene]:
    """The app, its GitHub client talking to an emulator started with these overrides."""
    config = emulator_config(tmp_path, **emulator)
    async with running_emulator(config) as github:
        settings = make_settings(
            database_url,
            idp.jwks_url,
            github={
                "api_base": github.base_url,
                "token": TOKEN,
                "template_owner": config.template_owner,
                "mutation_interval_seconds": 0,
                "max_retries": 0,
                # Live checks poll as test runs do: 0.5 s, 1 s, then every 2 s.
                "run_poll_seconds": 0.5,
            },
        )
        async with running_app(settings, database) as app, client_for(app) as client:
            yield Scene(client, github)


def by_repo(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["repoFullName"]: entry for entry in report["templates"]}


def copy_template(templates_dir: Path, name: str) -> Path:
    """A shipped template, composed from its layers into a folder of its own."""
    compose(DEFAULT_TEMPLATES_DIR / name, templates_dir / name)
    return templates_dir / name


@pytest.fixture
async def scene(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> AsyncIterator[Scene]:
    async with health_scene(tmp_path, database_url, database, idp) as scene:
        yield scene


@pytest.fixture
def shipped(scene: Scene) -> httpx.AsyncClient:
    return scene.client


async def test_out_of_the_box_health_checks_every_catalog_template(
    shipped: httpx.AsyncClient,
) -> None:
    # No keys: the whole catalog. What the emulator ships is ok; the rest is not installed,
    # which does not make the report fail.
    response = await shipped.get(HEALTH, params={"mode": "static"}, headers=ADMIN)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is True
    assert report["mode"] == "static"
    assert [(t["templateKey"], t["variant"]) for t in report["templates"]] == [
        (key, variant) for key in TEMPLATE_KEYS for variant in ("code", "debug")
    ]
    statuses = {entry["templateKey"]: entry["status"] for entry in report["templates"]}
    assert statuses == {key: "ok" for key in SHIPPED} | {key: "not_installed" for key in UNSHIPPED}
    for entry in report["templates"]:
        assert entry["workflowFile"] == "tenon-ci.yml"
        assert entry["workflowRunId"] is None
        if entry["status"] == "ok":
            assert entry["ok"] is True, entry
            assert entry["errors"] == []
            assert entry["checks"] == STATIC_CHECKS | {"producesResultsJson": None}
            assert entry["defaultBranch"] == "main"
        else:
            name = entry["repoFullName"]
            assert entry["ok"] is False
            assert entry["checks"] == NOT_FOUND_CHECKS
            assert entry["errors"] == [not_installed(name)]
            assert entry["defaultBranch"] is None


async def test_broken_templates_fail_precise_checks_and_missing_ones_are_not_installed(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> None:
    templates = tmp_path / "templates"
    code = copy_template(templates, "python-fastapi")
    (code / WORKFLOW).write_text(BROKEN_WORKFLOW)
    debug = copy_template(templates, "python-fastapi-debug")
    (debug / WORKFLOW).unlink()
    copy_template(templates, "mobile-backend-fastapi")
    copy_template(templates, "mobile-backend-fastapi-debug")

    async with health_scene(
        tmp_path, database_url, database, idp, templates_dir=templates, template_owner="broken"
    ) as scene:
        response = await scene.client.get(
            HEALTH,
            params={"templateKeys": ["python-fastapi", "mobile-backend-fastapi", "go-gin"]},
            headers=ADMIN,
        )
        only_installed = await scene.client.get(
            HEALTH, params={"templateKeys": ["mobile-backend-fastapi", "go-gin"]}, headers=ADMIN
        )
        nothing_installed = await scene.client.get(
            HEALTH, params={"templateKeys": "go-gin"}, headers=ADMIN
        )

    assert response.status_code == 200, response.text
    report = response.json()
    # One broken template fails the report.
    assert report["ok"] is False
    entries = by_repo(report)
    assert {name: entry["status"] for name, entry in entries.items()} == {
        "broken/python-fastapi": "broken",
        "broken/python-fastapi-debug": "broken",
        "broken/mobile-backend-fastapi": "ok",
        "broken/mobile-backend-fastapi-debug": "ok",
        "broken/go-gin": "not_installed",
        "broken/go-gin-debug": "not_installed",
    }

    code_entry = entries["broken/python-fastapi"]
    assert code_entry["ok"] is False
    assert code_entry["checks"] == {
        "repoReachable": True,
        "defaultBranchUsable": True,
        "workflowFileExists": True,
        "workflowHasDispatch": False,
        "workflowUploadsArtifact": True,
        "artifactNameMatches": False,
        "artifactIncludesResultsJson": None,
        "producesResultsJson": None,
    }
    assert code_entry["errors"] == [
        "workflow does not declare the workflow_dispatch trigger",
        "no actions/upload-artifact step uploads an artifact named tenon-test-results "
        "(found: results)",
    ]

    debug_entry = entries["broken/python-fastapi-debug"]
    assert debug_entry["checks"] == NOT_FOUND_CHECKS | {
        "repoReachable": True,
        "defaultBranchUsable": True,
        "workflowFileExists": False,
    }
    assert debug_entry["errors"] == [f"workflow file {WORKFLOW} not found on main"]

    for name in ("broken/go-gin", "broken/go-gin-debug"):
        assert entries[name]["checks"] == NOT_FOUND_CHECKS
        assert entries[name]["errors"] == [not_installed(name)]

    # Installed templates all fine, the others not installed: ok.
    assert only_installed.json()["ok"] is True
    # Nothing usable at all (a wrong owner, say) is not ok, though nothing is broken.
    assert {entry["status"] for entry in nothing_installed.json()["templates"]} == {"not_installed"}
    assert nothing_installed.json()["ok"] is False


async def test_a_github_failure_is_reported_on_its_template_alone(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> None:
    fault = FaultRule(route=r"^GET /repos/tenon-templates/python-fastapi-debug$", status=503)
    async with health_scene(tmp_path, database_url, database, idp, faults=(fault,)) as scene:
        response = await scene.client.get(
            HEALTH, params={"templateKeys": "python-fastapi"}, headers=ADMIN
        )

    assert response.status_code == 200, response.text
    entries = by_repo(response.json())
    assert entries["tenon-templates/python-fastapi"]["ok"] is True
    failed = entries["tenon-templates/python-fastapi-debug"]
    assert failed["ok"] is False
    # GitHub could not say whether it is installed: broken, not not_installed.
    assert failed["status"] == "broken"
    assert failed["checks"]["repoReachable"] is False
    [error] = failed["errors"]
    assert error.startswith("GITHUB_UNAVAILABLE: GitHub answered 503")


@pytest.mark.parametrize("key", SHIPPED)
async def test_a_live_run_of_a_shipped_template_passes_its_code_and_fails_its_debug(
    shipped: httpx.AsyncClient, key: str
) -> None:
    # Both variants at once, on the emulator's two runners: a Python template takes a few
    # seconds, a TypeScript one about 12 s (npm ci, tsc), a monorepo with Next.js or Expo
    # 30-60 s (npm ci, tsc per app, pytest); several times that on a busy machine.
    response = await shipped.post(
        f"{HEALTH}/run",
        json={"templateKeys": [key], "timeoutSeconds": 600, "concurrency": 2},
        headers=ADMIN,
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["mode"] == "live"
    assert report["ok"] is True, report
    entries = by_repo(report)
    assert len(entries) == 2
    code = entries[f"tenon-templates/{key}"]
    assert code["status"] == "ok", code
    assert code["checks"] == STATIC_CHECKS | {"producesResultsJson": True}
    assert code["workflowConclusion"] == "success", code
    assert isinstance(code["workflowRunId"], int)
    assert code["results"]["resultCode"] == "OK"
    assert code["results"]["failed"] == 0
    assert code["results"]["passed"] >= 10, code
    # The debug day starts from failing tests: the run fails, yet its results parse.
    debug = entries[f"tenon-templates/{key}-debug"]
    assert debug["status"] == "ok", debug
    assert debug["checks"]["producesResultsJson"] is True
    assert debug["workflowConclusion"] == "failure"
    assert debug["results"]["failed"] >= 3, debug
    assert debug["results"]["passed"] > 0, debug
    assert debug["results"]["total"] == code["results"]["total"], key
    assert debug["errors"] == []


async def test_live_runs_beyond_the_concurrency_wait_for_a_free_slot(scene: Scene) -> None:
    response = await scene.client.post(
        f"{HEALTH}/run", json={"templateKeys": ["python-fastapi"], "concurrency": 1}, headers=ADMIN
    )

    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    async with scene.github.client() as github:
        runs = [
            (await github.get(f"/repos/{entry['repoFullName']}/actions/runs/{run_id}")).json()
            for entry in response.json()["templates"]
            if (run_id := entry["workflowRunId"])
        ]
    first, second = sorted(runs, key=lambda run: run["created_at"])
    assert first["updated_at"] <= second["created_at"]


async def test_a_live_run_is_found_when_github_returns_no_run_details(
    shipped: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatch = GitHubClient.dispatch_workflow

    async def like_ghes(self: GitHubClient, *args: Any, **kwargs: Any) -> DispatchResult:
        result = await dispatch(self, *args, **(kwargs | {"return_run_details": False}))
        assert result.workflow_run_id is None
        return result

    monkeypatch.setattr(GitHubClient, "dispatch_workflow", like_ghes)
    response = await shipped.post(
        f"{HEALTH}/run", json={"templateKeys": ["python-fastapi"]}, headers=ADMIN
    )

    assert response.status_code == 200, response.text
    for entry in response.json()["templates"]:
        assert entry["checks"]["producesResultsJson"] is True, entry
        assert isinstance(entry["workflowRunId"], int)


async def test_a_live_run_past_the_timeout_is_reported_as_timed_out(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> None:
    templates = tmp_path / "templates"
    copy_template(templates, "python-fastapi")
    (templates / "python-fastapi" / WORKFLOW).write_text(SLOW_WORKFLOW)

    async with health_scene(
        tmp_path, database_url, database, idp, templates_dir=templates, template_owner="slow"
    ) as scene:
        response = await scene.client.post(
            f"{HEALTH}/run",
            json={"templateKeys": ["python-fastapi"], "timeoutSeconds": 2},
            headers=ADMIN,
        )

    assert response.status_code == 200, response.text
    entries = by_repo(response.json())
    slow = entries["slow/python-fastapi"]
    assert slow["ok"] is False
    assert slow["checks"]["producesResultsJson"] is None
    assert slow["workflowConclusion"] is None
    assert slow["errors"] == [
        f"timed out after 2 s waiting for workflow run {slow['workflowRunId']}"
    ]
    assert entries["slow/python-fastapi-debug"]["errors"] == [
        not_installed("slow/python-fastapi-debug")
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"timeoutSeconds": 601},
        {"timeoutSeconds": 0},
        {"concurrency": 6},
        {"concurrency": 0},
        {"templateKeys": "python-fastapi"},
    ],
)
async def test_live_run_bounds_are_validated(
    shipped: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await shipped.post(f"{HEALTH}/run", json=body, headers=ADMIN)

    assert_problem(response, 422, "VALIDATION_FAILED")


async def test_unknown_template_keys_and_modes_are_422(shipped: httpx.AsyncClient) -> None:
    unknown = await shipped.get(HEALTH, params={"templateKeys": "cobol"}, headers=ADMIN)
    live_by_get = await shipped.get(HEALTH, params={"mode": "live"}, headers=ADMIN)
    unknown_live = await shipped.post(
        f"{HEALTH}/run", json={"templateKeys": ["cobol"]}, headers=ADMIN
    )

    assert assert_problem(unknown, 422, "TEMPLATE_UNKNOWN")["detail"] == (
        "Unknown template keys: cobol."
    )
    assert_problem(live_by_get, 422, "VALIDATION_FAILED")
    assert_problem(unknown_live, 422, "TEMPLATE_UNKNOWN")


async def test_template_health_needs_the_admin_key(client: httpx.AsyncClient) -> None:
    static = await client.get(HEALTH)
    live = await client.post(f"{HEALTH}/run", json={}, headers={"x-admin-key": "wrong"})

    assert_problem(static, 401, "ADMIN_KEY_INVALID")
    assert_problem(live, 401, "ADMIN_KEY_INVALID")


async def test_template_health_without_github_is_503(client: httpx.AsyncClient) -> None:
    static = await client.get(HEALTH, headers=ADMIN)
    live = await client.post(f"{HEALTH}/run", headers=ADMIN)

    assert_problem(static, 503, "GITHUB_NOT_CONFIGURED")
    assert_problem(live, 503, "GITHUB_NOT_CONFIGURED")


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        ("on: workflow_dispatch", True),
        ("on: [push, workflow_dispatch]", True),
        ("on:\n  workflow_dispatch:\n    inputs: {}", True),
        ('"on": {workflow_dispatch: null}', True),
        ("on: push", False),
        ("on: [push, pull_request]", False),
        ("name: no triggers", False),
    ],
)
def test_workflow_dispatch_is_read_from_every_shape_of_on(triggers: str, expected: bool) -> None:
    assert declares_dispatch(yaml.safe_load(triggers)) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tenon-test-results.json", True),
        ("./tenon-test-results.json", True),
        ("tenon-junit.xml\ntenon-test-results.json\n", True),
        ("reports/**/tenon-*.json", True),
        ("tenon-junit.xml", False),
        ("!tenon-test-results.json", False),
        (".", False),
    ],
)
def test_results_file_is_looked_for_in_every_path_line(path: str, expected: bool) -> None:
    workflow = {
        "jobs": {
            "build": {"steps": [{"run": "make"}]},
            "test": {
                "steps": [
                    {"uses": "actions/checkout@v4"},
                    {"uses": "actions/upload-artifact@v4", "with": {"path": path}},
                ]
            },
        }
    }

    [step] = upload_steps(workflow)
    assert lists_results_file(step) is expected
