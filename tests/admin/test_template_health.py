"""Template health (SPEC §6.5): the admin routes against the GitHub emulator over real HTTP."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import yaml

from app.admin.schemas import TemplateHealth
from app.admin.template_health import RUN_NAME
from app.admin.workflow_checks import (
    check_run_name,
    declares_dispatch,
    dispatch_inputs,
    lists_results_file,
    upload_steps,
)
from app.core.db import Database
from app.github_emulator.config import DEFAULT_TEMPLATES_DIR
from app.github_emulator.faults import FaultRule
from app.github_emulator.template_layers import compose
from app.integrations.github.client import GitHubClient
from app.integrations.github.schemas import DispatchResult
from app.integrations.github.template_catalog import GRADED_KEYS, TEMPLATE_KEYS
from tests.support.api import assert_problem
from tests.support.app import ADMIN_KEY, client_for, make_settings, running_app
from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    emulator_config,
    running_emulator,
    write_template,
)
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
run-name: tenon-run ${{ inputs.tenon_run_id }}
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
GRADED = sorted(GRADED_KEYS)
GRADE_WORKFLOW = ".github/workflows/tenon-grade.yml"
GRADER_STATIC_CHECKS = {
    "repoReachable": True,
    "repoPrivate": True,
    "defaultBranchUsable": True,
    "workflowFileExists": True,
    "workflowHasDispatch": True,
    "dispatchInputsDeclared": True,
    "checksOutCandidate": True,
    "workflowUploadsArtifact": True,
    "artifactNameMatches": True,
    "artifactIncludesResultsJson": True,
}
GRADER_LIVE_UNCHECKED = {
    "producesResultsJson": None,
    "hasHiddenTests": None,
    "outcomeAsExpected": None,
}


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
    # The shipped graders of the graded keys, each private with a workflow per the contract.
    assert [(g["templateKey"], g["variant"], g["repoFullName"]) for g in report["graders"]] == [
        (key, variant, f"tenon-templates/{key}{'-debug' if variant == 'debug' else ''}-grader")
        for key in TEMPLATE_KEYS
        if key in GRADED_KEYS
        for variant in ("code", "debug")
    ]
    for grader in report["graders"]:
        assert (grader["status"], grader["errors"]) == ("ok", []), grader
        assert grader["checks"] == GRADER_STATIC_CHECKS | GRADER_LIVE_UNCHECKED
        assert grader["workflowFile"] == "tenon-grade.yml"


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


@pytest.fixture(scope="session")
def live_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the reports of live runs are kept for the run: under xdist, in the folder the
    workers of this run share."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "live-reports"
    folder.mkdir(exist_ok=True)
    return folder


@asynccontextmanager
async def file_lock(path: Path) -> AsyncIterator[None]:
    """Held by one process at a time (the wait in a thread, off the event loop)."""
    with path.open("w") as file:
        await asyncio.to_thread(fcntl.flock, file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


async def live_report(shipped: httpx.AsyncClient, reports: Path, key: str) -> dict[str, Any]:
    """The report of a live run of `key` alone, both variants at once, on the emulator's two
    runners: a Python template takes a few seconds, a TypeScript one about 12 s (npm ci,
    tsc), a monorepo with Next.js or Expo 30-60 s (npm ci, tsc per app, pytest); several
    times that on a busy machine.

    A graded template's run covers its graders too, and two tests read that report: the
    template's and the grader's. The first to ask makes the request; the other, in any
    worker, waits for it and reads the same report (four runs of npm ci, tsc and the tests
    for node-express-ts, made once)."""
    kept = reports / f"{key}.json"
    async with file_lock(reports / f"{key}.lock"):
        if not kept.exists():
            response = await shipped.post(
                f"{HEALTH}/run",
                json={"templateKeys": [key], "timeoutSeconds": 600, "concurrency": 2},
                headers=ADMIN,
            )
            assert response.status_code == 200, response.text
            written = kept.with_suffix(".part")
            written.write_text(response.text)
            written.replace(kept)  # whole or not at all
        report: dict[str, Any] = json.loads(kept.read_text())
    return report


@pytest.mark.parametrize("key", SHIPPED)
async def test_a_live_run_of_a_shipped_template_passes_its_code_and_fails_its_debug(
    shipped: httpx.AsyncClient, live_reports: Path, key: str
) -> None:
    report = await live_report(shipped, live_reports, key)

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
    ("run_name", "ok"),
    [
        ("tenon-run ${{ inputs.tenon_run_id }}", True),
        ("tenon-run ${{inputs.tenon_run_id}}", True),
        ("run ${{ inputs.tenon_run_id }}", False),
        (None, False),
    ],
)
def test_the_run_name_must_title_runs_by_the_run_id(run_name: str | None, ok: bool) -> None:
    entry = TemplateHealth(
        template_key="k", variant="code", repo_full_name="o/k", workflow_file="tenon-ci.yml"
    )
    check_run_name({"run-name": run_name} if run_name else {}, entry, RUN_NAME)
    assert (entry.errors == []) is ok


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


# ---- graders ------------------------------------------------------------------------------


def grade_workflow(
    *,
    inputs: tuple[str, ...] = ("candidate_repo", "candidate_sha", "tenon_grading_id"),
    candidate_checkout: dict[str, str] | None = None,
    grade: str = "python grader/runner/grade.py candidate",
    artifact: str = "tenon-grade-results",
    upload_always: bool = True,
) -> str:
    """A grading workflow shaped as the contract says, with the given parts changed."""
    checkout = {
        "repository": "${{ inputs.candidate_repo }}",
        "ref": "${{ inputs.candidate_sha }}",
        "token": "${{ steps.token.outputs.token }}",
        "path": "candidate",
    }
    upload: dict[str, Any] = {
        "uses": "actions/upload-artifact@v4",
        "with": {"name": artifact, "path": "tenon-test-results.json\ntenon-junit.xml\n"},
    }
    if upload_always:
        upload["if"] = "always()"
    document = {
        "name": "tenon-grade",
        "run-name": "tenon-grade ${{ inputs.tenon_grading_id }}",
        "on": {
            "workflow_dispatch": {
                "inputs": {name: {"required": True} for name in inputs},
            }
        },
        "jobs": {
            "grade": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/checkout@v4", "with": {"path": "grader"}},
                    {
                        "id": "token",
                        "uses": "actions/create-github-app-token@v1",
                        "with": {
                            "app-id": "${{ secrets.TENON_APP_ID }}",
                            "private-key": "${{ secrets.TENON_APP_PRIVATE_KEY }}",
                        },
                    },
                    {
                        "uses": "actions/checkout@v4",
                        "with": checkout if candidate_checkout is None else candidate_checkout,
                    },
                    {"run": grade},
                    upload,
                ],
            }
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def write_grader(templates: Path, name: str, workflow: str | None) -> None:
    files = {"README.md": f"# {name}\n"} | ({GRADE_WORKFLOW: workflow} if workflow else {})
    write_template(templates, name, files)


async def set_private(scene: Scene, repo: str, private: bool) -> None:
    async with scene.github.client() as github:
        response = await github.patch(f"/repos/{repo}", json={"private": private})
    assert response.status_code == 200, response.text


def by_grader(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["repoFullName"]: entry for entry in report["graders"]}


async def test_broken_graders_fail_precise_checks(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> None:
    templates = tmp_path / "templates"
    for name in ("python-fastapi", "python-fastapi-debug", "node-express-ts"):
        copy_template(templates, name)
    write_grader(templates, "python-fastapi-grader", grade_workflow())
    write_grader(templates, "python-fastapi-debug-grader", grade_workflow())
    write_grader(
        templates,
        "node-express-ts-grader",
        grade_workflow(
            inputs=("candidate_repo", "tenon_grading_id"),
            candidate_checkout={"repository": "${{ inputs.candidate_repo }}", "path": "c"},
            artifact="tenon-test-results",
        ),
    )
    write_grader(templates, "node-express-ts-debug-grader", None)

    async with health_scene(
        tmp_path, database_url, database, idp, templates_dir=templates, template_owner="graders"
    ) as scene:
        await set_private(scene, "graders/python-fastapi-grader", True)
        await set_private(scene, "graders/python-fastapi-debug-grader", False)
        await set_private(scene, "graders/node-express-ts-grader", True)
        await set_private(scene, "graders/node-express-ts-debug-grader", True)
        response = await scene.client.get(
            HEALTH, params={"templateKeys": [*GRADED, "mobile-backend-fastapi"]}, headers=ADMIN
        )
        async with scene.github.client() as github:
            deleted = await github.delete("/repos/graders/python-fastapi-grader")
            assert deleted.status_code == 204, deleted.text
        without_grader = await scene.client.get(
            HEALTH, params={"templateKeys": "python-fastapi"}, headers=ADMIN
        )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is False
    # The templates' own entries keep their shape; ungraded keys have no graders.
    assert {e["repoFullName"]: e["status"] for e in report["templates"]} == {
        "graders/node-express-ts": "ok",
        "graders/node-express-ts-debug": "not_installed",
        "graders/python-fastapi": "ok",
        "graders/python-fastapi-debug": "ok",
        "graders/mobile-backend-fastapi": "not_installed",
        "graders/mobile-backend-fastapi-debug": "not_installed",
    }
    graders = by_grader(report)
    assert list(graders) == [
        "graders/node-express-ts-grader",
        "graders/node-express-ts-debug-grader",
        "graders/python-fastapi-grader",
        "graders/python-fastapi-debug-grader",
    ]

    good = graders["graders/python-fastapi-grader"]
    assert (good["status"], good["ok"], good["errors"]) == ("ok", True, [])
    assert good["checks"] == GRADER_STATIC_CHECKS | GRADER_LIVE_UNCHECKED
    assert good["templateRepoFullName"] == "graders/python-fastapi"
    assert good["variant"] == "code"
    assert good["defaultBranch"] == "main"

    public = graders["graders/python-fastapi-debug-grader"]
    assert public["status"] == "broken"
    assert public["templateRepoFullName"] == "graders/python-fastapi-debug"
    assert public["checks"] == GRADER_STATIC_CHECKS | GRADER_LIVE_UNCHECKED | {"repoPrivate": False}
    assert public["errors"] == [
        "repository graders/python-fastapi-debug-grader is public: anyone can read its hidden tests"
    ]

    invalid = graders["graders/node-express-ts-grader"]
    assert invalid["status"] == "broken"
    assert invalid["checks"] == GRADER_STATIC_CHECKS | GRADER_LIVE_UNCHECKED | {
        "dispatchInputsDeclared": False,
        "checksOutCandidate": False,
        "artifactNameMatches": False,
        "artifactIncludesResultsJson": None,
    }
    assert invalid["errors"] == [
        "workflow_dispatch does not declare the inputs: candidate_sha",
        "the actions/checkout step of the candidate's repository lacks "
        "ref: ${{ inputs.candidate_sha }}, token",
        "no actions/upload-artifact step uploads an artifact named tenon-grade-results "
        "(found: tenon-test-results)",
    ]

    missing = graders["graders/node-express-ts-debug-grader"]
    # Its template is not installed here, so it does not count against the report alone;
    # it is broken all the same.
    assert missing["status"] == "broken"
    assert (
        missing["checks"]
        == {
            "repoReachable": True,
            "repoPrivate": True,
            "defaultBranchUsable": True,
            "workflowFileExists": False,
        }
        | {
            key: None
            for key in GRADER_STATIC_CHECKS
            if key
            not in {"repoReachable", "repoPrivate", "defaultBranchUsable", "workflowFileExists"}
        }
        | GRADER_LIVE_UNCHECKED
    )
    assert missing["errors"] == [f"workflow file {GRADE_WORKFLOW} not found on main"]

    # A graded template installed without its grader: its submissions cannot be graded.
    assert without_grader.status_code == 200, without_grader.text
    assert without_grader.json()["ok"] is False
    [entry] = [g for g in without_grader.json()["graders"] if g["variant"] == "code"]
    assert entry["status"] == "not_installed"
    assert entry["checks"]["repoReachable"] is False
    assert entry["errors"] == [
        "GRADER_NOT_INSTALLED: repository graders/python-fastapi-grader not found (not installed "
        "on this GitHub, or not visible to Tenon's credentials): submissions from "
        "graders/python-fastapi cannot be graded"
    ]


# A grading step standing in for a grader's runner: canned results, so the live check's
# judgement can be tested without a real grader.
CANNED_RESULTS = """\
cat > tenon-test-results.json <<'JSON'
{"passed": 2, "failed": 0, "skipped": 0, "total": 2, "stdout": "", "stderr": "",
 "summary": "2 passed"}
JSON
cat > tenon-junit.xml <<'XML'
<testsuites><testsuite name="grader" tests="2">
<testcase classname="visible.test_tasks" name="test_create"/>
<testcase classname="visible.test_tasks" name="test_list"/>
</testsuite></testsuites>
XML
"""


async def test_a_live_grading_reports_a_failed_run_no_hidden_tests_and_a_wrong_outcome(
    tmp_path: Path,
    database_url: str,
    database: Database,
    idp: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    templates = tmp_path / "templates"
    copy_template(templates, "python-fastapi")
    copy_template(templates, "python-fastapi-debug")
    # The code grader's run fails before it writes results, and uploads nothing.
    write_grader(
        templates, "python-fastapi-grader", grade_workflow(grade="exit 1", upload_always=False)
    )
    # The debug grader passes the debug template's planted bugs, with no hidden test.
    write_grader(templates, "python-fastapi-debug-grader", grade_workflow(grade=CANNED_RESULTS))
    dispatch = GitHubClient.dispatch_workflow

    async def like_ghes(self: GitHubClient, *args: Any, **kwargs: Any) -> DispatchResult:
        # No run id in the answer: the grading run is found by its name.
        return await dispatch(self, *args, **(kwargs | {"return_run_details": False}))

    monkeypatch.setattr(GitHubClient, "dispatch_workflow", like_ghes)
    async with health_scene(
        tmp_path, database_url, database, idp, templates_dir=templates, template_owner="live"
    ) as scene:
        for name in ("python-fastapi-grader", "python-fastapi-debug-grader"):
            await set_private(scene, f"live/{name}", True)
        response = await scene.client.post(
            f"{HEALTH}/run",
            json={"templateKeys": ["python-fastapi"], "timeoutSeconds": 300},
            headers=ADMIN,
        )
        async with scene.github.client() as github:
            heads = {
                name: (await github.get(f"/repos/live/{name}/branches/main")).json()
                for name in ("python-fastapi", "python-fastapi-debug")
            }
            debug_grader = by_grader(response.json())["live/python-fastapi-debug-grader"]
            run = (
                await github.get(
                    f"/repos/live/python-fastapi-debug-grader/actions/runs/"
                    f"{debug_grader['workflowRunId']}"
                )
            ).json()

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is False
    assert {e["status"] for e in report["templates"]} == {"ok"}
    graders = by_grader(report)

    failed = graders["live/python-fastapi-grader"]
    assert failed["status"] == "broken"
    assert failed["candidateSha"] == heads["python-fastapi"]["commit"]["sha"]
    assert failed["gradingId"].startswith("health-")
    assert failed["workflowConclusion"] == "failure"
    assert failed["checks"] == GRADER_STATIC_CHECKS | GRADER_LIVE_UNCHECKED | {
        "producesResultsJson": False
    }
    assert failed["errors"] == [
        f"workflow run {failed['workflowRunId']} (failure) uploaded no tenon-grade-results artifact"
    ]
    assert failed["results"] is None

    passed = graders["live/python-fastapi-debug-grader"]
    assert passed["status"] == "broken"
    debug_head = heads["python-fastapi-debug"]["commit"]["sha"]
    assert passed["candidateSha"] == debug_head
    # Correlated by the run's name, which carries the health check's grading id.
    assert run["display_title"] == f"tenon-grade {passed['gradingId']}"
    assert passed["checks"] == GRADER_STATIC_CHECKS | {
        "producesResultsJson": True,
        "hasHiddenTests": False,
        "outcomeAsExpected": False,
    }
    assert passed["results"] == {
        "resultCode": "OK",
        "passed": 2,
        "failed": 0,
        "skipped": 0,
        "total": 2,
        "hiddenPassed": 0,
        "hiddenTotal": 0,
    }
    assert passed["errors"] == [
        "the results list no hidden tests (JUnit classname `hidden` or `hidden.…`)",
        "grading the debug template live/python-fastapi-debug at "
        f"{debug_head} failed no test (2 of 2 passed): its planted bugs go "
        "unnoticed",
    ]


@pytest.mark.parametrize("key", GRADED)
async def test_a_live_grading_of_each_template_by_its_shipped_grader(
    shipped: httpx.AsyncClient, live_reports: Path, key: str
) -> None:
    # Needs the shipped grader repositories and the emulator's checkout of another repository
    # with a scoped App token (issue 13).
    report = await live_report(shipped, live_reports, key)

    graders = by_grader(report)
    code = graders[f"tenon-templates/{key}-grader"]
    assert (code["status"], code["errors"]) == ("ok", []), code
    assert code["checks"] == GRADER_STATIC_CHECKS | {
        "producesResultsJson": True,
        "hasHiddenTests": True,
        "outcomeAsExpected": True,
    }
    assert code["workflowConclusion"] == "success"
    assert code["results"]["failed"] == 0
    assert code["results"]["passed"] == code["results"]["total"] > 0
    assert code["results"]["hiddenPassed"] == code["results"]["hiddenTotal"] > 0
    debug = graders[f"tenon-templates/{key}-debug-grader"]
    assert (debug["status"], debug["errors"]) == ("ok", []), debug
    assert debug["results"]["failed"] > 0
    assert debug["results"]["hiddenTotal"] > 0
    assert report["ok"] is True, report


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        ("on:\n  workflow_dispatch:\n    inputs: {a: {}, b: {required: true}}", {"a", "b"}),
        ("on: workflow_dispatch", set()),
        ("on: {workflow_dispatch: null}", set()),
        ("on: [workflow_dispatch]", set()),
        ("name: no triggers", set()),
    ],
)
def test_dispatch_inputs_are_read_from_the_trigger(triggers: str, expected: set[str]) -> None:
    assert dispatch_inputs(yaml.safe_load(triggers)) == expected
