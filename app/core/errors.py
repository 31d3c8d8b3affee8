"""Domain errors and their RFC 9457 `application/problem+json` rendering.

Services raise `AppError` subclasses; one set of handlers turns them, request validation
failures, routing errors and unexpected exceptions into the same problem shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import Scope

PROBLEM_CONTENT_TYPE = "application/problem+json"
# The same problem body for clients that do not ask for problem+json by name: the
# original front end parses only content types containing `application/json`.
PLAIN_JSON_CONTENT_TYPE = "application/json"

log = structlog.get_logger(__name__)

# The Retry-After of answers given while the database is away or slow: about as long as a
# restart or a fail-over takes.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def problem_media_type(scope: Scope) -> str:
    """`application/problem+json` when the request's Accept names it (with q > 0)."""
    accept = b", ".join(value for name, value in scope.get("headers", ()) if name == b"accept")
    for media_range in accept.decode("latin-1").lower().split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        if media_type == PROBLEM_CONTENT_TYPE and not any(
            _is_zero_quality(param) for param in params
        ):
            return PROBLEM_CONTENT_TYPE
    return PLAIN_JSON_CONTENT_TYPE


def _is_zero_quality(param: str) -> bool:
    name, _, value = param.partition("=")
    if name.strip() != "q":
        return False
    try:
        return float(value) == 0
    except ValueError:
        return False


def request_id_of(scope: Scope) -> str | None:
    """The request id the request-context middleware stored in the ASGI scope."""
    state = scope.get("state") or {}
    request_id = state.get("request_id")
    return request_id if isinstance(request_id, str) else None


class AppError(Exception):
    """Base of every error the API answers deliberately."""

    status: int = 500
    code: str = "INTERNAL_ERROR"
    retryable: bool = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        retryable: bool | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.extensions = dict(extensions or {})
        self.detail = detail or HTTPStatus(self.status).phrase
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class BadRequestError(AppError):
    status = 400
    code = "BAD_REQUEST"


class UnauthorizedError(AppError):
    status = 401
    code = "UNAUTHORIZED"


class ForbiddenError(AppError):
    status = 403
    code = "FORBIDDEN"


class NotFoundError(AppError):
    status = 404
    code = "NOT_FOUND"


class ConflictError(AppError):
    status = 409
    code = "CONFLICT"


class GoneError(AppError):
    status = 410
    code = "GONE"


class PayloadTooLargeError(AppError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnprocessableError(AppError):
    status = 422
    code = "VALIDATION_FAILED"


class RateLimitedError(AppError):
    status = 429
    code = "RATE_LIMITED"
    retryable = True


class ServiceUnavailableError(AppError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    retryable = True


class DatabaseUnavailableError(ServiceUnavailableError):
    """PostgreSQL refused or dropped the connection, or stopped answering within its
    deadlines. The same request can succeed once it is back, so clients are told when to
    try again."""

    code = "DATABASE_UNAVAILABLE"

    def __init__(self, retry_after_seconds: int = UNAVAILABLE_RETRY_AFTER_SECONDS) -> None:
        super().__init__(
            "The database is not reachable right now; try again shortly.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


class RequestTimeoutError(ServiceUnavailableError):
    """The request did not start its answer within the server's request deadline; its
    work was stopped."""

    code = "REQUEST_TIMEOUT"

    def __init__(
        self, deadline_seconds: float, retry_after_seconds: int = UNAVAILABLE_RETRY_AFTER_SECONDS
    ) -> None:
        super().__init__(
            f"The request did not complete within {deadline_seconds:g} s; try again shortly.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    retryable: bool,
    request_id: str | None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    # Extension members (RFC 9457 §3.2) first, so they can never replace a standard one.
    body: dict[str, Any] = dict(extensions or {})
    body |= {
        "type": f"urn:tenon:problem:{code.lower().replace('_', '-')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "retryable": retryable,
    }
    if errors is not None:
        body["errors"] = list(errors)
    if request_id:
        body["requestId"] = request_id
    return body


def problem_response(
    error: AppError, scope: Scope, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The problem for `error`, in the media type the request accepts."""
    request_id = request_id_of(scope)
    body = problem_body(
        status=error.status,
        code=error.code,
        detail=error.detail,
        retryable=error.retryable,
        request_id=request_id,
        errors=error.errors,
        extensions=error.extensions,
    )
    all_headers = {**error.headers, **(headers or {})}
    return JSONResponse(
        body, status_code=error.status, headers=all_headers, media_type=problem_media_type(scope)
    )


_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The offending input is left out on purpose: it may hold tokens or personal data.
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]


def _validation_detail(errors: Sequence[Mapping[str, Any]]) -> str:
    """A sentence naming the fields at fault, e.g. `body.githubUsername: Field required`."""
    named = [f"{'.'.join(error['loc'])}: {error['msg']}" for error in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return (
        f"The request is invalid: {'; '.join(named)}{more}." if named else "The request is invalid."
    )


async def _handle_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(exc, request.scope)


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    body = problem_body(
        status=exc.status_code,
        code=code,
        detail=detail,
        retryable=False,
        request_id=request_id_of(request.scope),
    )
    return JSONResponse(
        body,
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
        media_type=problem_media_type(request.scope),
    )


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    error = UnprocessableError(_validation_detail(errors), errors=errors)
    return problem_response(error, request.scope)


async def _handle_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    # Every pooled connection stayed busy past the pool timeout: a database that stopped
    # answering holds them all. The other connection failures are translated where they
    # happen (app.core.db).
    log.warning("db.unavailable", reason="no pooled connection was free in time")
    return problem_response(DatabaseUnavailableError(), request.scope)


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = request_id_of(request.scope)
    # Starlette calls this from its outermost layer, after the request-context middleware
    # has finished, so the request id is passed explicitly to the log line and the response.
    log.error("request.unhandled_exception", request_id=request_id, exc_info=exc)
    error = AppError(f"An unexpected error occurred. Quote request id {request_id} to report it.")
    headers = {"X-Request-ID": request_id} if request_id else None
    return problem_response(error, request.scope, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(PoolTimeoutError, _handle_pool_timeout)
    app.add_exception_handler(Exception, _handle_unexpected)
