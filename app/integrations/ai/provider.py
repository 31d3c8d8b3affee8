"""What the rest of Tenon knows of an AI provider: one structured completion per call, its
token usage and price, and the errors it can end in, each with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

# A token is about four characters of English; three keeps a reservation on the safe side.
_CHARS_PER_TOKEN_LOW = 3
_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class AiRequest:
    system: str
    prompt: str
    # The output's JSON Schema and a name for it (the tool name or response_format name).
    schema_name: str
    json_schema: dict[str, Any]
    max_output_tokens: int


@dataclass(frozen=True)
class AiResponse:
    # The structured output, parsed as JSON (not yet validated against the caller's schema).
    data: dict[str, Any]
    # The model that answered, as the provider named it.
    model: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input_per_mtok: Decimal
    output_per_mtok: Decimal

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        return (
            self.input_per_mtok * input_tokens + self.output_per_mtok * output_tokens
        ) / _PER_MILLION

    def worst_case(self, request: AiRequest) -> Decimal:
        """An upper bound of the request's cost, reserved against the budget before it."""
        chars = len(request.system) + len(request.prompt) + len(str(request.json_schema))
        return self.cost(chars // _CHARS_PER_TOKEN_LOW + 1, request.max_output_tokens)


class AiError(Exception):
    """The call failed. `retryable`: a later attempt may succeed."""

    code = "AI_UNAVAILABLE"
    retryable = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AiUnavailableError(AiError):
    """The provider could not be reached, or answered with a server error."""


class AiTimeoutError(AiError):
    code = "AI_TIMEOUT"


class AiRateLimitedError(AiError):
    code = "AI_RATE_LIMITED"

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AiRefusedError(AiError):
    """The model declined to answer."""

    code = "AI_REFUSED"
    retryable = False


class AiMalformedOutputError(AiError):
    """The answer was not JSON of the requested shape."""

    code = "AI_MALFORMED_OUTPUT"
    retryable = False


class AiRequestRejectedError(AiError):
    """The provider refused the request itself (bad key, unknown model, invalid request):
    no retry helps until the configuration changes."""

    code = "AI_REQUEST_REJECTED"
    retryable = False


class AiProvider(Protocol):
    name: str  # "anthropic" | "openai"
    model: str
    price: Price

    async def complete(self, request: AiRequest) -> AiResponse: ...
