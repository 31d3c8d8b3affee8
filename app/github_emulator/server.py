"""The emulator's ASGI app: GitHub's routes, each wrapped with what every GitHub request
goes through (credentials, the hourly budget and its headers, injected faults, counting,
errors as GitHub-shaped JSON); then git over HTTP (`git_http`), which has credentials of
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
from app.github_emulator.emulator import Call, Emulator, Identity
from app.github_emulator.faults import ANONYMOUS_LIMIT, Quota, primary_limit_error
from app.github_emulator.responses import GitHubError

log = structlog.get_logger(__name__)

Handler = Callable[[Call], Awaitable[Response]]
# token: a configured or installation token; app: a GitHub App JWT; storage: the signed
# artifact host (no credentials); control: the emulator's own /_emulator routes.
Auth = Literal["token", "app", "storage", "control"]

_REPO = "/repos/{owner}/{repo}"
_ROUTES: tuple[tuple[str, str, Handler, Auth], ...] = (
    ("POST", f"{_REPO}/generate", repos_api.generate, "token"),
    ("GET", _REPO, repos_api.get_repo, "token"),
    ("PATCH", _REPO, repos_api.update_repo, "token"),
    ("DELETE", _REPO, repos_api.delete_repo, "token"),
    ("GET", f"{_REPO}/branches/{{branch:path}}", repos_api.get_branch, "token"),
    ("GET", f"{_REPO}/commits", repos_api.list_commits, "token"),
    ("GET", f"{_REPO}/contents", repos_api.get_content, "token"),
    ("GET", f"{_REPO}/contents/{{path:path}}", repos_api.get_content, "token"),
    ("PUT", f"{_REPO}/contents/{{path:path}}", repos_api.put_content, "token"),
    ("GET", f"{_REPO}/compare/{{basehead:path}}", repos_api.compare, "token"),
    ("POST", f"{_REPO}/git/refs", repos_api.create_ref, "token"),
    ("GET", "/users/{username}", access_api.get_user, "token"),
    ("GET", f"{_REPO}/collaborators", access_api.list_collaborators, "token"),
    ("PUT", f"{_REPO}/collaborators/{{username}}", access_api.add_collaborator, "token"),
    ("DELETE", f"{_REPO}/collaborators/{{username}}", access_api.remove_collaborator, "token"),
    (
        "GET",
        f"{_REPO}/collaborators/{{username}}/permission",
        access_api.collaborator_permission,
        "token",
    ),
    ("GET", f"{_REPO}/invitations", access_api.list_invitations, "token"),
    (
        "PATCH",
        "/user/repository_invitations/{invitation_id}",
        access_api.accept_invitation,
        "token",
    ),
    ("GET", f"{_REPO}/installation", access_api.repo_installation, "app"),
    (
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        access_api.create_access_token,
        "app",
    ),
    ("GET", f"{_REPO}/actions/workflows/{{workflow_id}}", actions_api.get_workflow, "token"),
    (
        "POST",
        f"{_REPO}/actions/workflows/{{workflow_id}}/dispatches",
        actions_api.dispatch,
        "token",
    ),
    (
        "GET",
        f"{_REPO}/actions/workflows/{{workflow_id}}/runs",
        actions_api.list_workflow_runs,
        "token",
    ),
    ("GET", f"{_REPO}/actions/runs", actions_api.list_repo_runs, "token"),
    ("GET", f"{_REPO}/actions/runs/{{run_id}}", actions_api.get_run, "token"),
    (
        "GET",
        f"{_REPO}/actions/runs/{{run_id}}/artifacts",
        actions_api.list_run_artifacts,
        "token",
    ),
    ("GET", f"{_REPO}/actions/artifacts/{{artifact_id}}", actions_api.get_artifact, "token"),
    (
        "GET",
        f"{_REPO}/actions/artifacts/{{artifact_id}}/zip",
        actions_api.download_artifact,
        "token",
    ),
    ("GET", "/_storage/artifacts/{artifact_id}", actions_api.storage_download, "storage"),
    ("POST", "/_emulator/users/{username}/tokens", access_api.create_user_token, "token"),
    ("GET", "/_emulator/templates", control_api.templates, "control"),
    ("GET", "/_emulator/faults", control_api.get_faults, "control"),
    ("POST", "/_emulator/faults", control_api.set_faults, "control"),
    ("DELETE", "/_emulator/faults", control_api.clear_faults, "control"),
    ("GET", "/_emulator/stats", control_api.stats, "control"),
    ("GET", "/_emulator/runs/{run_id}/log", actions_api.run_log, "control"),
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


def _endpoint(
    emulator: Emulator, method: str, template: str, handler: Handler, auth: Auth
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
            if counted:
                fault = await emulator.faults.intercept(method, request.url.path, request_id)
                if fault is not None:
                    raise fault
            response = await handler(Call(request, emulator, identity, emulator.base_url(request)))
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
        Route(path, _endpoint(emulator, method, path, handler, auth), methods=[method])
        for method, path, handler, auth in _ROUTES
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
