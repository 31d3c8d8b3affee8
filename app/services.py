"""The application's runtime services, and the FastAPI dependencies domains reach them by.

One `Services` per process, built by `app.assembly.build_services`: the API keeps it on
`app.state.services`, and the job worker hands it to every handler (`JobContext[Services]`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Protocol

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ServiceUnavailableError
from app.core.metrics import Metrics
from app.core.openapi import ErrorSpec
from app.core.security import TokenCipher
from app.core.settings import Settings
from app.integrations.ai.provider import AiProvider
from app.integrations.github.client import GitHubClient
from app.integrations.github.webhooks import WebhookHandler
from app.integrations.transcription.provider import Transcriber
from app.jobs.registry import PermanentJobError
from app.media.store import MediaStore
from app.notifications.email import EmailSender


class GitHubNotConfiguredError(ServiceUnavailableError, PermanentJobError):
    """No GitHub credentials are configured. A request answers 503; a job that needs GitHub
    goes straight to `dead`, since no retry can succeed before a restart with credentials."""

    code = "GITHUB_NOT_CONFIGURED"

    def __init__(self) -> None:
        super().__init__("GitHub is not configured on this server.")


# For the `@raises` of routes that need GitHub.
GITHUB_NOT_CONFIGURED: ErrorSpec = (ServiceUnavailableError, GitHubNotConfiguredError.code)


class AiNotConfiguredError(ServiceUnavailableError, PermanentJobError):
    """TENON_AI_PROVIDER is `none`: the AI drafts are off on this server."""

    code = "AI_NOT_CONFIGURED"

    def __init__(self) -> None:
        super().__init__("AI drafts are not enabled on this server (TENON_AI_PROVIDER=none).")


AI_NOT_CONFIGURED: ErrorSpec = (ServiceUnavailableError, AiNotConfiguredError.code)


class TranscriptionNotConfiguredError(ServiceUnavailableError, PermanentJobError):
    """TENON_TRANSCRIPTION_PROVIDER is `none`: recordings are kept without transcripts."""

    code = "TRANSCRIPTION_NOT_CONFIGURED"

    def __init__(self) -> None:
        super().__init__(
            "Transcription is not enabled on this server (TENON_TRANSCRIPTION_PROVIDER=none)."
        )


TRANSCRIPTION_NOT_CONFIGURED: ErrorSpec = (
    ServiceUnavailableError,
    TranscriptionNotConfiguredError.code,
)


def require_github(github: GitHubClient | None) -> GitHubClient:
    """The client; `GitHubNotConfiguredError` without one (the one "is GitHub configured?"
    check, for the paths that need GitHub only sometimes)."""
    if github is None:
        raise GitHubNotConfiguredError()
    return github


class MediaRemovedHook(Protocol):
    """What a domain above recordings does when a recording's media (its object and
    transcript) is removed, in the transaction that removes it (see app.assembly)."""

    async def __call__(
        self, session: AsyncSession, *, candidate_session_id: int, recording_id: int
    ) -> object: ...


@dataclass(frozen=True)
class Services:
    """The external systems and settings that routes and job handlers use."""

    settings: Settings
    # The process's one HTTP client, for requests to customers' URLs (webhook endpoints,
    # Greenhouse callbacks), always through app.integrations.outbound, which checks the
    # target.
    http: httpx.AsyncClient
    email: EmailSender
    token_cipher: TokenCipher
    metrics: Metrics
    # Object storage (recordings): the local store unless TENON_STORAGE_URL names a bucket.
    media: MediaStore
    # None when no GitHub credentials are configured: see `require_github`.
    github: GitHubClient | None = None
    # GitHub webhook event name -> the handler its domain registered (see app.assembly).
    webhook_handlers: Mapping[str, WebhookHandler] = field(default_factory=dict)
    # None when TENON_AI_PROVIDER=none: see `require_ai`.
    ai: AiProvider | None = None
    # Run by every removal of a recording's media (see app.assembly).
    media_removed: Sequence[MediaRemovedHook] = ()
    # None when TENON_TRANSCRIPTION_PROVIDER=none: see `require_transcriber`.
    transcriber: Transcriber | None = None

    def require_github(self) -> GitHubClient:
        return require_github(self.github)

    def require_ai(self) -> AiProvider:
        if self.ai is None:
            raise AiNotConfiguredError()
        return self.ai

    def require_transcriber(self) -> Transcriber:
        if self.transcriber is None:
            raise TranscriptionNotConfiguredError()
        return self.transcriber


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


CurrentServices = Annotated[Services, Depends(services_of)]


def _github_of(services: CurrentServices) -> GitHubClient:
    return services.require_github()


# A route that always calls GitHub takes this, lists GITHUB_NOT_CONFIGURED in its `@raises`,
# and answers 503 before doing anything else when GitHub is not configured.
GitHub = Annotated[GitHubClient, Depends(_github_of)]
