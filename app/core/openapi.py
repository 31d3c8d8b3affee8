"""The OpenAPI document, shaped for generating typed clients.

- Operation ids are the endpoint function names in camelCase (`resend_invite` → `resendInvite`).
- Errors are documented as `app.core.errors` renders them: `application/problem+json` with the
  `Problem` schema, one response per status, listing the `code` values the operation can
  answer. Endpoints and their dependencies declare what they raise with `@raises(...)`; the
  statuses that come from the request itself are added here: 422 when the operation takes a
  parameter or a body, 400/413 from the body size limit on methods with a body, 503
  REQUEST_TIMEOUT (the request deadline) and 500 everywhere.
- Security schemes come from the FastAPI security dependencies the routes use.
- An operation's summary is its endpoint's docstring, not the function name title-cased.
- Statuses are Literals wrapped in `TypeAliasType`, so they appear as named schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from app.core.errors import (
    PLAIN_JSON_CONTENT_TYPE,
    PROBLEM_CONTENT_TYPE,
    AppError,
    BadRequestError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnprocessableError,
)

CallableT = TypeVar("CallableT", bound=Callable[..., Any])
# An error class, with the code it is raised with when that is not the class's own.
ErrorSpec = type[AppError] | tuple[type[AppError], str]

_PROBLEMS_ATTRIBUTE = "__tenon_problems__"
_PROBLEM_REF = "#/components/schemas/Problem"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": (
        "An RFC 9457 problem: the body of every error answer. `code` is the stable machine "
        "code to branch on; `detail` is a human message that is safe to show. Some codes add "
        "members (SUBMISSION_EXISTS adds `submission`)."
    ),
    "required": ["type", "title", "status", "detail", "code", "retryable"],
    "properties": {
        "type": {"type": "string", "description": "`urn:tenon:problem:` and the code."},
        "title": {"type": "string", "description": "The HTTP status phrase."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "UPPER_SNAKE machine code."},
        "retryable": {
            "type": "boolean",
            "description": "Whether the same request may succeed later.",
        },
        "errors": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ValidationIssue"},
            "description": "The invalid inputs, on 422 answers.",
        },
        "requestId": {
            "type": "string",
            "description": "Also in the X-Request-ID header; quote it to report a problem.",
        },
    },
    "additionalProperties": True,
    "examples": [
        {
            "type": "urn:tenon:problem:simulation-not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "No such simulation.",
            "code": "SIMULATION_NOT_FOUND",
            "retryable": False,
            "requestId": "0b6f7c2e9d1a4f3b8e5c6d7a8b9c0d1e",
        }
    ],
}
VALIDATION_ISSUE_SCHEMA: dict[str, Any] = {
    "title": "ValidationIssue",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {
            "type": "array",
            "items": {"type": "string"},
            "description": 'Where: e.g. ["body", "inviteEmail"] or ["query", "limit"].',
        },
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
}


def raises(*errors: ErrorSpec) -> Callable[[CallableT], CallableT]:
    """Declare the problems an endpoint or a dependency can answer with; every route that
    uses it documents them."""

    def declare(function: CallableT) -> CallableT:
        declared = getattr(function, _PROBLEMS_ATTRIBUTE, ())
        setattr(function, _PROBLEMS_ATTRIBUTE, (*declared, *map(_status_and_code, errors)))
        return function

    return declare


def _status_and_code(error: ErrorSpec) -> tuple[int, str]:
    if isinstance(error, tuple):
        error_type, code = error
        return error_type.status, code
    return error.status, error.code


def operation_id(route: APIRoute) -> str:
    """`resend_invite` → `resendInvite`: the endpoint's name is the operation's."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json`) serve the refined document."""
    generate = app.openapi
    refined: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()  # cached by FastAPI until the routes change
        if not refined or refined[-1] is not document:
            _refine(document, app)
            refined[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _refine(document: dict[str, Any], app: FastAPI) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for schema in schemas.values():
        if "examples" in schema:
            schema["examples"] = [
                _with_nulls(value, schema, schemas) for value in schema["examples"]
            ]
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationIssue"] = VALIDATION_ISSUE_SCHEMA
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            operation["responses"] = _responses(operation["responses"], route, method)
            if route.summary is None and "description" in operation:
                # The docstring's first line says what the operation does; FastAPI's own
                # summary only repeats the function name.
                summary, _, rest = operation.pop("description").partition("\n")
                operation["summary"] = summary.strip()
                if rest.strip():
                    operation["description"] = rest.strip()


def _with_nulls(value: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """`value` with the null members FastAPI drops from every example (it renders the
    document with exclude_none) put back: the required properties it lacks."""
    schema = _resolve(schema, schemas)
    if isinstance(value, dict) and "properties" in schema:
        return {
            name: _with_nulls(value[name], spec, schemas) if name in value else None
            for name, spec in schema["properties"].items()
            if name in value or name in schema.get("required", ())
        }
    if isinstance(value, list) and "items" in schema:
        return [_with_nulls(item, schema["items"], schemas) for item in value]
    return value


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The object schema behind a `$ref`, or behind the non-null branch of an `anyOf`."""
    for branch in schema.get("anyOf", ()):
        if branch.get("type") != "null":
            return _resolve(branch, schemas)
    if "$ref" in schema:
        return _resolve(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas)
    return schema


def _responses(generated: dict[str, Any], route: RouteContext, method: str) -> dict[str, Any]:
    """The route's success responses as generated, then one problem response per status."""
    responses = {status: doc for status, doc in generated.items() if status.startswith(("2", "3"))}
    by_status: dict[int, list[str]] = {}
    for status, code in _problems(route, method):
        codes = by_status.setdefault(status, [])
        if code not in codes:
            codes.append(code)
    for status in sorted(by_status):
        responses[str(status)] = _problem_response(status, by_status[status])
    return dict(sorted(responses.items()))


def _problems(route: RouteContext, method: str) -> Iterator[tuple[int, str]]:
    for dependant in _dependants(route.dependant):
        yield from getattr(dependant.call, _PROBLEMS_ATTRIBUTE, ())
    if _can_fail_validation(route.dependant):
        yield UnprocessableError.status, UnprocessableError.code
    if method in _BODY_METHODS:
        # The body size limit (app.core.middleware) guards every request with a body, and
        # FastAPI answers 400 to a body it cannot decode at all (not UTF-8, say).
        yield BadRequestError.status, "INVALID_CONTENT_LENGTH"
        yield BadRequestError.status, BadRequestError.code
        yield PayloadTooLargeError.status, PayloadTooLargeError.code
    # The request deadline (app.core.middleware) can end any request.
    yield RequestTimeoutError.status, RequestTimeoutError.code
    yield AppError.status, AppError.code


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _dependants(dependency)


def _can_fail_validation(root: Dependant) -> bool:
    """Whether FastAPI can refuse the request with a 422 before the endpoint runs: any body
    or parameter can, by being missing, malformed or out of bounds, or by holding text
    PostgreSQL cannot store (app.core.storable_text), which even a plain string can."""
    return any(
        dependant.body_params
        or dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        for dependant in _dependants(root)
    )


def _problem_response(status: int, codes: list[str]) -> dict[str, Any]:
    schema = {
        "allOf": [
            {"$ref": _PROBLEM_REF},
            {
                "type": "object",
                "required": ["status", "code"],
                "properties": {
                    "status": {"type": "integer", "enum": [status]},
                    "code": {"type": "string", "enum": codes},
                },
            },
        ]
    }
    response: dict[str, Any] = {
        "description": f"{HTTPStatus(status).phrase}: {', '.join(codes)}.",
        # Negotiated: problem+json when the request accepts it by name, else plain JSON.
        "content": {
            PROBLEM_CONTENT_TYPE: {"schema": schema},
            PLAIN_JSON_CONTENT_TYPE: {"schema": schema},
        },
    }
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds until the limit lets a request through.",
                "schema": {"type": "integer"},
            }
        }
    elif status == HTTPStatus.SERVICE_UNAVAILABLE:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again, when known.",
                "schema": {"type": "integer"},
            }
        }
    return response
