"""Schemathesis over the OpenAPI document: generated requests, valid and invalid, to every
operation, each sent with the credentials the operation asks for (a recruiter's token, a
candidate's token with their session header, the admin key). Every answer must be
documented and match its schema, and none may be a server error.

The budget is small and fixed (a few examples per operation, derandomized), so this runs in
the default suite; `TENON_SCHEMATHESIS_EXAMPLES` raises it for a longer hunt:

    TENON_SCHEMATHESIS_EXAMPLES=200 .venv/bin/pytest tests/test_schemathesis.py -p no:xdist
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.settings import Settings
from tests.support.app import make_settings
from tests.support.identity import IdentityProvider
from tests.support.recruiting import World, invite_candidate, new_simulation
from tests.support.route_table import UNREACHABLE_GITHUB, credentials, document_app, route_for

EXAMPLES = int(os.environ.get("TENON_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"max-examples": EXAMPLES, "deterministic": True},
        # The coverage phase sends hundreds of boundary cases per operation: too slow for
        # the default suite; tests/test_input_boundary.py covers the boundaries we guard.
        "phases": {"coverage": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(document_app().openapi(), config=CONFIG)


@pytest.fixture
def settings(database_url: str, idp: IdentityProvider) -> Settings:
    """GitHub configured but unreachable: an operation that calls it answers 502/503."""
    return make_settings(database_url, idp.jwks_url, github=UNREACHABLE_GITHUB)


@pytest.fixture
async def candidate_session(world: World) -> str:
    """The world's candidate, invited and claimed: their session id for the header."""
    simulation = await new_simulation(world)
    invite = (await invite_candidate(world, simulation["id"])).json()
    claimed = await world.client.post(
        f"/api/candidate/session/{invite['token']}/claim", headers=world.candidate
    )
    assert claimed.status_code == 200, claimed.text
    return str(invite["candidateSessionId"])


@pytest.fixture
async def fixtures_loop() -> asyncio.AbstractEventLoop:
    """The loop the async fixtures run on (the app, the database connection): every request
    must run there too. Schemathesis would run an async test on whatever loop
    `asyncio.get_event_loop()` gives, which an earlier test in the process may have changed."""
    return asyncio.get_running_loop()


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
def test_the_api_honours_its_openapi_document(
    case: Any,
    app: FastAPI,
    world: World,
    candidate_session: str,
    fixtures_loop: asyncio.AbstractEventLoop,
) -> None:
    fixtures_loop.run_until_complete(_send_and_check(case, app, world, candidate_session))


async def _send_and_check(case: Any, app: FastAPI, world: World, candidate_session: str) -> None:
    caller = dict(credentials(route_for(app, case.method.upper(), case.path), world))
    if "x-candidate-session-id" in {name.lower() for name in case.headers or {}}:
        caller["x-candidate-session-id"] = candidate_session
    # The caller's credentials replace any generated header of the same name.
    replaced = {name.lower() for name in caller}
    generated = {k: v for k, v in (case.headers or {}).items() if k.lower() not in replaced}
    headers = generated | caller
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    response = await world.client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=kwargs.get("headers"),
        json=kwargs.get("json"),
        content=kwargs.get("content") or kwargs.get("data"),
    )
    case.validate_response(response, checks=CHECKS)
