"""The GitHub REST client: typed calls over one shared `httpx.AsyncClient`.

It retries what is safe to retry, respects GitHub's primary and secondary rate limits
(never hammering an exhausted budget), bounds concurrency, spaces the content-creating
requests of each installation (or token), reuses polled resources with ETags, follows
`Link` pagination and streams artifacts and repository tarballs from the hosts GitHub
redirects to, without GitHub's credentials and under a byte cap (SPEC §6.1, §11.4).
"""

from __future__ import annotations

import asyncio
import base64
import random
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import anyio
import httpx
import structlog
from pydantic import BaseModel, ValidationError

from app.core.clock import Clock, SystemClock
from app.core.metrics import Metrics
from app.core.settings import GitHubSettings
from app.integrations.github.auth import AppAuth, GitHubAuth, build_auth, github_headers
from app.integrations.github.errors import (
    ArtifactTooLargeError,
    DownloadTooLargeError,
    GitHubError,
    GitHubNotFoundError,
    GitHubRateLimitedError,
    GitHubUnavailableError,
    GitHubValidationFailedError,
    TarballTooLargeError,
    error_for_response,
    response_message,
)
from app.integrations.github.schemas import (
    Artifact,
    Branch,
    CollaboratorInvitation,
    Commit,
    Comparison,
    DispatchResult,
    FileCommit,
    FileContent,
    Installation,
    Repository,
    User,
    WorkflowRun,
)

log = structlog.get_logger(__name__)

Model = TypeVar("Model", bound=BaseModel)
Sleep = Callable[[float], Awaitable[None]]
Authorization = Callable[[], Awaitable[str]]

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
# Failures that happen before the request leaves: retrying cannot repeat an action.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_BACKOFF_BASE_SECONDS = 0.5
_BACKOFF_CAP_SECONDS = 8.0
_SECONDARY_MIN_WAIT_SECONDS = 60.0
# Polled runs are few at a time; the bound only keeps a long-lived process from growing.
_ETAG_CACHE_SIZE = 1024
_PER_PAGE = 100
_ARTIFACT_PAGES = 10
_DOWNLOAD_CHUNK_BYTES = 64 * 1024
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")


@dataclass(frozen=True)
class _RateLimit:
    kind: Literal["primary", "secondary"]
    wait: float
    # Set when the wait runs until the budget's reset (epoch seconds).
    reset: int | None = None


@dataclass
class _CallState:
    """What one logical call has been through, across its attempts."""

    method: str
    path: str
    sends: int = 0
    failures: int = 0
    secondary_hits: int = 0
    rate_limit_waited: float = 0.0
    reauthenticated: bool = False
    # Paced: GitHub's secondary limits on content creation apply (see `_pace`).
    creates_content: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class _CachedBody:
    etag: str
    body: Any


@dataclass(frozen=True)
class _Download:
    """What a redirected download fetches, for its cap and its messages."""

    what: str  # "artifact", "tarball of owner/repo at ref"
    storage: str  # the host GitHub redirects to, as messages name it
    max_bytes: int
    too_large: type[DownloadTooLargeError]


class GitHubClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: GitHubSettings,
        auth: GitHubAuth,
        metrics: Metrics,
        *,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        clock: Clock | None = None,
    ) -> None:
        self._http = http
        self._settings = settings
        self._auth = auth
        self._metrics = metrics
        self._sleep = sleep
        self._monotonic = monotonic
        self._jitter = jitter
        self._clock = clock or SystemClock()
        self._base = settings.api_base.rstrip("/")
        self._origin = httpx.URL(self._base).copy_with(path="/", query=None)
        self._semaphore = asyncio.Semaphore(settings.max_concurrent_requests)
        # Per credential (an installation's or a token's): the earliest monotonic time its
        # next content-creating request may go.
        self._next_content_slot: dict[Authorization, float] = {}
        # Epoch second at which an exhausted primary budget comes back.
        self._budget_reset_at: int | None = None
        self._etags: OrderedDict[str, _CachedBody] = OrderedDict()

    # Repositories and content

    async def generate_repository(
        self,
        template_full_name: str,
        *,
        owner: str,
        name: str,
        description: str | None = None,
        private: bool = True,
    ) -> Repository:
        body: dict[str, Any] = {
            "owner": owner,
            "name": name,
            "private": private,
            "include_all_branches": False,
        }
        if description is not None:
            body["description"] = description
        path = f"{_repo(template_full_name)}/generate"
        created = await self._json("POST", path, json=body, creates_content=True)
        return _parse(Repository, created, path)

    async def get_repository(self, full_name: str) -> Repository:
        return await self._get_model(Repository, _repo(full_name))

    async def create_tag(self, full_name: str, tag: str, sha: str) -> None:
        """A lightweight tag: a ref that pins a commit, e.g. for a run at exactly it."""
        body = {"ref": f"refs/tags/{tag}", "sha": sha}
        await self._json("POST", f"{_repo(full_name)}/git/refs", json=body, creates_content=True)

    async def archive_repository(self, full_name: str) -> Repository:
        path = _repo(full_name)
        body = await self._json("PATCH", path, json={"archived": True})
        return _parse(Repository, body, path)

    async def delete_repository(self, full_name: str) -> None:
        await self._request("DELETE", _repo(full_name))

    async def get_branch(self, full_name: str, branch: str) -> Branch:
        """A conditional GET: an unchanged branch costs no rate limit (304)."""
        path = f"{_repo(full_name)}/branches/{_segments(branch)}"
        return _parse(Branch, await self._get_conditional(path), path)

    async def list_commits(
        self,
        full_name: str,
        *,
        sha: str | None = None,
        path: str | None = None,
        per_page: int = _PER_PAGE,
        max_pages: int = 10,
    ) -> list[Commit]:
        commits_path = f"{_repo(full_name)}/commits"
        params = _params(sha=sha, path=path, per_page=per_page)
        try:
            items = await self._paginate(commits_path, params, max_pages)
        except GitHubError as exc:
            # GitHub answers 409 for a repository without any commit.
            if exc.github_status == 409:
                return []
            raise
        return [_parse(Commit, item, commits_path) for item in items]

    async def get_file(self, full_name: str, path: str, *, ref: str | None = None) -> FileContent:
        return await self._get_model(
            FileContent, f"{_repo(full_name)}/contents/{_segments(path)}", _params(ref=ref)
        )

    async def find_file(
        self, full_name: str, path: str, *, ref: str | None = None
    ) -> FileContent | None:
        """The file at `path`, or None when nothing is there or it is a directory (GitHub
        answers a directory with the list of its entries)."""
        url_path = f"{_repo(full_name)}/contents/{_segments(path)}"
        try:
            body = await self._json("GET", url_path, params=_params(ref=ref))
        except GitHubNotFoundError:
            return None
        if isinstance(body, list):
            return None
        return _parse(FileContent, body, url_path)

    async def put_file(
        self,
        full_name: str,
        path: str,
        *,
        message: str,
        content: bytes,
        branch: str | None = None,
        sha: str | None = None,
    ) -> FileCommit:
        body = {"message": message, "content": base64.b64encode(content).decode()}
        body |= _params(branch=branch, sha=sha)
        url_path = f"{_repo(full_name)}/contents/{_segments(path)}"
        committed = await self._json("PUT", url_path, json=body, creates_content=True)
        return _parse(FileCommit, committed, url_path)

    # People

    async def get_user(self, login: str) -> User:
        return await self._get_model(User, f"/users/{_segment(login)}")

    async def add_collaborator(
        self, full_name: str, login: str, *, permission: str = "push"
    ) -> CollaboratorInvitation | None:
        """The invitation, or None when the user already is a collaborator (204)."""
        path = f"{_repo(full_name)}/collaborators/{_segment(login)}"
        # An invitation: content, with a notification to the invitee.
        response = await self._request(
            "PUT", path, json={"permission": permission}, creates_content=True
        )
        if response.status_code == 204:
            return None
        return _parse(CollaboratorInvitation, _body(response, path), path)

    async def remove_collaborator(self, full_name: str, login: str) -> None:
        await self._request("DELETE", f"{_repo(full_name)}/collaborators/{_segment(login)}")

    # Actions

    async def dispatch_workflow(
        self,
        full_name: str,
        workflow_file: str,
        *,
        ref: str,
        inputs: dict[str, str],
        return_run_details: bool = True,
    ) -> DispatchResult:
        """Start a run; the result has no run id when the server does not return one."""
        path = f"{_repo(full_name)}/actions/workflows/{_segment(workflow_file)}/dispatches"
        body: dict[str, Any] = {"ref": ref, "inputs": inputs}
        if return_run_details:
            body["return_run_details"] = True
        try:
            response = await self._request("POST", path, json=body)
        except GitHubValidationFailedError as exc:
            # Older servers (GHES) reject the field; callers then find the run by listing.
            if not (return_run_details and exc.mentions("return_run_details")):
                raise
            return await self.dispatch_workflow(
                full_name, workflow_file, ref=ref, inputs=inputs, return_run_details=False
            )
        if response.status_code == 204:
            return DispatchResult()
        return _parse(DispatchResult, _body(response, path), path)

    async def list_workflow_runs(
        self,
        full_name: str,
        workflow_file: str,
        *,
        branch: str | None = None,
        event: str | None = None,
        created: str | None = None,
        head_sha: str | None = None,
        per_page: int = _PER_PAGE,
    ) -> list[WorkflowRun]:
        """The first page of runs, newest first (`created` uses GitHub's search syntax)."""
        path = f"{_repo(full_name)}/actions/workflows/{_segment(workflow_file)}/runs"
        params = _params(
            branch=branch, event=event, created=created, head_sha=head_sha, per_page=per_page
        )
        body = await self._json("GET", path, params=params)
        return [_parse(WorkflowRun, item, path) for item in _items(body, "workflow_runs", path)]

    async def get_workflow_run(self, full_name: str, run_id: int) -> WorkflowRun:
        """A conditional GET: an unchanged run costs no rate limit (304)."""
        path = f"{_repo(full_name)}/actions/runs/{run_id}"
        return _parse(WorkflowRun, await self._get_conditional(path), path)

    async def list_run_artifacts(self, full_name: str, run_id: int) -> list[Artifact]:
        path = f"{_repo(full_name)}/actions/runs/{run_id}/artifacts"
        items = await self._paginate(
            path, {"per_page": _PER_PAGE}, _ARTIFACT_PAGES, items_key="artifacts"
        )
        return [_parse(Artifact, item, path) for item in items]

    async def download_artifact(self, full_name: str, artifact_id: int, destination: Path) -> int:
        """Stream the artifact's zip to `destination`; returns its size in bytes."""
        path = f"{_repo(full_name)}/actions/artifacts/{artifact_id}/zip"
        try:
            response = await self._request("GET", path, follow_redirects=False)
        except GitHubNotFoundError as exc:
            if exc.github_status != 410:
                raise
            raise GitHubNotFoundError(
                f"Artifact {artifact_id} of {full_name} has expired", github_status=410
            ) from exc
        download = _Download(
            "artifact", "artifact storage", self._settings.artifact_max_bytes, ArtifactTooLargeError
        )
        return await self._download(_location(response, path), destination, download)

    async def download_tarball(self, full_name: str, ref: str, destination: Path) -> int:
        """Stream the repository's tar.gz at `ref` (a branch, tag or commit sha) to
        `destination`; returns its size in bytes.

        GitHub answers 302 to a short-lived codeload URL, fetched without GitHub's token.
        Raises `GitHubNotFoundError` for an unknown repository or ref, `TarballTooLargeError`
        past `tarball_max_bytes` (nothing is left at `destination` then), and
        `GitHubUnavailableError` when the codeload host fails."""
        path = f"{_repo(full_name)}/tarball/{_segments(ref)}"
        response = await self._request("GET", path, follow_redirects=False)
        download = _Download(
            f"tarball of {full_name} at {ref}",
            "tarball storage (codeload)",
            self._settings.tarball_max_bytes,
            TarballTooLargeError,
        )
        return await self._download(_location(response, path), destination, download)

    # Comparisons and installations

    async def compare(
        self, full_name: str, base: str, head: str, *, max_pages: int = 5
    ) -> Comparison:
        """`files` come from the first page (GitHub caps them at 300); commits from all."""
        path = f"{_repo(full_name)}/compare/{_segments(base)}...{_segments(head)}"
        first: dict[str, Any] | None = None
        commits: list[Any] = []
        async for body in self._pages(path, {"per_page": _PER_PAGE}, max_pages):
            if not isinstance(body, dict):
                raise GitHubError(f"GitHub's answer to GET {path} is not an object")
            if first is None:
                first = body
            commits.extend(body.get("commits") or [])
        return _parse(Comparison, {**(first or {}), "commits": commits}, path)

    async def get_repo_installation(self, full_name: str) -> Installation:
        path = f"{_repo(full_name)}/installation"
        body = await self._json("GET", path, authorization=self._app_authorization)
        return _parse(Installation, body, path)

    # Requests

    async def _get_model(
        self, model: type[Model], path: str, params: dict[str, Any] | None = None
    ) -> Model:
        return _parse(model, await self._json("GET", path, params=params), path)

    async def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        authorization: Authorization | None = None,
        creates_content: bool = False,
    ) -> Any:
        response = await self._request(
            method,
            path,
            params=params,
            json=json,
            authorization=authorization,
            creates_content=creates_content,
        )
        return _body(response, path)

    async def _get_conditional(self, path: str) -> Any:
        cached = self._etags.get(path)
        headers = {"If-None-Match": cached.etag} if cached else None
        response = await self._request("GET", path, headers=headers)
        if response.status_code == 304 and cached is not None:
            self._metrics.github_not_modified.inc()
            self._etags.move_to_end(path)
            return cached.body
        body = _body(response, path)
        etag = response.headers.get("ETag")
        if etag:
            self._etags[path] = _CachedBody(etag, body)
            self._etags.move_to_end(path)
            if len(self._etags) > _ETAG_CACHE_SIZE:
                self._etags.popitem(last=False)
        return body

    async def _paginate(
        self,
        path: str,
        params: dict[str, Any],
        max_pages: int,
        *,
        items_key: str | None = None,
    ) -> list[Any]:
        items: list[Any] = []
        async for body in self._pages(path, params, max_pages):
            items.extend(_items(body, items_key, path))
        return items

    async def _pages(self, path: str, params: dict[str, Any], max_pages: int) -> AsyncIterator[Any]:
        target: str | None = path
        page_params: dict[str, Any] | None = params
        for _ in range(max_pages):
            if target is None:
                return
            response = await self._request("GET", target, params=page_params)
            yield _body(response, path)
            # The next link carries every query parameter itself.
            target, page_params = self._next_page(response), None

    def _next_page(self, response: httpx.Response) -> str | None:
        url = next_link(response.headers.get("Link"))
        if url is None:
            return None
        if httpx.URL(url).copy_with(path="/", query=None) != self._origin:
            # Our token goes with every request; never to a host other than the API's.
            raise GitHubError("GitHub's next page link points to another host")
        return url

    async def _request(
        self,
        method: str,
        target: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        authorization: Authorization | None = None,
        follow_redirects: bool = True,
        creates_content: bool = False,
    ) -> httpx.Response:
        """Send until GitHub answers usefully; `target` is a path or a next-page URL.

        Returns any answer below 400 (so redirects and 304s reach the caller); raises the
        typed error otherwise.
        """
        url = target if target.startswith(("http://", "https://")) else self._base + target
        state = _CallState(method, httpx.URL(url).path, creates_content=creates_content)
        while True:
            await self._respect_budget(state)
            try:
                response = await self._send(
                    state,
                    url,
                    params=params,
                    json=json,
                    headers=headers,
                    authorization=authorization or self._auth.authorization,
                    follow_redirects=follow_redirects,
                )
            except httpx.TransportError as exc:
                await self._retry_transport_error(state, exc)
                continue
            if response.status_code == 401 and not state.reauthenticated:
                # Installation tokens expire; one fresh credential settles whether it is ours.
                state.reauthenticated = True
                self._auth.invalidate()
                _log_retry(state, "unauthorized", 0.0)
                continue
            limit = self._rate_limit(response, state)
            if limit is not None:
                await self._wait_for_rate_limit(state, limit, response.status_code)
                continue
            if self._should_retry_status(state, response.status_code):
                await self._backoff(state, f"status {response.status_code}")
                continue
            if response.status_code >= 400:
                raise error_for_response(response, state.label)
            return response

    async def _send(
        self,
        state: _CallState,
        url: str,
        *,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
        headers: dict[str, str] | None,
        authorization: Authorization,
        follow_redirects: bool,
    ) -> httpx.Response:
        await self._pace(state, authorization)
        request_headers = github_headers(await authorization()) | (headers or {})
        if state.sends:
            self._metrics.github_retries.inc()
        state.sends += 1
        async with self._semaphore:
            started = self._monotonic()
            try:
                response = await self._http.request(
                    state.method,
                    url,
                    params=params,
                    json=json,
                    headers=request_headers,
                    timeout=self._settings.request_timeout_seconds,
                    follow_redirects=follow_redirects,
                )
            except httpx.TransportError:
                self._metrics.github_requests.labels(state.method, "transport_error").inc()
                raise
        self._metrics.github_requests.labels(state.method, str(response.status_code)).inc()
        self._record_rate_limit(response)
        log.debug(
            "github.request",
            method=state.method,
            path=state.path,
            status=response.status_code,
            duration_ms=round((self._monotonic() - started) * 1000, 1),
        )
        return response

    async def _app_authorization(self) -> str:
        # The installation lookup takes the App's own JWT; a plain token is sent as it is.
        if isinstance(self._auth, AppAuth):
            return f"Bearer {self._auth.app_jwt()}"
        return await self._auth.authorization()

    # Retries, rate limits, pacing

    def _should_retry_status(self, state: _CallState, status: int) -> bool:
        return (
            status >= 500
            and state.method in _IDEMPOTENT
            and state.failures < self._settings.max_retries
        )

    async def _retry_transport_error(self, state: _CallState, exc: httpx.TransportError) -> None:
        retryable = isinstance(exc, _NOT_SENT) or (
            state.method in _IDEMPOTENT and isinstance(exc, _TRANSIENT)
        )
        if not retryable or state.failures >= self._settings.max_retries:
            raise GitHubUnavailableError(
                f"GitHub could not be reached for {state.label} ({type(exc).__name__})"
            ) from exc
        await self._backoff(state, type(exc).__name__)

    async def _backoff(self, state: _CallState, reason: str) -> None:
        ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**state.failures)
        wait = ceiling / 2 + ceiling / 2 * self._jitter()
        state.failures += 1
        _log_retry(state, reason, wait)
        await self._sleep(wait)

    def _rate_limit(self, response: httpx.Response, state: _CallState) -> _RateLimit | None:
        status = response.status_code
        if status not in (403, 429):
            return None
        remaining = _int_header(response, "x-ratelimit-remaining")
        reset = _int_header(response, "x-ratelimit-reset")
        retry_after = _int_header(response, "retry-after")
        message = (response_message(response) or "").lower()
        secondary = "secondary rate limit" in message or "abuse" in message
        if secondary or (remaining != 0 and (status == 429 or retry_after is not None)):
            state.secondary_hits += 1
            if retry_after is not None:
                return _RateLimit("secondary", float(retry_after))
            if remaining == 0 and reset is not None:
                return _RateLimit("secondary", self._until(reset), reset)
            backoff = 2 ** (state.secondary_hits - 1)
            return _RateLimit("secondary", _SECONDARY_MIN_WAIT_SECONDS * backoff)
        if remaining == 0:
            if reset is None:
                return _RateLimit("primary", _SECONDARY_MIN_WAIT_SECONDS)
            return _RateLimit("primary", self._until(reset), reset)
        return None

    async def _wait_for_rate_limit(self, state: _CallState, limit: _RateLimit, status: int) -> None:
        self._metrics.github_rate_limit_waits.labels(limit.kind).inc()
        log.warning(
            "github.rate_limited",
            kind=limit.kind,
            wait=round(limit.wait, 3),
            method=state.method,
            path=state.path,
        )
        await self._wait_or_raise(state, limit, github_status=status)
        # This wait already ran to the budget's reset; a clock a hair behind must not make
        # the retry wait for (and be charged) the same budget again.
        if limit.reset is not None and limit.reset == self._budget_reset_at:
            self._budget_reset_at = None

    async def _respect_budget(self, state: _CallState) -> None:
        """Before sending: wait out (or refuse to wait out) a known exhausted budget."""
        if self._budget_reset_at is None:
            return
        wait = self._budget_reset_at - self._now()
        if wait <= 0:
            self._budget_reset_at = None
            return
        self._metrics.github_rate_limit_waits.labels("budget").inc()
        log.info(
            "github.rate_limited",
            kind="budget",
            wait=round(wait, 3),
            method=state.method,
            path=state.path,
        )
        await self._wait_or_raise(state, _RateLimit("primary", wait), github_status=None)

    async def _wait_or_raise(
        self, state: _CallState, limit: _RateLimit, *, github_status: int | None
    ) -> None:
        if state.rate_limit_waited + limit.wait > self._settings.rate_limit_max_wait_seconds:
            raise GitHubRateLimitedError(
                f"GitHub's {limit.kind} rate limit holds {state.label} for {limit.wait:.0f} s",
                retry_after_seconds=limit.wait,
                github_status=github_status,
            )
        state.rate_limit_waited += limit.wait
        await self._sleep(limit.wait)

    def _record_rate_limit(self, response: httpx.Response) -> None:
        remaining = _int_header(response, "x-ratelimit-remaining")
        reset = _int_header(response, "x-ratelimit-reset")
        if remaining is not None:
            self._metrics.github_rate_limit_remaining.set(remaining)
        if reset is not None:
            self._metrics.github_rate_limit_reset.set(reset)
        if remaining == 0 and reset is not None and reset > self._now():
            self._budget_reset_at = reset

    async def _pace(self, state: _CallState, credential: Authorization) -> None:
        """Space the content-creating requests of one installation (or token) by the
        interval GitHub asks for between them: its secondary limits (80 content-creating
        requests a minute, 500 an hour) count per installation. Other requests are not
        held up: reads; workflow dispatches, archiving and removals, which create no
        content (a secondary-limit answer to them is still waited out, `_rate_limit`)."""
        if not state.creates_content:
            return
        now = self._monotonic()
        # Reserved before sleeping (no await in between): concurrent callers queue up.
        slot = max(now, self._next_content_slot.get(credential, now))
        self._next_content_slot[credential] = slot + self._settings.mutation_interval_seconds
        if slot > now:
            self._metrics.github_pacing_wait_seconds.inc(slot - now)
            await self._sleep(slot - now)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _until(self, reset: int) -> float:
        wait = reset - self._now()
        # A reset already past (clock skew) still gets a moment before the retry.
        return wait if wait > 0 else 1.0

    # Storage downloads (artifacts, tarballs)

    async def _download(self, location: str, destination: Path, download: _Download) -> int:
        # A new request, not a followed redirect: the URL is pre-signed for the storage host,
        # and GitHub's token (or any default header of the shared client) must not go there.
        request = self._http.build_request(
            "GET", location, timeout=self._settings.request_timeout_seconds
        )
        request.headers.pop("Authorization", None)
        storage_path = request.url.path
        started = self._monotonic()
        try:
            response = await self._http.send(request, stream=True, follow_redirects=True)
            try:
                size = await _save(response, destination, download)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise GitHubUnavailableError(
                f"The {download.storage} could not be reached ({type(exc).__name__})"
            ) from exc
        log.debug(
            "github.download.done",
            what=download.what,
            path=storage_path,
            bytes=size,
            duration_ms=round((self._monotonic() - started) * 1000, 1),
        )
        return size


def build_github_client(
    http: httpx.AsyncClient, settings: GitHubSettings, metrics: Metrics
) -> GitHubClient | None:
    """A client for the configured GitHub, or None when no credentials are configured."""
    auth = build_auth(http, settings)
    return GitHubClient(http, settings, auth, metrics) if auth is not None else None


def next_link(header: str | None) -> str | None:
    """The `rel="next"` URL of a `Link` header (RFC 8288), if any."""
    for match in _LINK.finditer(header or ""):
        url, raw_params = match.groups()
        for param in raw_params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return url
    return None


def _repo(full_name: str) -> str:
    return f"/repos/{quote(full_name, safe='/')}"


def _segment(value: str) -> str:
    return quote(value, safe="")


def _segments(value: str) -> str:
    """A value GitHub reads across path segments (file paths, branch names)."""
    return quote(value, safe="/")


def _params(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _body(response: httpx.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(
            f"GitHub answered {response.status_code} to {path} without JSON",
            github_status=response.status_code,
        ) from None


def _items(body: Any, key: str | None, path: str) -> list[Any]:
    items = body.get(key) if key is not None and isinstance(body, dict) else body
    if not isinstance(items, list):
        raise GitHubError(f"GitHub's answer to {path} is not a list")
    return items


def _parse(model: type[Model], data: Any, path: str) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise GitHubError(f"GitHub's answer to {path} is not a {model.__name__}") from exc


def _location(response: httpx.Response, path: str) -> str:
    """Where GitHub's 302 to a storage host points."""
    location: str | None = response.headers.get("Location")
    if not response.is_redirect or not location:
        raise GitHubError(
            f"GitHub answered {response.status_code} to GET {path} without a download URL",
            github_status=response.status_code,
        )
    return location


async def _save(response: httpx.Response, destination: Path, download: _Download) -> int:
    """Stream the storage host's answer to `destination`, capped both by the length it
    declares and by the bytes that actually arrive; nothing is kept on failure."""
    if not response.is_success:
        raise GitHubUnavailableError(
            f"The {download.storage} answered {response.status_code}",
            github_status=response.status_code,
        )
    limit = download.max_bytes
    declared = _int_header(response, "Content-Length")
    if declared is not None and declared > limit:
        raise _too_large(download)
    written = 0
    try:
        async with await anyio.open_file(destination, "wb") as file:
            async for chunk in response.aiter_bytes(_DOWNLOAD_CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    raise _too_large(download)
                await file.write(chunk)
    except BaseException:
        await anyio.Path(destination).unlink(missing_ok=True)
        raise
    return written


def _too_large(download: _Download) -> DownloadTooLargeError:
    return download.too_large(
        f"The {download.what} is larger than the {download.max_bytes} byte limit"
    )


def _log_retry(state: _CallState, reason: str, wait: float) -> None:
    log.info(
        "github.request.retry",
        method=state.method,
        path=state.path,
        reason=reason,
        attempt=state.sends,
        wait=round(wait, 3),
    )
