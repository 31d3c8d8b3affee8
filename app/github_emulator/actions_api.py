"""GitHub Actions: workflows, dispatch, runs, artifacts, and the artifact storage host."""

from __future__ import annotations

import asyncio
import contextlib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.responses import FileResponse, RedirectResponse, Response

from app.github_emulator import git, payloads
from app.github_emulator.emulator import Call
from app.github_emulator.repos_api import repo_of
from app.github_emulator.responses import (
    GitHubError,
    RequestBody,
    empty_response,
    json_response,
    link_header,
    not_found,
    page_params,
    read_body,
    validation_failed,
)
from app.github_emulator.signed_urls import check_signed, expiry, signed_url
from app.github_emulator.storage import Artifact, Repo, Run
from app.github_emulator.workflows import (
    DispatchInput,
    Workflow,
    WorkflowError,
    parse_workflow,
    text,
)

MAX_DISPATCH_INPUTS = 25
_WORKFLOW_FILE_NAME = re.compile(r"[A-Za-z0-9._-]+")


class DispatchBody(RequestBody):
    ref: str
    inputs: dict[str, Any] | None = None
    return_run_details: bool = False


@dataclass(frozen=True)
class _WorkflowFile:
    path: str
    id: int
    blob: str


async def _workflow_file(call: Call, repo: Repo, commit: str | None) -> _WorkflowFile:
    """The workflow file the URL names (by file name or id), as of `commit`; ids are given
    out on first sight and stay with the path."""
    reference = call.param("workflow_id")
    if reference.isdigit():
        path = next((p for p, wid in repo.workflows.items() if str(wid) == reference), None)
    elif _WORKFLOW_FILE_NAME.fullmatch(reference) and reference not in (".", ".."):
        path = f".github/workflows/{reference}"
    else:
        path = None
    entry = None
    if path is not None and commit is not None:
        entry = await git.entry(call.store.path(repo), commit, path)
    if path is None or entry is None or entry.kind != "blob":
        raise not_found()
    if path not in repo.workflows:
        repo.workflows[path] = call.store.next_id("workflow")
        await call.store.save()
    return _WorkflowFile(path, repo.workflows[path], entry.sha)


async def _parse(call: Call, repo: Repo, workflow: _WorkflowFile) -> Workflow:
    source = await git.read_blob(call.store.path(repo), workflow.blob)
    return parse_workflow(source.decode(errors="replace"), workflow.path)


async def _default_head(call: Call, repo: Repo) -> str | None:
    return await git.resolve(call.store.path(repo), f"refs/heads/{repo.default_branch}")


async def get_workflow(call: Call) -> Response:
    repo = repo_of(call)
    workflow = await _workflow_file(call, repo, await _default_head(call, repo))
    name = workflow.path  # GitHub lists a workflow file that does not parse by its path
    with contextlib.suppress(WorkflowError):
        name = (await _parse(call, repo, workflow)).name
    body = payloads.workflow(call.base, repo, workflow.path, workflow.id, name)
    return json_response(call.request, body)


async def _dispatch_ref(call: Call, repo: Repo, ref: str) -> tuple[str, str]:
    """(full ref, sha) for a branch or tag name; dispatch does not take a bare sha."""
    candidates = (
        [ref]
        if ref.startswith(("refs/heads/", "refs/tags/"))
        else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    )
    for candidate in candidates:
        sha = await git.resolve(call.store.path(repo), candidate)
        if sha is not None:
            return candidate, sha
    raise GitHubError(422, f"No ref found for: {ref}")


def _inputs(given: dict[str, Any], declared: dict[str, DispatchInput]) -> dict[str, str]:
    if len(given) > MAX_DISPATCH_INPUTS:
        raise GitHubError(422, f"you may only define up to {MAX_DISPATCH_INPUTS} inputs")
    unexpected = sorted(set(given) - set(declared))
    if unexpected:
        raise GitHubError(422, f"Unexpected inputs provided: {unexpected}")
    values = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = text(given[name])
        elif spec.default is not None:
            values[name] = spec.default
        elif spec.required:
            raise GitHubError(422, f"Required input '{name}' not provided")
    return values


async def dispatch(call: Call) -> Response:
    repo = repo_of(call)
    body = await read_body(call.request, DispatchBody)
    full_ref, sha = await _dispatch_ref(call, repo, body.ref)
    file = await _workflow_file(call, repo, sha)
    try:
        workflow = await _parse(call, repo, file)
    except WorkflowError as exc:
        raise GitHubError(422, f"Invalid workflow file {file.path}: {exc}") from exc
    if workflow.dispatch_inputs is None:
        raise GitHubError(422, "Workflow does not have 'workflow_dispatch' trigger")
    run = await call.emulator.runner.create_run(
        repo,
        workflow_id=file.id,
        path=file.path,
        workflow=workflow,
        ref=full_ref,
        head=await git.commit_info(call.store.path(repo), sha),
        inputs=_inputs(body.inputs or {}, workflow.dispatch_inputs),
        actor=call.identity.login,
        api_base=call.base,
    )
    if not body.return_run_details:
        return empty_response()
    details = {
        "workflow_run_id": run.id,
        "run_url": f"{call.base}/repos/{repo.full_name}/actions/runs/{run.id}",
        "html_url": f"{call.base}/{repo.full_name}/actions/runs/{run.id}",
    }
    return json_response(call.request, details)


def _moment(value: str, *, end_of_day: bool = False) -> datetime:
    if len(value) == 10:  # a bare date
        day = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        return day + timedelta(days=1) - timedelta(seconds=1) if end_of_day else day
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_COMPARISONS: tuple[tuple[str, Callable[[datetime, datetime], bool], bool], ...] = (
    (">=", operator.ge, False),
    ("<=", operator.le, True),
    (">", operator.gt, True),
    ("<", operator.lt, False),
)


def _created_filter(query: str) -> Callable[[datetime], bool]:
    """GitHub's search date syntax: >=X, <=X, >X, <X, X..Y (either side may be *), X. A bare
    date as an upper bound (or after >) means the end of that day."""
    try:
        for prefix, compare, end_of_day in _COMPARISONS:
            if query.startswith(prefix):
                bound = _moment(query[len(prefix) :], end_of_day=end_of_day)
                return lambda at: compare(at, bound)
        if ".." in query:
            low, high = query.split("..", 1)
            lower = None if low == "*" else _moment(low)
            upper = None if high == "*" else _moment(high, end_of_day=True)
            return lambda at: (lower is None or at >= lower) and (upper is None or at <= upper)
        start, end = _moment(query), _moment(query, end_of_day=True)
        return lambda at: start <= at <= end
    except ValueError as exc:
        raise validation_failed(f"Invalid created filter: {query!r}") from exc


def _run_filter(call: Call) -> Callable[[Run], bool]:
    query = call.request.query_params
    created = _created_filter(query["created"]) if "created" in query else None

    def matches(run: Run) -> bool:
        status = query.get("status")
        return (
            query.get("branch") in (None, run.head_branch)
            and query.get("event") in (None, run.event)
            and query.get("head_sha") in (None, run.head_sha)
            and (query.get("actor") is None or query["actor"].lower() == run.actor.lower())
            and (status is None or status in (run.status, run.conclusion))
            and (created is None or created(run.created_at))
        )

    return matches


def _runs_response(call: Call, repo: Repo, runs: list[Run]) -> Response:
    matches = _run_filter(call)
    selected = sorted((run for run in runs if matches(run)), key=lambda run: -run.id)
    page, per_page = page_params(call.request)
    chosen = selected[(page - 1) * per_page : page * per_page]
    body = {
        "total_count": len(selected),
        "workflow_runs": [_run_json(call, repo, run) for run in chosen],
    }
    headers = link_header(
        call.request, call.base, page=page, per_page=per_page, total=len(selected)
    )
    return json_response(call.request, body, headers=headers)


def _run_json(call: Call, repo: Repo, run: Run) -> dict[str, Any]:
    store = call.store
    return payloads.run(call.base, repo, store.account(repo.owner), store.account(run.actor), run)


async def list_workflow_runs(call: Call) -> Response:
    repo = repo_of(call)
    workflow = await _workflow_file(call, repo, await _default_head(call, repo))
    runs = [
        run
        for run in call.store.state.runs.values()
        if run.repo_id == repo.id and run.workflow_id == workflow.id
    ]
    return _runs_response(call, repo, runs)


async def list_repo_runs(call: Call) -> Response:
    repo = repo_of(call)
    runs = [run for run in call.store.state.runs.values() if run.repo_id == repo.id]
    return _runs_response(call, repo, runs)


def _run_of(call: Call, repo: Repo) -> Run:
    run = call.store.state.runs.get(call.int_param("run_id"))
    if run is None or run.repo_id != repo.id:
        raise not_found()
    return run


async def get_run(call: Call) -> Response:
    repo = repo_of(call)
    return json_response(call.request, _run_json(call, repo, _run_of(call, repo)))


async def list_run_artifacts(call: Call) -> Response:
    repo = repo_of(call)
    run = _run_of(call, repo)
    name = call.request.query_params.get("name")
    artifacts = sorted(
        (
            artifact
            for artifact in call.store.state.artifacts.values()
            if artifact.run_id == run.id and name in (None, artifact.name)
        ),
        key=lambda artifact: artifact.id,
    )
    page, per_page = page_params(call.request)
    chosen = artifacts[(page - 1) * per_page : page * per_page]
    body = {
        "total_count": len(artifacts),
        "artifacts": [payloads.artifact(call.base, repo, item) for item in chosen],
    }
    headers = link_header(
        call.request, call.base, page=page, per_page=per_page, total=len(artifacts)
    )
    return json_response(call.request, body, headers=headers)


def _artifact_of(call: Call, repo: Repo) -> Artifact:
    artifact = call.store.state.artifacts.get(call.int_param("artifact_id"))
    if artifact is None or artifact.repo_id != repo.id:
        raise not_found()
    return artifact


async def get_artifact(call: Call) -> Response:
    repo = repo_of(call)
    return json_response(call.request, payloads.artifact(call.base, repo, _artifact_of(call, repo)))


def _artifact_subject(artifact_id: int) -> str:
    return f"artifact:{artifact_id}"


async def download_artifact(call: Call) -> Response:
    """302 to a short-lived signed storage URL, as GitHub redirects to blob storage."""
    repo = repo_of(call)
    artifact = _artifact_of(call, repo)
    if artifact.expired:
        raise GitHubError(410, "Artifact has expired")
    location = signed_url(
        call.emulator,
        f"{call.base}/_storage/artifacts/{artifact.id}",
        _artifact_subject(artifact.id),
        expiry(call.emulator.config.artifact_url_ttl_seconds),
    )
    return RedirectResponse(location, status_code=302)


async def storage_download(call: Call) -> Response:
    """The storage host behind artifact redirects (`signed_urls`)."""
    artifact_id = call.int_param("artifact_id")
    check_signed(call, _artifact_subject(artifact_id))
    artifact = call.store.state.artifacts.get(artifact_id)
    if artifact is None:
        raise not_found()
    return FileResponse(
        call.store.artifact_path(artifact_id),
        media_type="application/zip",
        filename=f"{artifact.name}.zip",
    )


async def run_log(call: Call) -> Response:
    """The emulator's own view of a run's output (GitHub serves logs as a zip)."""
    run = call.store.state.runs.get(call.int_param("run_id"))
    path = call.store.log_path(run.id) if run is not None else None
    if path is None or not await asyncio.to_thread(path.exists):
        raise not_found()
    return FileResponse(path, media_type="text/plain; charset=utf-8")
