"""Inputs PostgreSQL cannot store are refused at the boundary, on every operation.

The cases are generated from the application's route table and its OpenAPI document: for
each operation, a NUL in every string body field (nested objects and lists included), string
query parameter, path parameter and header parameter, and an integer past BIGINT in every
integer parameter and body field, each sent with the credentials the operation asks for.
Each must be a 422 naming that input, never a 500; a new route is covered by being there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from tests.support.api import SIMULATION, assert_problem
from tests.support.app import WEBHOOK_SECRET, make_settings
from tests.support.identity import IdentityProvider
from tests.support.openapi import Document, document_of
from tests.support.recruiting import World, invite_candidate, new_simulation
from tests.support.route_table import (
    UNREACHABLE_GITHUB,
    credentials,
    document_app,
    operations,
    route_for,
)

NUL = "a\x00b"
PAST_BIGINT = 2**70  # 1180591620717411303424
# What fills the parameters a case is not about: valid in form, found or not.
PLACEHOLDER = {"integer": "1", "string": "x"}

Path = tuple[str, ...]


OPERATIONS = operations(document_app())


@pytest.fixture
def settings(database_url: str, idp: IdentityProvider) -> Settings:
    """GitHub configured, so the routes that need it get as far as validating their inputs;
    nothing listens there, and nothing refused at the boundary ever calls it."""
    return make_settings(database_url, idp.jwks_url, github=UNREACHABLE_GITHUB)


def _resolve(schema: Document, document: Document) -> Document:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _leaves(schema: Document, document: Document, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every string and integer inside a schema, as (path, type); arrays are entered at
    their first item."""
    schema = _resolve(schema, document)
    for branch in schema.get("anyOf", ()):
        yield from _leaves(branch, document, path)
    kind = schema.get("type")
    if kind == "object":
        for name, member in schema.get("properties", {}).items():
            yield from _leaves(member, document, (*path, name))
    elif kind == "array":
        yield from _leaves(schema["items"], document, (*path, "0"))
    elif kind in ("string", "integer"):
        yield path, kind


def _nest(path: Path, value: Any) -> Any:
    """A JSON body holding `value` at `path` and nothing else."""
    for part in reversed(path):
        value = [value] if part == "0" else {part: value}
    return value


def _bad_requests(operation: Document, document: Document) -> Iterator[tuple[Path, Any]]:
    """(where, request parts) for each bad input: the parameters or body to send."""
    for parameter in operation.get("parameters", ()):
        where = parameter["in"]
        for _, kind in _leaves(parameter["schema"], document):
            yield (where, parameter["name"]), NUL if kind == "string" else str(PAST_BIGINT)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        for path, kind in dict(_leaves(body["schema"], document)).items():
            yield ("body", *path), NUL if kind == "string" else PAST_BIGINT


def _request(
    path: str, operation: Document, document: Document, loc: Path, bad: Any
) -> dict[str, Any]:
    """httpx request arguments with `bad` at `loc` and placeholders in the other parameters
    the operation needs (required ones, and headers such as the candidate session)."""
    url, query, headers = path, dict[str, str](), dict[str, str]()
    for parameter in operation.get("parameters", ()):
        name, where = parameter["name"], parameter["in"]
        if (where, name) == loc:
            value = bad
        elif parameter["required"] or where == "header":
            value = PLACEHOLDER[next(kind for _, kind in _leaves(parameter["schema"], document))]
        else:
            continue
        if where == "path":
            url = url.replace("{" + name + "}", quote(value, safe=""))
        elif where == "query":
            query[name] = value
        else:
            headers[name] = value
    request: dict[str, Any] = {"url": url, "params": query, "headers": headers}
    if loc[0] == "body":
        request["json"] = _nest(loc[1:], bad)
    return request


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[" ".join(op) for op in OPERATIONS])
async def test_unstorable_inputs_are_refused_naming_the_input(
    app: FastAPI, world: World, method: str, path: str
) -> None:
    document = document_of(app)
    operation = document["paths"][path][method.lower()]
    caller = credentials(route_for(app, method, path), world)
    for loc, bad in _bad_requests(operation, document):
        request = _request(path, operation, document, loc, bad)
        request["headers"] |= caller
        response = await world.client.request(method, **request)
        body = assert_problem(response, 422, "VALIDATION_FAILED")
        named = [issue["loc"] for issue in body["errors"]]
        assert list(loc) in named, f"{method} {path} with {loc}: {named}"


def test_the_route_table_has_inputs_to_check() -> None:
    """The generator finds the inputs the issue named (guards against walking nothing)."""
    document = document_app().openapi()
    found = {
        (method, path, loc)
        for method, path in OPERATIONS
        for loc, _ in _bad_requests(document["paths"][path][method.lower()], document)
    }
    for expected in [
        ("POST", "/api/simulations", ("body", "title")),
        ("POST", "/api/simulations", ("body", "tasks", "0", "title")),
        ("POST", "/api/admin/companies", ("body", "name")),
        ("POST", "/api/admin/recruiters", ("body", "companyId")),
        ("POST", "/api/admin/templates/health/run", ("body", "templateKeys", "0")),
        ("POST", "/api/simulations/{simulation_id}/invite", ("body", "candidateName")),
        ("POST", "/api/tasks/{task_id}/submit", ("body", "contentText")),
        ("POST", "/api/tasks/{task_id}/submit", ("header", "x-candidate-session-id")),
        ("GET", "/api/candidate/session/{token}", ("path", "token")),
        ("GET", "/api/simulations", ("query", "cursor")),
        ("GET", "/api/admin/jobs", ("query", "cursor")),
        ("POST", "/api/admin/jobs/{job_id}/retry", ("path", "job_id")),
        ("POST", "/api/github/webhooks", ("header", "x-github-delivery")),
    ]:
        assert expected in found


# ---- what the generated cases cannot reach ----------------------------------------------


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _cursor("2026-01-01T00:00:00+00:00"),  # no id
        _cursor("yesterday|5"),
        _cursor("2026-01-01T00:00:00+00:00|0"),
        _cursor(f"2026-01-01T00:00:00+00:00|{PAST_BIGINT}"),
        _cursor("2026-01-01T00:00:00|5"),  # no offset: not one this API made
        _cursor("0001-01-01T00:00:00+14:00|5"),  # before year 1 in UTC
        _cursor("9999-12-31T23:59:59-14:00|5"),  # after year 9999 in UTC
    ],
)
async def test_a_cursor_decodes_to_a_storable_key_or_is_a_422(world: World, cursor: str) -> None:
    for path in ("/api/simulations", "/api/submissions"):
        response = await world.client.get(path, params={"cursor": cursor}, headers=world.recruiter)
        body = assert_problem(response, 422, "CURSOR_INVALID")
        assert body["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_deadline_past_year_9999_in_utc_is_a_422_naming_it(world: World) -> None:
    simulation = await new_simulation(world)
    invited = await invite_candidate(world, simulation["id"])
    cs_id = invited.json()["candidateSessionId"]
    response = await world.client.post(
        f"/api/simulations/{simulation['id']}/candidates/{cs_id}/extend",
        json={"expiresAt": "9999-12-31T23:59:59-14:00"},
        headers=world.recruiter,
    )
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert body["errors"][0]["loc"] == ["body", "expiresAt"]


async def test_a_lone_surrogate_in_a_body_is_a_422_naming_the_field(world: World) -> None:
    # json.dumps escapes it as \ud800, which json.loads turns back into a lone surrogate.
    content = json.dumps(SIMULATION | {"focus": "a\ud800b"})
    response = await world.client.post(
        "/api/simulations",
        content=content,
        headers=world.recruiter | {"Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert ["body", "focus"] in [issue["loc"] for issue in body["errors"]]


async def test_storable_text_outside_the_basic_plane_is_kept(world: World) -> None:
    title = "Zahlungen \u2013 決済 😀 \u200d\ufeff"
    simulation = await new_simulation(world, title=title)
    assert simulation["title"] == title


async def test_a_nul_in_a_signed_webhook_payload_is_a_422_not_a_500(world: World) -> None:
    body = json.dumps({"zen": "a\x00b", "hook_id": 1}).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = await world.client.post(
        "/api/github/webhooks",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "delivery-nul",
            "X-Hub-Signature-256": f"sha256={signature}",
        },
    )
    issues = assert_problem(response, 422, "VALIDATION_FAILED")["errors"]
    assert issues[0]["loc"] == ["body", "zen"]
