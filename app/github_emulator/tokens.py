"""Installation tokens and their scope: who a token is, which repositories it reaches and
with which permissions. One registry serves the API, git over HTTP and the runner (a run's
`github.token`, tokens minted by the emulated `actions/create-github-app-token`).

A token minted without `repositories`, `repository_ids` or `permissions`, like the
configured tokens, is unscoped: it reaches what the emulator's actor reaches, as before
scopes existed. A scoped token reaches only its repositories (others are 404, as GitHub
hides private repositories) and only with its permissions (403 otherwise).

Tokens live in memory: they expire within the hour, and a restart ends every run.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from app.github_emulator.payloads import INSTALLATION_PERMISSIONS
from app.github_emulator.storage import Repo, utcnow

INSTALLATION_TOKEN_LIFETIME = timedelta(hours=1)
_LEVELS = {"read": 1, "write": 2}
_PUSH_ROLES = frozenset({"write", "maintain", "admin"})
NOT_GRANTED = "The permissions requested are not granted to this installation."
NOT_ACCESSIBLE = (
    "There is at least one repository that does not exist or is not accessible to the parent "
    "installation."
)


@dataclass(frozen=True)
class Permission:
    """One permission a request needs, e.g. `contents:write`."""

    name: str
    level: str

    @classmethod
    def parse(cls, text: str) -> Permission:
        name, _, level = text.partition(":")
        if name not in INSTALLATION_PERMISSIONS or level not in _LEVELS:
            raise ValueError(f"not a permission: {text!r}")
        return cls(name, level)

    @property
    def header(self) -> str:
        """As GitHub names it in `X-Accepted-GitHub-Permissions`."""
        return f"{self.name}={self.level}"


@dataclass(frozen=True)
class TokenScope:
    permissions: Mapping[str, str]
    # Lower-case login the repositories must belong to; None: any owner.
    owner: str | None = None
    # None: every repository (of `owner`, when set).
    repository_ids: frozenset[int] | None = None

    def covers(self, repo: Repo) -> bool:
        return (self.owner is None or repo.owner.lower() == self.owner) and (
            self.repository_ids is None or repo.id in self.repository_ids
        )

    def grants(self, permission: Permission) -> bool:
        held = self.permissions.get(permission.name)
        return held is not None and _LEVELS[held] >= _LEVELS[permission.level]


@dataclass(frozen=True)
class Identity:
    login: str
    # Requests are counted against this key's hourly budget (a token, or an installation).
    budget_key: str
    # None: limited only by what `login` may do.
    scope: TokenScope | None = None


class ScopeError(Exception):
    """A token was asked for more than the installation has; the message is GitHub's."""


def requested_permissions(requested: Mapping[str, str] | None) -> dict[str, str]:
    """The permissions a token gets for `requested` (None or empty: the installation's);
    metadata:read always comes with them, as on GitHub. ScopeError for a permission the
    installation lacks or an unknown level."""
    if not requested:
        return dict(INSTALLATION_PERMISSIONS)
    granted = {"metadata": "read"}
    for name, level in requested.items():
        held = INSTALLATION_PERMISSIONS.get(name)
        if held is None or level not in _LEVELS or _LEVELS[level] > _LEVELS[held]:
            raise ScopeError(NOT_GRANTED)
        granted[name] = level
    return granted


def git_access(
    identity: Identity, repo: Repo, *, push: bool
) -> Literal["granted", "hidden", "denied"]:
    """What git over HTTP lets an authenticated caller do on `repo`: a scoped token needs
    the repository in its scope (public ones stay readable, as for anyone) and contents
    read (fetch) or write (push); other callers need a collaborator's role on a private
    repository, and write or above to push."""
    scope = identity.scope
    if scope is not None:
        if not scope.covers(repo):
            return "hidden" if repo.private else ("denied" if push else "granted")
        needed = Permission("contents", "write" if push else "read")
        return "granted" if scope.grants(needed) else "denied"
    role = repo.collaborators.get(identity.login.lower())
    if repo.private and role is None:
        return "hidden"
    if push and role not in _PUSH_ROLES:
        return "denied"
    return "granted"


@dataclass(frozen=True)
class _Minted:
    expires_at: datetime
    scope: TokenScope | None


class InstallationTokens:
    """The live installation tokens of the emulator's one installation."""

    def __init__(self, installation_id: int) -> None:
        self.installation_id = installation_id
        self._tokens: dict[str, _Minted] = {}

    def mint(self, scope: TokenScope | None) -> tuple[str, datetime]:
        now = utcnow()
        self._tokens = {
            token: item for token, item in self._tokens.items() if item.expires_at > now
        }
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "B")[:36]
        expires_at = now + INSTALLATION_TOKEN_LIFETIME
        self._tokens[token] = _Minted(expires_at, scope)
        return token, expires_at

    def revoke(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            self._tokens.pop(token, None)

    def identity(self, token: str, login: str) -> Identity | None:
        """`login` acting through a live installation token, with its scope; None when the
        token is unknown, expired or revoked."""
        minted = self._tokens.get(token)
        if minted is None or minted.expires_at <= utcnow():
            return None
        return Identity(login, f"installation:{self.installation_id}", minted.scope)
