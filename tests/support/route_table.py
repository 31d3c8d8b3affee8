"""The operations of the application, for tests generated from its route table: every
operation of an app with every route, and the credentials each one asks for."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext, iter_route_contexts

from app.auth.dependencies import (
    current_candidate,
    current_principal,
    current_recruiter,
    require_admin_key,
)
from app.main import create_app
from tests.support.app import ADMIN_KEY, make_settings
from tests.support.recruiting import World

# GitHub configured, so the routes that need it get past that check; nothing listens there.
UNREACHABLE_GITHUB = {"api_base": "http://127.0.0.1:9", "token": "never-used", "max_retries": 0}


def document_app() -> FastAPI:
    """An app with every route (the admin ones too), built without starting it."""
    return create_app(make_settings("postgresql://nobody@127.0.0.1:9/none", "http://127.0.0.1:9"))


def operations(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every operation in the app's OpenAPI document."""
    return sorted(
        (method.upper(), path)
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    )


def route_for(app: FastAPI, method: str, path: str) -> RouteContext:
    return next(
        route
        for route in iter_route_contexts(app.routes)
        if route.path_format == path and method in (route.methods or ())
    )


def _calls(dependant: Dependant) -> Iterator[object]:
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def credentials(route: RouteContext, world: World) -> dict[str, str]:
    """The headers of a caller the operation lets through, as its dependencies say."""
    calls = set(_calls(route.dependant))
    if require_admin_key in calls:
        return {"X-Admin-Key": ADMIN_KEY}
    if current_candidate in calls:
        return world.candidate
    if current_recruiter in calls or current_principal in calls:
        return world.recruiter
    return {}
