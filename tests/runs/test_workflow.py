"""The run-workflow rules test runs and template health share (`app.runs.workflow`): how the
run a dispatch created is looked for, how polls back off, and that artifacts are parsed in a
worker thread, off the event loop the API shares with the in-process worker."""

from __future__ import annotations

import asyncio
import json
import threading
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from app.core.metrics import Metrics
from app.core.settings import GitHubSettings
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.integrations.github.schemas import Artifact
from app.runs import workflow
from app.runs.results import PREFERRED_ARTIFACT, PREFERRED_FILE, ParsedResults

API = "https://github.test"
REPO = "acme/tenon-ws"
RUNS = f"{API}/repos/{REPO}/actions/workflows/tenon-ci.yml/runs"


def _client(http: httpx.AsyncClient) -> GitHubClient:
    settings = GitHubSettings(
        _env_file=None, api_base=API, token=SecretStr("t"), mutation_interval_seconds=0
    )
    return GitHubClient(http, settings, TokenAuth(SecretStr("t")), Metrics())


def _run(run_id: int) -> dict[str, Any]:
    return {
        "id": run_id,
        "status": "queued",
        "head_sha": "abc",
        "event": "workflow_dispatch",
        "html_url": f"{API}/{REPO}/actions/runs/{run_id}",
        "created_at": "2026-11-22T10:00:00Z",
        "updated_at": "2026-11-22T10:00:00Z",
    }


@respx.mock
async def test_dispatched_runs_are_those_since_the_record_less_the_clock_skew_oldest_first() -> (
    None
):
    listing = respx.get(RUNS).mock(
        return_value=httpx.Response(
            200, json={"total_count": 3, "workflow_runs": [_run(9), _run(7), _run(8)]}
        )
    )
    since = datetime(2026, 11, 22, 10, 0, 30, tzinfo=UTC)

    async with httpx.AsyncClient() as http:
        runs = await workflow.dispatched_runs(
            _client(http), REPO, "tenon-ci.yml", branch="main", since=since
        )

    assert [run.id for run in runs] == [7, 8, 9]
    params = listing.calls.last.request.url.params
    assert (params["event"], params["branch"]) == ("workflow_dispatch", "main")
    assert params["created"] == ">=2026-11-22T10:00:00Z"


def test_polls_wait_the_first_delay_then_back_off_to_four_times_it() -> None:
    delays = [workflow.poll_delay(15, polls=polls) for polls in range(5)]

    assert delays == [timedelta(seconds=seconds) for seconds in (15, 30, 60, 60, 60)]


class _ArtifactServer:
    """Stands in for the client's artifact download: writes a prepared zip."""

    def __init__(self, zips: dict[int, bytes]) -> None:
        self.zips = zips

    async def download_artifact(self, full_name: str, artifact_id: int, destination: Path) -> int:
        await asyncio.to_thread(destination.write_bytes, self.zips[artifact_id])
        return len(self.zips[artifact_id])


def _results_zip(tmp_path: Path) -> bytes:
    path = tmp_path / "results.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(PREFERRED_FILE, json.dumps({"passed": 3, "failed": 1, "total": 4}))
    return path.read_bytes()


async def test_artifacts_are_downloaded_and_parsed_in_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed_on: list[threading.Thread] = []
    parse = workflow.parse_artifacts

    def recording_parse(artifacts: list[tuple[str, Path]]) -> ParsedResults:
        parsed_on.append(threading.current_thread())
        return parse(artifacts)

    monkeypatch.setattr(workflow, "parse_artifacts", recording_parse)
    artifact = Artifact(
        id=5,
        name=PREFERRED_ARTIFACT,
        size_in_bytes=100,
        archive_download_url=f"{API}/zip",
        expired=False,
    )
    github: Any = _ArtifactServer({5: _results_zip(tmp_path)})

    parsed = await workflow.download_and_parse(github, REPO, [artifact])

    assert (parsed.result_code, parsed.passed, parsed.failed, parsed.total) == ("OK", 3, 1, 4)
    assert parsed.artifact_name == PREFERRED_ARTIFACT
    # This coroutine runs on the event loop's thread; the parse ran elsewhere.
    assert parsed_on
    assert parsed_on[0] is not threading.current_thread()
