"""The emulator's parts wired together, its lifecycle, and who a request is."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.requests import Request

from app.github_emulator.config import EmulatorConfig
from app.github_emulator.faults import FaultInjector, RateBudget
from app.github_emulator.responses import GitHubError
from app.github_emulator.runner import Runner
from app.github_emulator.storage import Repo, Store, utcnow
from app.github_emulator.tokens import Identity, InstallationTokens
from app.github_emulator.webhooks import WebhookSender

log = structlog.get_logger(__name__)

_SCHEME = re.compile(r"(?i)(?:bearer|token)\s+(\S+)")
_JWT = re.compile(r"[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class RequestRecord:
    """One answered API request, as the emulator's request listeners see it."""

    # The route template, e.g. `POST /repos/{owner}/{repo}/git/refs`.
    route: str
    path: str
    # The budget the request was counted against (`Identity.budget_key`; `anonymous`).
    caller: str
    status: int


RequestListener = Callable[[RequestRecord], None]


def _bad_credentials() -> GitHubError:
    return GitHubError(401, "Bad credentials")


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config.data_dir)
        self.webhooks = WebhookSender(config)
        self.installation_tokens = InstallationTokens(config.installation_id)
        self.runner = Runner(
            config, self.store, self.webhooks, self.installation_tokens, self.git_identity
        )
        self.faults = FaultInjector(
            config.faults, seed=config.fault_seed, timeout_seconds=config.fault_timeout_seconds
        )
        self.budget = RateBudget(config.rate_limit_per_hour)
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        # Called with every answered API request (benchmarks count GitHub budgets with them).
        self.request_listeners: list[RequestListener] = []
        self.templates: list[str] = []
        self.started_at = utcnow()
        # Signs storage URLs (artifacts, tarballs); a restart invalidates the outstanding ones.
        self._signing_key = secrets.token_bytes(32)

    @asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.close()

    async def start(self) -> None:
        await self.store.load()
        self.templates = await self.store.load_templates(
            self.config.templates_dir,
            self.config.template_owner,
            self.config.actor_login,
            app_id=self.config.app_id,
        )
        await self.webhooks.start()
        await self.runner.start()
        log.info(
            "emulator.started",
            data_dir=str(self.config.data_dir),
            templates=len(self.templates),
            webhooks=self.webhooks.enabled,
        )

    async def close(self) -> None:
        # Runs first (they announce their end), then the deliveries, then the state.
        await self.runner.close()
        await self.webhooks.close()
        await self.store.close()
        log.info("emulator.stopped")

    def base_url(self, request: Request) -> str:
        return (self.config.public_url or str(request.base_url)).rstrip("/")

    def authenticate(self, authorization: str | None) -> Identity:
        """A configured token or a live installation token; 401 otherwise."""
        match = _SCHEME.fullmatch((authorization or "").strip())
        identity = self.service_identity(match.group(1)) if match is not None else None
        if identity is None:
            raise _bad_credentials()
        return identity

    def service_identity(self, token: str) -> Identity | None:
        """Who a configured token or a live installation token acts as: the actor (an
        installation token within its scope)."""
        for known in self.config.tokens:
            if hmac.compare_digest(token.encode(), known.encode()):
                digest = hashlib.sha256(token.encode()).hexdigest()[:16]
                return Identity(self.config.actor_login, f"token:{digest}")
        return self.installation_tokens.identity(token, self.config.actor_login)

    def git_identity(self, token: str) -> Identity | None:
        """Who a token authenticates as for git over HTTP: the service's tokens act as the
        actor, a user token as its user."""
        identity = self.service_identity(token)
        if identity is not None:
            return identity
        login = self.store.state.user_tokens.get(_token_digest(token))
        return Identity(login, f"user:{login.lower()}") if login is not None else None

    async def mint_user_token(self, login: str) -> str:
        """A new personal access token for `login` (kept as a digest, across restarts)."""
        token = "ghp_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "B")[:36]
        self.store.state.user_tokens[_token_digest(token)] = self.store.account(login).login
        await self.store.save()
        return token

    def authenticate_app(self, authorization: str | None) -> Identity:
        """Any well-formed, unexpired JWT passes for the GitHub App; signatures are not
        checked (the emulator has no App private key to check them against)."""
        match = _SCHEME.fullmatch((authorization or "").strip())
        jwt = _JWT.fullmatch(match.group(1)) if match is not None else None
        claims = _jwt_claims(jwt.group(1)) if jwt is not None else None
        if claims is None:
            raise GitHubError(401, "A JSON web token could not be decoded")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or expires <= time.time():
            raise GitHubError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires",
            )
        return Identity(f"app-{claims.get('iss', 'unknown')}", "app")

    def role(self, repo: Repo, login: str) -> str | None:
        return repo.collaborators.get(login.lower())

    def sign(self, subject: str, expires: int) -> str:
        """The signature of a storage URL for `subject` (what it serves) until `expires`."""
        message = f"{subject}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def stats(self) -> dict[str, Any]:
        runs = Counter(run.status for run in self.store.state.runs.values())
        return {
            "requests": dict(sorted(self.requests.items())),
            "total_requests": sum(self.requests.values()),
            "responses_by_status": dict(sorted(self.statuses.items())),
            "faults_injected": dict(self.faults.injected),
            "faults_injected_total": sum(self.faults.injected.values()),
            "webhooks": {"delivered": self.webhooks.delivered, "failed": self.webhooks.failed},
            "runs": dict(runs),
            "repositories": len(self.store.state.repos),
        }


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _jwt_claims(segment: str) -> dict[str, Any] | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        return None
    return decoded if isinstance(decoded, dict) else None


@dataclass(frozen=True)
class Call:
    """One API request as a handler sees it."""

    request: Request
    emulator: Emulator
    identity: Identity
    base: str

    def param(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def int_param(self, name: str) -> int:
        try:
            return int(self.param(name))
        except ValueError as exc:
            raise GitHubError(404, "Not Found") from exc

    @property
    def store(self) -> Store:
        return self.emulator.store
