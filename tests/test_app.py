"""The assembled application: problem+json for every kind of failure, health, admin routes."""

from __future__ import annotations

from io import StringIO
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies import service as companies
from app.companies.models import Company
from app.core.db import Database, DbSession
from app.core.errors import ConflictError
from tests.support.api import assert_problem
from tests.support.app import ADMIN_KEY, make_settings, serving
from tests.support.identity import IdentityProvider
from tests.support.logs import json_lines

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "retryable", "requestId"}


def _problem_with_request_id(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = assert_problem(response, status, code)
    assert body.keys() >= PROBLEM_KEYS
    assert body["requestId"] == response.headers["x-request-id"]
    return body


class _Echo(BaseModel):
    name: str
    count: int


def _add_probe_routes(app: FastAPI) -> None:
    # Probes are scaffolding, not API: they stay out of the OpenAPI document.
    @app.post("/probe/echo", include_in_schema=False)
    async def echo(body: _Echo) -> _Echo:
        return body

    @app.get("/probe/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/probe/conflict", include_in_schema=False)
    async def conflict() -> None:
        raise ConflictError("Already there.", code="THING_EXISTS")


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    body = _problem_with_request_id(await client.get("/api/nope"), 404, "NOT_FOUND")
    assert body["retryable"] is False


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    _problem_with_request_id(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


async def test_validation_error_is_422_problem_without_echoing_input(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _add_probe_routes(app)
    response = await client.post("/probe/echo", json={"name": "sk-secret-value", "count": "x"})
    body = _problem_with_request_id(response, 422, "VALIDATION_FAILED")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [error["loc"] for error in errors] == [["body", "count"]]
    assert body["detail"].startswith("The request is invalid: body.count: ")
    assert "sk-secret-value" not in response.text


async def test_malformed_json_is_422_problem(app: FastAPI, client: httpx.AsyncClient) -> None:
    _add_probe_routes(app)
    response = await client.post(
        "/probe/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    _problem_with_request_id(response, 422, "VALIDATION_FAILED")


async def test_app_error_renders_its_code(app: FastAPI, client: httpx.AsyncClient) -> None:
    _add_probe_routes(app)
    body = _problem_with_request_id(await client.get("/probe/conflict"), 409, "THING_EXISTS")
    assert body["detail"] == "Already there."


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/problem+json", "application/problem+json"),
        ("text/html, application/problem+json;q=0.9", "application/problem+json"),
        ("application/problem+json;q=0", "application/json"),
    ],
)
async def test_problem_media_type_follows_accept(
    app: FastAPI, client: httpx.AsyncClient, accept: str | None, media_type: str
) -> None:
    # The original front end's proxy parses only content types containing application/json.
    _add_probe_routes(app)
    headers = {"Accept": accept} if accept is not None else {}
    for path, status in (("/probe/conflict", 409), ("/api/nope", 404)):
        request = client.build_request("GET", path, headers=headers)
        if accept is None:
            del request.headers["Accept"]
        response = await client.send(request)
        assert response.status_code == status
        assert response.headers["content-type"] == media_type
        assert response.json()["status"] == status


async def test_unexpected_exception_is_500_problem_with_request_id_and_no_internals(
    app: FastAPI, client: httpx.AsyncClient, log_stream: StringIO
) -> None:
    _add_probe_routes(app)
    response = await client.get("/probe/boom", headers={"x-request-id": "req-boom-1"})
    body = _problem_with_request_id(response, 500, "INTERNAL_ERROR")
    assert body["requestId"] == "req-boom-1"
    assert "req-boom-1" in str(body["detail"])
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    (logged,) = [
        line for line in json_lines(log_stream) if line["event"] == "request.unhandled_exception"
    ]
    assert logged["request_id"] == "req-boom-1"
    assert logged["level"] == "error"
    assert "RuntimeError" in logged["exception"]


async def test_body_over_limit_is_413_problem(
    database_url: str, database: Database, idp: IdentityProvider
) -> None:
    settings = make_settings(database_url, idp.jwks_url, app={"max_request_body_bytes": 64})
    async with serving(settings, database) as client:
        response = await client.post(
            "/api/admin/companies",
            headers={"x-admin-key": ADMIN_KEY},
            json={"name": "x" * 200},
        )
    _problem_with_request_id(response, 413, "PAYLOAD_TOO_LARGE")


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}


async def test_readiness_with_database_down_is_503(
    database_url: str, idp: IdentityProvider
) -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    settings = make_settings(unreachable, idp.jwks_url)
    dead = Database.connect(unreachable, settings.db)
    try:
        async with serving(settings, dead) as client:
            response = await client.get("/health/ready")
            liveness = await client.get("/health")
    finally:
        await dead.dispose()
    body = _problem_with_request_id(response, 503, "DATABASE_UNAVAILABLE")
    assert body["retryable"] is True
    assert liveness.status_code == 200


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/api/auth/me" in schema["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_admin_routes_need_the_key(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/admin/companies", json={"name": "Acme"})
    _problem_with_request_id(missing, 401, "ADMIN_KEY_INVALID")
    wrong = await client.post(
        "/api/admin/companies", json={"name": "Acme"}, headers={"x-admin-key": ADMIN_KEY + "x"}
    )
    _problem_with_request_id(wrong, 401, "ADMIN_KEY_INVALID")


async def test_admin_routes_are_absent_without_a_configured_key(
    database_url: str, database: Database, idp: IdentityProvider
) -> None:
    settings = make_settings(database_url, idp.jwks_url, app={"admin_api_key": None})
    async with serving(settings, database) as client:
        response = await client.post(
            "/api/admin/companies", json={"name": "Acme"}, headers={"x-admin-key": ""}
        )
    _problem_with_request_id(response, 404, "NOT_FOUND")


async def test_admin_creates_company_and_recruiter(client: httpx.AsyncClient) -> None:
    headers = {"x-admin-key": ADMIN_KEY}
    created = await client.post("/api/admin/companies", json={"name": " Acme "}, headers=headers)
    assert created.status_code == 201, created.text
    company = created.json()
    assert company["name"] == "Acme"
    assert {"id", "createdAt"} <= company.keys()

    duplicate = await client.post("/api/admin/companies", json={"name": "ACME"}, headers=headers)
    _problem_with_request_id(duplicate, 409, "COMPANY_EXISTS")

    recruiter = await client.post(
        "/api/admin/recruiters",
        json={"companyId": company["id"], "email": "jane@acme.example", "name": "Jane"},
        headers=headers,
    )
    assert recruiter.status_code == 201, recruiter.text
    assert recruiter.json()["companyId"] == company["id"]

    again = await client.post(
        "/api/admin/recruiters",
        json={"companyId": company["id"], "email": "JANE@acme.example", "name": "Jane"},
        headers=headers,
    )
    _problem_with_request_id(again, 409, "RECRUITER_EXISTS")


async def test_admin_recruiter_for_unknown_company_is_404_and_bad_email_422(
    client: httpx.AsyncClient,
) -> None:
    headers = {"x-admin-key": ADMIN_KEY}
    unknown = await client.post(
        "/api/admin/recruiters",
        json={
            "companyId": 9223372036854775807,
            "email": "a@b.example",
            "name": "A",
        },
        headers=headers,
    )
    _problem_with_request_id(unknown, 404, "COMPANY_NOT_FOUND")
    bad = await client.post(
        "/api/admin/recruiters",
        json={"companyId": "not-a-number", "email": "nope", "name": ""},
        headers=headers,
    )
    body = _problem_with_request_id(bad, 422, "VALIDATION_FAILED")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {error["loc"][-1] for error in errors} == {"companyId", "email", "name"}


async def test_seed_is_idempotent(db_session: AsyncSession) -> None:
    company, users = await companies.seed_demo_data(db_session)
    again_company, again_users = await companies.seed_demo_data(db_session)
    assert again_company.id == company.id
    assert [user.id for user in again_users] == [user.id for user in users]
    assert {user.email for user in users} == {email for email, _ in companies.DEMO_RECRUITERS}


async def test_request_transaction_commits_on_success_and_rolls_back_on_error(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    @app.post("/probe/company/{name}", include_in_schema=False)
    async def create(name: str, session: DbSession, fail: bool = False) -> None:
        await companies.create_company(session, name)
        if fail:
            raise ConflictError("Changed my mind.", code="PROBE_FAILED")

    assert (await client.post("/probe/company/Kept")).status_code == 200
    assert (await client.post("/probe/company/Dropped?fail=true")).status_code == 409
    names = set((await db_session.scalars(select(Company.name))).all())
    assert "Kept" in names
    assert "Dropped" not in names
