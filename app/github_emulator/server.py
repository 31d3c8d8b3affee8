"""The emulator's ASGI app: GitHub's routes, each wrapped with what every GitHub request
goes through (credentials, the hourly budget and its headers, a scoped token's limits (each
route names the permission it needs), injected faults, counting, errors as GitHub-shaped
JSON); then git over HTTP (`git_http`), which has credentials of
its own.

It is a plain Starlette app, so nothing of it appears in Tenon's OpenAPI document.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.github_emulator import access_api, actions_api, control_api, git_http, repos_api
from app.github_emulator.config import EmulatorConfig
from app.github_emulator.emulator import Call, Emulator, RequestRecord
from app.github_emulator.faults import (
    ANONYMOUS_LIMIT,
    LostResponse,
    Quota,
    Verdict,
    primary_limit_error,
)
from app.github_emulator.responses import GitHubError
from app.github_emulator.tokens import Identity, Permission

log = structlog.get_logger(__name__)

Handler = Callable[[Call], Awaitable[Response]]
# token: a configured or installation token; app: a GitHub App JWT; storage: the signed
# artifact and codeload hosts (no credentials); control: the emulator's own /_emulator routes.
Auth = Literal["token", "app", "storage", "control"]

_REPO = "/repos/{owner}/{repo}"
_ACTIONS = f"{_REPO}/actions"
# (method, path, handler, auth, the permission a scoped installation token needs).
_ROUTES: tuple[tuple[str, str, Handler, Auth, str | None], ...] = (
    ("POST", f"{_REPO}/generate", repos_api.generate, "token", "administration:write"),
    ("GET", _REPO, repos_api.get_repo, "token", "metadata:read"),
    ("PATCH", _REPO, repos_api.update_repo, "token", "administration:write"),
    ("DELETE", _REPO, repos_api.delete_repo, "token", "administration:write"),
    ("GET", f"{_REPO}/branches/{{branch:path}}", repos_api.get_branch, "token", "contents:read"),
    ("GET", f"{_REPO}/commits", repos_api.list_commits, "token", "contents:read"),
    ("GET", f"{_REPO}/contents", repos_api.get_content, "token", "contents:read"),
    ("GET", f"{_REPO}/contents/{{path:path}}", repos_api.get_content, "token", "contents:read"),
    ("PUT", f"{_REPO}/contents/{{path:path}}", repos_api.put_content, "token", "contents:write"),
    ("GET", f"{_REPO}/compare/{{basehead:path}}", repos_api.compare, "token", "contents:read"),
    ("GET", f"{_REPO}/tarball", repos_api.tarball, "token", "contents:read"),
    ("GET", f"{_REPO}/tarball/{{ref:path}}", repos_api.tarball, "token", "contents:read"),
    ("POST", f"{_REPO}/git/refs", repos_api.create_ref, "token", "contents:write"),
    ("GET", "/users/{username}", access_api.get_user, "token", None),
    (
        "GET",
        f"{_REPO}/collaborators",
        access_api.list_collaborators,
        "token",
        "metadata:read",
    ),
    (
        "PUT",
        f"{_REPO}/collaborators/{{username}}",
        access_api.add_collaborator,
        "token",
        "administration:write",
    ),
    (
        "DELETE",
        f"{_REPO}/collaborators/{{username}}",
        access_api.remove_collaborator,
        "token",
        "administration:write",
    ),
    (
        "GET",
        f"{_REPO}/collaborators/{{username}}/permission",
        access_api.collaborator_permission,
        "token",
        "metadata:read",
    ),
    ("GET", f"{_REPO}/invitations", access_api.list_invitations, "token", "administration:read"),
    (
        "PATCH",
        "/user/repository_invitations/{invitation_id}",
        access_api.accept_invitation,
        "token",
        None,
    ),
    ("GET", f"{_REPO}/installation", access_api.repo_installation, "app", None),
    (
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        access_api.create_access_token,
        "app",
        None,
    ),
    (
        "GET",
        f"{_ACTIONS}/workflows/{{workflow_id}}",
        actions_api.get_workflow,
        "token",
        "actions:read",
    ),
    (
        "POST",
        f"{_ACTIONS}/workflows/{{workflow_id}}/dispatches",
        actions_api.dispatch,
        "token",
        "actions:write",
    ),
    (
        "GET",
        f"{_ACTIONS}/workflows/{{workflow_id}}/runs",
        actions_api.list_workflow_runs,
        "token",
        "actions:read",
    ),
    ("GET", f"{_ACTIONS}/runs", actions_api.list_repo_runs, "token", "actions:read"),
    ("GET", f"{_ACTIONS}/runs/{{run_id}}", actions_api.get_run, "token", "actions:read"),
    (
        "GET",
        f"{_ACTIONS}/runs/{{run_id}}/artifacts",
        actions_api.list_run_artifacts,
        "token",
        "actions:read",
    ),
    (
        "GET",
        f"{_ACTIONS}/artifacts/{{artifact_id}}",
        actions_api.get_artifact,
        "token",
        "actions:read",
    ),
    (
        "GET",
        f"{_ACTIONS}/artifacts/{{artifact_id}}/zip",
        actions_api.download_artifact,
        "token",
        "actions:read",
    ),
    ("GET", "/_storage/artifacts/{artifact_id}", actions_api.storage_download, "storage", None),
    (
        "GET",
        "/_codeload/{owner}/{repo}/legacy.tar.gz/{sha}",
        repos_api.codeload,
        "storage",
        None,
    ),
    (
        "POST",
        "/_emulator/users/{username}/tokens",
        access_api.create_user_token,
        "token",
        None,
    ),
    ("GET", "/_emulator/templates", control_api.templates, "control", None),
    ("GET", "/_emulator/faults", control_api.get_faults, "control", None),
    ("POST", "/_emulator/faults", control_api.set_faults, "control", None),
    ("DELETE", "/_emulator/faults", control_api.clear_faults, "control", None),
    ("GET", "/_emulator/stats", control_api.stats, "control", None),
    ("GET", "/_emulator/runs/{run_id}/log", actions_api.run_log, "control", None),
    (
        "PUT",
        "/_emulator/repos/{owner}/{repo}/secrets/{name}",
        control_api.put_secret,
        "control",
        None,
    ),
    (
        "DELETE",
        "/_emulator/repos/{owner}/{repo}/secrets/{name}",
        control_api.delete_secret,
        "control",
        None,
    ),
)
_CONVERTER = re.compile(r":\w+}")
_NOBODY = Identity("anonymous", "anonymous")


def _request_id() -> str:
    raw = uuid.uuid4().hex.upper()
    return f"{raw[:4]}:{raw[4:9]}:{raw[9:16]}:{raw[16:23]}:{raw[23:31]}"


def _identify(emulator: Emulator, request: Request, auth: Auth) -> tuple[Identity, Quota, bool]:
    """Who is calling, their quota, and whether it allowed this request; 401 for bad
    credentials."""
    authorization = request.headers.get("authorization")
    try:
        if auth == "app":
            identity = emulator.authenticate_app(authorization)
        else:
            identity = emulator.authenticate(authorization)
    except GitHubError as error:
        client = request.client.host if request.client else "unknown"
        _, quota = emulator.budget.take(f"anonymous:{client}", limit=ANONYMOUS_LIMIT)
        error.headers = quota.headers() | error.headers
        raise
    allowed, quota = emulator.budget.take(identity.budget_key)
    return identity, quota, allowed


def _enforce_scope(
    emulator: Emulator, request: Request, identity: Identity, need: Permission | None
) -> None:
    """A scoped installation token: 404 for a repository outside its scope (as GitHub hides
    private repositories), 403 for a permission it lacks."""
    scope = identity.scope
    if scope is None:
        return
    owner, name = request.path_params.get("owner"), request.path_params.get("repo")
    repo = emulator.store.repo(owner, name) if owner and name else None
    if repo is not None and not scope.covers(repo):
        raise GitHubError(404, "Not Found")
    if need is not None and not scope.grants(need):
        raise GitHubError(
            403,
            "Resource not accessible by integration",
            headers={"x-accepted-github-permissions": need.header},
        )


def _endpoint(
    emulator: Emulator,
    method: str,
    template: str,
    handler: Handler,
    auth: Auth,
    need: Permission | None,
) -> Callable[[Request], Awaitable[Response]]:
    route_key = f"{method} {_CONVERTER.sub('}', template)}"

    async def endpoint(request: Request) -> Response:
        request_id = _request_id()
        counted = auth != "control"
        if counted:
            emulator.requests[route_key] += 1
        quota: Quota | None = None
        try:
            identity = _NOBODY
            if auth in ("token", "app"):
                identity, quota, allowed = _identify(emulator, request, auth)
                if not allowed:
                    raise primary_limit_error(status=403, reset=quota.reset)
                _enforce_scope(emulator, request, identity, need)
            verdict = Verdict()
            if counted:
                verdict = await emulator.faults.intercept(method, request.url.path, request_id)
                if verdict.error is not None:
                    raise verdict.error
            response = await handler(Call(request, emulator, identity, emulator.base_url(request)))
            if verdict.lose_response:
                return LostResponse()
        except GitHubError as error:
            response = error.response()
        except Exception:
            log.exception("emulator.request.failed", route=route_key, request_id=request_id)
            response = GitHubError(500, "Server Error").response()
        if quota is not None:
            if response.status_code == 304:
                emulator.budget.refund(quota)
            for name, value in quota.headers().items():
                response.headers.setdefault(name, value)
        response.headers.setdefault("x-github-request-id", request_id)
        response.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        if counted:
            emulator.statuses[str(response.status_code)] += 1
            record = RequestRecord(
                route_key, request.url.path, identity.budget_key, response.status_code
            )
            for listener in emulator.request_listeners:
                listener(record)
        return response

    return endpoint


async def _not_found(request: Request, exc: Exception) -> Response:
    emulator: Emulator = request.app.state.emulator
    emulator.requests["unmatched"] += 1
    emulator.statuses["404"] += 1
    return GitHubError(404, "Not Found").response()


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("emulator.request.crashed", path=request.url.path, exc_info=exc)
    return GitHubError(500, "Server Error").response()


def create_emulator_app(config: EmulatorConfig) -> Starlette:
    """The emulator as an ASGI app; its lifespan loads the state and templates and runs the
    workflow workers. `app.state.emulator` is the running `Emulator`."""
    emulator = Emulator(config)
    routes = [
        Route(
            path,
            _endpoint(
                emulator,
                method,
                path,
                handler,
                auth,
                Permission.parse(need) if need is not None else None,
            ),
            methods=[method],
        )
        for method, path, handler, auth, need in _ROUTES
    ]
    # After the API's routes: `/{owner}/{repo}/...` must not shadow them.
    routes += git_http.routes()
    app = Starlette(
        routes=routes,
        lifespan=emulator.lifespan,
        exception_handlers={404: _not_found, 405: _not_found, Exception: _server_error},
    )
    app.state.emulator = emulator
    return app
