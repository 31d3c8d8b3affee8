"""The provider errors for an HTTP failure, shared by both SDKs' clients. Messages name the
provider and the status only: an error body can echo part of the API key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from app.integrations.ai.provider import (
    AiError,
    AiRateLimitedError,
    AiRequestRejectedError,
    AiUnavailableError,
)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from `retry-after-ms` (OpenAI) or `retry-after` (seconds or an HTTP
    date); None when absent or unreadable."""
    try:
        if (millis := headers.get("retry-after-ms")) is not None:
            return max(float(millis) / 1000, 0.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            when = parsedate_to_datetime(value)
            return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def status_error(
    provider: str, status: int, headers: Mapping[str, str], code: str | None = None
) -> AiError:
    if status == 429 and code == "insufficient_quota":
        # OpenAI's "out of credit" is a 429 too, but no retry helps until billing changes.
        return AiRequestRejectedError(f"{provider} account has no quota left (HTTP 429)")
    if status == 429:
        return AiRateLimitedError(f"{provider} rate limit reached (HTTP 429)", retry_after(headers))
    if status >= 500 or status in (408, 409):
        # 408, 409 and 5xx (529: overloaded) are passing conditions: the job retries.
        return AiUnavailableError(f"{provider} is unavailable (HTTP {status})")
    return AiRequestRejectedError(
        f"{provider} rejected the request (HTTP {status}); check TENON_AI_API_KEY, "
        "TENON_AI_MODEL and TENON_AI_BASE_URL"
    )
