"""Typed errors for GitHub failures (SPEC §6.1).

Every error keeps the status GitHub answered (`github_status`, None when no answer came)
and GitHub's own `message`, `errors` and `documentation_url`. Messages name the request by
method and path only, never by headers, so no token can end up in them.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from app.core.errors import AppError


class GitHubError(AppError):
    """A GitHub answer we cannot use; subclasses name the cases callers act on."""

    status = 502
    code = "GITHUB_ERROR"
    retryable = False

    def __init__(
        self,
        detail: str,
        *,
        github_status: int | None = None,
        github_message: str | None = None,
        github_errors: list[Any] | None = None,
        documentation_url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail, headers=headers)
        self.github_status = github_status
        self.github_message = github_message
        self.github_errors = github_errors or []
        self.documentation_url = documentation_url

    def mentions(self, fragment: str) -> bool:
        """Whether GitHub's message or any entry of its `errors` list contains `fragment`."""
        texts = [self.github_message or "", *map(_error_text, self.github_errors)]
        return fragment.lower() in " ".join(texts).lower()


class GitHubTokenInvalidError(GitHubError):
    code = "GITHUB_TOKEN_INVALID"


class GitHubPermissionDeniedError(GitHubError):
    code = "GITHUB_PERMISSION_DENIED"


class GitHubNotFoundError(GitHubError):
    """The GitHub object is missing (404) or gone (410); callers expecting that catch it."""

    code = "GITHUB_NOT_FOUND"


class GitHubValidationFailedError(GitHubError):
    code = "GITHUB_VALIDATION_FAILED"


class GitHubRateLimitedError(GitHubError):
    status = 503
    code = "GITHUB_RATE_LIMITED"
    retryable = True

    def __init__(self, detail: str, *, retry_after_seconds: float | None = None, **kwargs: Any):
        if retry_after_seconds is not None:
            kwargs["headers"] = {"Retry-After": str(math.ceil(retry_after_seconds))}
        super().__init__(detail, **kwargs)
        self.retry_after_seconds = retry_after_seconds


class GitHubUnavailableError(GitHubError):
    """5xx answers, timeouts and connection failures that outlasted our retries."""

    status = 503
    code = "GITHUB_UNAVAILABLE"
    retryable = True


class DownloadTooLargeError(GitHubError):
    """A download over its byte cap; not retryable: the same object will not shrink."""

    code = "DOWNLOAD_TOO_LARGE"


class ArtifactTooLargeError(DownloadTooLargeError):
    code = "ARTIFACT_TOO_LARGE"


class TarballTooLargeError(DownloadTooLargeError):
    code = "TARBALL_TOO_LARGE"


# What a request handler that calls GitHub declares with `@raises`.
GITHUB_CALL_ERRORS: tuple[type[GitHubError], ...] = (
    GitHubError,
    GitHubTokenInvalidError,
    GitHubPermissionDeniedError,
    GitHubNotFoundError,
    GitHubValidationFailedError,
    GitHubRateLimitedError,
    GitHubUnavailableError,
)

_ERRORS_BY_STATUS: dict[int, type[GitHubError]] = {
    401: GitHubTokenInvalidError,
    403: GitHubPermissionDeniedError,
    404: GitHubNotFoundError,
    410: GitHubNotFoundError,
    422: GitHubValidationFailedError,
}


def error_for_response(response: httpx.Response, request_label: str) -> GitHubError:
    """Map a GitHub error answer to its typed error; `request_label` is "METHOD /path"."""
    body = _json_object(response)
    message = response_message(response)
    errors = body.get("errors") if isinstance(body.get("errors"), list) else None
    docs = body.get("documentation_url")
    status = response.status_code
    error_type = _ERRORS_BY_STATUS.get(status)
    if error_type is None:
        error_type = GitHubUnavailableError if status >= 500 else GitHubError
    suffix = f": {message}" if message else ""
    return error_type(
        f"GitHub answered {status} to {request_label}{suffix}",
        github_status=status,
        github_message=message,
        github_errors=errors,
        documentation_url=docs if isinstance(docs, str) else None,
    )


def response_message(response: httpx.Response) -> str | None:
    """GitHub's `message` from an error body, if there is one."""
    message = _json_object(response).get("message")
    return message if isinstance(message, str) else None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return " ".join(str(value) for value in error.values())
    return str(error)
