"""The emulator's JSON against real GitHub responses and webhook payloads (the corpora in
`tests/fixtures/github`, recorded by octokit/fixtures and octokit/webhooks).

Each recorded exchange the emulator serves is replayed against it (same method, path and
body, in the recorded order); the emulator's JSON must have every key of the recording at
the top level and one level down, with the same JSON types (a recorded null matches
anything). Values are not compared: ids, dates and URLs differ by design.

Recorded operations the emulator does not serve, so there is nothing to replay:
  - paginate-issues: the issues API;
  - git-refs: the git refs API;
  - rename-repository: renames and the 301/307 redirects that follow them.
The `errors` recording is a 422 from the labels API (not served); its body shape is
checked against the emulator's own 422, 404 and 401 bodies instead. The `get-archive`
recording is a tarball download: a 302, then a binary archive, compared by its layout.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.corpora import CORPORA, WEBHOOKS
from tests.support.emulator import (
    RunningEmulator,
    WebhookReceiver,
    completed_run,
    dispatch,
    emulator_config,
    eventually,
    generate_repo,
    running_emulator,
    serving,
    write_template,
)

RESPONSES = CORPORA / "github" / "responses"
REPLAYED = (
    "get-repository",
    "get-content",
    "create-file",
    "add-and-remove-repository-collaborator",
)
NOT_SERVED = ("paginate-issues", "git-refs", "rename-repository")
ORG = "octokit-fixture-org"
# The recordings' repositories, generated from the `hello-world` template before replaying.
GENERATED = ("create-file", "add-and-remove-repository-collaborator")

WORKFLOW = """\
name: test
on: workflow_dispatch
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo ok
"""


# Fields GitHub itself sends as null when it has no value, which a recording happened to fill
# (the emulator detects no language and knows no license).
NULLABLE = frozenset({"language", "license"})


def _recording(operation: str) -> list[dict[str, Any]]:
    exchanges: list[dict[str, Any]] = json.loads(
        (RESPONSES / operation / "normalized-fixture.json").read_text()
    )
    return exchanges


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), "null")


def assert_same_shape(recorded: Any, actual: Any, where: str = "$", depth: int = 0) -> None:
    """Keys at the top level and one level down, JSON types two levels down."""
    if recorded is None or (actual is None and where.rsplit(".", 1)[-1] in NULLABLE):
        return
    assert _json_type(actual) == _json_type(recorded), f"{where}: {actual!r} vs {recorded!r}"
    if depth >= 2:
        return
    if isinstance(recorded, dict):
        for key, value in recorded.items():
            assert key in actual, f"{where}: missing {key!r}"
            assert_same_shape(value, actual[key], f"{where}.{key}", depth + 1)
    elif isinstance(recorded, list) and recorded:
        # A listed response must not come back empty; a nested list (topics) may.
        assert actual or depth > 0, f"{where}: empty, recorded {len(recorded)} items"
        if actual:
            # The items of a list are at the list's own level.
            assert_same_shape(recorded[0], actual[0], f"{where}[0]", depth)


def test_every_recorded_operation_is_replayed_or_listed_as_not_served() -> None:
    recorded = {path.name for path in RESPONSES.iterdir() if path.is_dir()}
    assert recorded == {*REPLAYED, *NOT_SERVED, "errors", "get-archive"}


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[RunningEmulator]:
    templates = tmp_path / "templates"
    write_template(templates, "hello-world", {"README.md": "# hello-world"})
    write_template(templates, "ci", {".github/workflows/test.yml": WORKFLOW})
    config = emulator_config(
        tmp_path,
        templates_dir=templates,
        template_owner=ORG,
        actor_login="octokit-fixture-user-a",
        # The recording accepts the invitation itself (PATCH /user/repository_invitations).
        auto_accept_invitations=False,
        generate_delay_seconds=0,
    )
    async with running_emulator(config) as running:
        yield running


async def _generate(api: httpx.AsyncClient, template: str, name: str) -> None:
    # GitHub sends null for a missing description; the webhook recordings have one.
    await generate_repo(api, f"{ORG}/{template}", ORG, name, description="A recorded repo")


def _body(response: httpx.Response) -> Any:
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


@pytest.mark.parametrize("operation", REPLAYED)
async def test_replayed_responses_have_the_recorded_shape(
    github: RunningEmulator, operation: str
) -> None:
    async with github.client() as api:
        for name in GENERATED:
            await _generate(api, "hello-world", name)
        # Recorded ids in later paths (the invitation accepted) become the emulator's.
        ids: dict[str, str] = {}
        for exchange in _recording(operation):
            path = re.sub(r"(?<=/)\d+(?=/|$)", lambda m: ids.get(m[0], m[0]), exchange["path"])
            response = await api.request(
                exchange["method"].upper(),
                path,
                json=exchange["body"] or None,
                headers={"Accept": exchange["reqheaders"]["accept"]},
            )
            where = f"{exchange['method'].upper()} {path}"
            assert response.status_code == exchange["status"], f"{where}: {response.text}"
            recorded, actual = exchange["response"], _body(response)
            assert_same_shape(recorded, actual, where)
            if isinstance(recorded, dict) and "id" in recorded:
                ids[str(recorded["id"])] = str(actual["id"])


def _layout(archive: bytes, sha7: str) -> list[str]:
    """The archive's member names, its commit's abbreviation replaced as the recording's is."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return [name.replace(sha7, "0000000") for name in tar.getnames()]


async def test_tarball_downloads_have_the_recorded_layout(github: RunningEmulator) -> None:
    redirect_recorded, download_recorded = _recording("get-archive")
    async with github.client() as api:
        await _generate(api, "hello-world", "get-archive")
        head = (await api.get(f"/repos/{ORG}/get-archive/branches/main")).json()["commit"]["sha"]
        redirect = await api.get(
            redirect_recorded["path"],
            headers={"Accept": redirect_recorded["reqheaders"]["accept"]},
        )
    assert redirect.status_code == redirect_recorded["status"]
    async with httpx.AsyncClient() as codeload:  # the signed URL is the credential
        download = await codeload.get(redirect.headers["location"])

    assert download.status_code == download_recorded["status"]
    recorded_headers = download_recorded["headers"]
    for name in ("content-type", "content-disposition"):
        assert download.headers[name].replace(head[:7], "0000000") == recorded_headers[name]
    recorded_archive = bytes.fromhex(download_recorded["response"])
    assert _layout(download.content, head[:7]) == _layout(recorded_archive, "0000000")


async def test_error_bodies_have_the_recorded_shape(github: RunningEmulator) -> None:
    recorded = _recording("errors")[0]
    assert recorded["status"] == 422
    async with github.client() as api:
        body = {"name": "taken", "owner": ORG}
        await api.post(f"/repos/{ORG}/hello-world/generate", json=body)
        taken = await api.post(f"/repos/{ORG}/hello-world/generate", json=body)
        missing = await api.get(f"/repos/{ORG}/missing")
    async with github.client(token=None) as anonymous:
        unauthenticated = await anonymous.get(f"/repos/{ORG}/hello-world")
    assert taken.status_code == 422
    assert_same_shape(recorded["response"], taken.json())
    without_errors = {k: v for k, v in recorded["response"].items() if k != "errors"}
    for response, status in ((missing, 404), (unauthenticated, 401)):
        assert response.status_code == status
        assert_same_shape(without_errors, response.json())


async def test_workflow_run_webhooks_have_the_recorded_shape(tmp_path: Path) -> None:
    receiver = WebhookReceiver()
    templates = tmp_path / "templates"
    write_template(templates, "ci", {".github/workflows/test.yml": WORKFLOW})
    async with serving(receiver.app) as receiver_url:
        config = emulator_config(
            tmp_path,
            templates_dir=templates,
            template_owner=ORG,
            webhook_url=f"{receiver_url}/hook",
            webhook_secret="secret",
            generate_delay_seconds=0,
        )
        async with running_emulator(config) as github, github.client() as api:
            await _generate(api, "ci", "octo-repo")
            run_id = await dispatch(api, f"{ORG}/octo-repo", "test.yml")
            await completed_run(api, f"{ORG}/octo-repo", run_id)

            async def three() -> list[tuple[dict[str, str], dict[str, Any]]] | None:
                return receiver.accepted() if len(receiver.accepted()) == 3 else None

            deliveries = {payload["action"]: payload for _, payload in await eventually(three)}
    for action in ("requested", "completed"):
        recorded = json.loads((WEBHOOKS / "workflow_run" / f"{action}.payload.json").read_text())
        assert_same_shape(recorded, deliveries[action], action)
