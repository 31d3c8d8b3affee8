"""Who may do what: users, collaborators and invitations, and the GitHub App's
installation and installation tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from starlette.responses import Response

from app.github_emulator import payloads
from app.github_emulator.emulator import Call
from app.github_emulator.repos_api import repo_json, repo_of
from app.github_emulator.responses import (
    RequestBody,
    empty_response,
    json_response,
    link_header,
    not_found,
    page_params,
    read_body,
    validation_failed,
)
from app.github_emulator.storage import (
    ROLE_OF_PERMISSION,
    VALID_LOGIN,
    Account,
    Invitation,
    Repo,
    utcnow,
)
from app.github_emulator.tokens import (
    NOT_ACCESSIBLE,
    ScopeError,
    TokenScope,
    requested_permissions,
)


class CollaboratorBody(RequestBody):
    permission: Literal["pull", "triage", "push", "maintain", "admin"] = "push"


class AccessTokenBody(RequestBody):
    repositories: list[str] | None = None
    repository_ids: list[int] | None = None
    permissions: dict[str, str] | None = None


def _user_account(call: Call, login: str) -> Account:
    """Any valid login names an existing user, except `ghost-…` logins, which never do."""
    if not VALID_LOGIN.fullmatch(login) or login.lower().startswith("ghost-"):
        raise not_found()
    return call.store.account(login)


async def get_user(call: Call) -> Response:
    account = _user_account(call, call.param("username"))
    profile = payloads.user_profile(call.base, account, call.emulator.started_at)
    return json_response(call.request, profile)


def _recent_invitations(repo: Repo) -> list[datetime]:
    day_ago = utcnow() - timedelta(days=1)
    return [moment for moment in repo.invitation_times if moment > day_ago]


async def add_collaborator(call: Call) -> Response:
    repo = repo_of(call)
    body = await read_body(call.request, CollaboratorBody)
    invitee = _user_account(call, call.param("username"))
    role = ROLE_OF_PERMISSION[body.permission]
    key = invitee.login.lower()
    pending = next((item for item in repo.invitations if item.login.lower() == key), None)
    if key in repo.collaborators or pending is not None:
        # Already in (or invited): GitHub changes the permission and answers 204.
        if pending is not None:
            pending.role = role
        else:
            repo.collaborators[key] = role
        await call.store.save()
        return empty_response()
    repo.invitation_times = _recent_invitations(repo)
    limit = call.emulator.config.invitations_per_day
    if len(repo.invitation_times) >= limit:
        raise validation_failed(
            error={
                "resource": "Repository",
                "code": "custom",
                "field": "invitee",
                "message": f"You have exceeded the maximum number of invitations ({limit}) for "
                "this repository in a 24 hour period.",
            }
        )
    invitation = Invitation(
        id=call.store.next_id("invitation"),
        login=invitee.login,
        role=role,
        inviter=call.identity.login,
        created_at=utcnow(),
    )
    repo.invitation_times.append(invitation.created_at)
    if call.emulator.config.auto_accept_invitations:
        repo.collaborators[key] = role
    else:
        repo.invitations.append(invitation)
    await call.store.save()
    return json_response(call.request, _invitation_json(call, repo, invitation), 201)


def _invitation_json(call: Call, repo: Repo, invitation: Invitation) -> dict[str, Any]:
    store = call.store
    return payloads.invitation(
        call.base,
        repo,
        store.account(repo.owner),
        invitation,
        store.account(invitation.login),
        store.account(invitation.inviter),
    )


async def remove_collaborator(call: Call) -> Response:
    repo = repo_of(call)
    key = call.param("username").lower()
    repo.collaborators.pop(key, None)
    # Removing a collaborator also cancels their pending invitations.
    repo.invitations = [item for item in repo.invitations if item.login.lower() != key]
    await call.store.save()
    return empty_response()


async def collaborator_permission(call: Call) -> Response:
    repo = repo_of(call)
    account = _user_account(call, call.param("username"))
    role = call.emulator.role(repo, account.login)
    return json_response(
        call.request,
        {
            "permission": payloads.LEGACY_PERMISSION.get(role or "", "none"),
            "role_name": role or "none",
            "user": payloads.collaborator(call.base, account, role),
        },
    )


async def list_collaborators(call: Call) -> Response:
    repo = repo_of(call)
    people = sorted(repo.collaborators.items())
    page, per_page = page_params(call.request)
    chosen = people[(page - 1) * per_page : page * per_page]
    return json_response(
        call.request,
        [
            payloads.collaborator(call.base, call.store.account(login), role)
            for login, role in chosen
        ],
        headers=link_header(
            call.request, call.base, page=page, per_page=per_page, total=len(people)
        ),
    )


async def list_invitations(call: Call) -> Response:
    repo = repo_of(call)
    return json_response(
        call.request, [_invitation_json(call, repo, item) for item in repo.invitations]
    )


async def accept_invitation(call: Call) -> Response:
    wanted = call.param("invitation_id")
    for repo in call.store.state.repos.values():
        for invitation in repo.invitations:
            if str(invitation.id) == wanted:
                repo.invitations.remove(invitation)
                repo.collaborators[invitation.login.lower()] = invitation.role
                await call.store.save()
                return empty_response()
    raise not_found()


async def repo_installation(call: Call) -> Response:
    repo = repo_of(call)
    config = call.emulator.config
    installation = payloads.installation(
        call.base,
        config.installation_id,
        config.app_id,
        call.store.account(repo.owner),
        call.emulator.started_at,
    )
    return json_response(call.request, installation)


def _selected_repositories(call: Call, body: AccessTokenBody) -> list[Repo]:
    """The repositories a token request names, in order, once each. The emulator's one
    installation spans every account, so a name must be that of exactly one repository."""
    repos = call.store.state.repos.values()
    selected: dict[int, Repo] = {}
    for name in body.repositories or []:
        matches = [repo for repo in repos if repo.name.lower() == name.lower()]
        if len(matches) != 1:
            raise validation_failed(NOT_ACCESSIBLE)
        selected.setdefault(matches[0].id, matches[0])
    for repo_id in body.repository_ids or []:
        repo = call.store.repo_by_id(repo_id)
        if repo is None:
            raise validation_failed(NOT_ACCESSIBLE)
        selected.setdefault(repo.id, repo)
    return list(selected.values())


async def create_access_token(call: Call) -> Response:
    """An installation token, limited to the repositories and permissions asked for (an
    empty list or map asks for no limit, as on GitHub)."""
    if call.param("installation_id") != str(call.emulator.config.installation_id):
        raise not_found()
    body = await read_body(call.request, AccessTokenBody)
    try:
        permissions = requested_permissions(body.permissions)
    except ScopeError as exc:
        raise validation_failed(str(exc)) from exc
    selected = _selected_repositories(call, body)
    scoped = bool(selected) or bool(body.permissions)
    scope = TokenScope(
        permissions=permissions,
        repository_ids=frozenset(repo.id for repo in selected) if selected else None,
    )
    token, expires_at = call.emulator.installation_tokens.mint(scope if scoped else None)
    result: dict[str, Any] = {
        "token": token,
        "expires_at": payloads.iso(expires_at),
        "permissions": permissions,
        "repository_selection": "selected" if selected else "all",
    }
    if selected:
        result["repositories"] = [repo_json(call, repo) for repo in selected]
    return json_response(call.request, result, 201)


async def create_user_token(call: Call) -> Response:
    """POST /_emulator/users/{username}/tokens: a personal access token for a user, to use
    with git over HTTP (the emulator's stand-in for a token made in GitHub's settings)."""
    account = _user_account(call, call.param("username"))
    token = await call.emulator.mint_user_token(account.login)
    return json_response(call.request, {"login": account.login, "token": token}, 201)
