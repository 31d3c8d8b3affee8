"""Holding the API to its OpenAPI document: every answer a test client sees must have its
status documented on the operation that answered, and a problem answer its code too."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.errors import PROBLEM_CONTENT_TYPE

Document = dict[str, Any]


def operation_for(document: Document, method: str, path: str) -> Document | None:
    """The operation serving `method path`; a literal path segment beats a parameter, as in
    the router. None when no operation does (an unknown route promises nothing)."""
    candidates = [
        (template.count("{"), operations[method.lower()])
        for template, operations in document["paths"].items()
        if method.lower() in operations and _template_regex(template).fullmatch(path)
    ]
    return min(candidates, key=lambda candidate: candidate[0])[1] if candidates else None


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    )


def documented_codes(operation: Document, status: int) -> list[str]:
    """The `code` values the operation documents for a problem answer with this status."""
    response = operation["responses"].get(str(status), {})
    schema = response.get("content", {}).get(PROBLEM_CONTENT_TYPE, {}).get("schema")
    if schema is None:
        return []
    codes: list[str] = schema["allOf"][1]["properties"]["code"]["enum"]
    return codes


# Generating an app's document costs about half a second of CPU, and nearly every test builds
# an app of its own: one document per set of routes serves every app that has those routes.
_documents: dict[Hashable, Document] = {}


def _routes_key(app: FastAPI) -> Hashable:
    """What an app's document is made from: its title, version and documented routes (the
    routers are module-level, so the same endpoint on the same path is the same operation)."""
    routes = tuple(
        (route.path_format, frozenset(route.methods or ()), route.original_route.endpoint)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and route.include_in_schema
    )
    return app.title, app.version, routes


def document_of(app: FastAPI) -> Document:
    """`app.openapi()`, shared by the apps with the same routes (do not change it)."""
    if app.openapi_schema is not None:
        return app.openapi()  # already built for this app (and maybe changed by the test)
    key = _routes_key(app)
    if key not in _documents:
        # A copy: a test may change its own app's document.
        _documents[key] = copy.deepcopy(app.openapi())
    return _documents[key]


def documented_answers_only(app: FastAPI) -> Callable[[httpx.Response], Awaitable[None]]:
    """An httpx response hook that fails the request when the answer is not documented."""
    # Read at the first answer, as the app's own document would be: routes a test adds later
    # are not in it.
    documents: list[Document] = []

    async def check(response: httpx.Response) -> None:
        request = response.request
        if not documents:
            documents.append(document_of(app))
        operation = operation_for(documents[0], request.method, request.url.path)
        if operation is None:
            return
        where = f"{request.method} {request.url.path} answered {response.status_code}"
        documented = operation["responses"]
        assert str(response.status_code) in documented, (
            f"{where}; the OpenAPI operation {operation['operationId']} documents only "
            f"{sorted(documented)}"
        )
        if response.status_code < 400 or not response.headers.get("content-type", "").startswith(
            ("application/problem+json", "application/json")
        ):
            return
        await response.aread()
        code = response.json()["code"]
        codes = documented_codes(operation, response.status_code)
        assert code in codes, (
            f"{where} {code}; the OpenAPI operation {operation['operationId']} documents "
            f"{codes} for it"
        )

    return check
