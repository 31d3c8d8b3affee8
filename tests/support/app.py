"""Building the application under test: settings for the test tenant, the lifespan, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.db import Database
from app.core.settings import (
    AppSettings,
    AuthSettings,
    DatabaseSettings,
    EmailSettings,
    GitHubSettings,
    JobSettings,
    RateLimitSettings,
    Settings,
    StorageSettings,
)
from app.main import create_app
from tests.support.api import API_CLIENT_HEADERS
from tests.support.identity import AUDIENCE, ISSUER
from tests.support.openapi import documented_answers_only

ADMIN_KEY = "test-admin-key"
WEBHOOK_SECRET = "test-webhook-secret"


def make_settings(
    database_url: str,
    jwks_url: str,
    *,
    app: dict[str, Any] | None = None,
    jobs: dict[str, Any] | None = None,
    github: dict[str, Any] | None = None,
    email: dict[str, Any] | None = None,
    rate_limit: dict[str, Any] | None = None,
    storage: StorageSettings | None = None,
    **auth: Any,
) -> Settings:
    """Settings for the test tenant; each group's fields can be overridden (the storage as a
    whole: see tests/support/media.py)."""
    return Settings(
        app=AppSettings(
            _env_file=None, **({"env": "test", "admin_api_key": ADMIN_KEY} | (app or {}))
        ),
        db=DatabaseSettings(_env_file=None, database_url=database_url),
        auth=AuthSettings(
            _env_file=None,
            **({"issuer": ISSUER, "api_audience": AUDIENCE, "jwks_url": jwks_url} | auth),
        ),
        # The in-process worker stays off: a test's app shares the test's transaction.
        jobs=JobSettings(_env_file=None, **({"in_process": False} | (jobs or {}))),
        github=GitHubSettings(
            _env_file=None, **({"webhook_secret": WEBHOOK_SECRET} | (github or {}))
        ),
        email=EmailSettings(_env_file=None, **({"email_provider": "console"} | (email or {}))),
        rate_limit=RateLimitSettings(
            _env_file=None, **({"storage_uri": "memory://"} | (rate_limit or {}))
        ),
        storage=storage or StorageSettings(_env_file=None),
    )


@asynccontextmanager
async def running_app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    app = create_app(settings, database=database)
    async with app.router.lifespan_context(app):
        yield app


def client_for(app: FastAPI, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client for the app; an answer its OpenAPI document does not list fails the request."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(peer, 50000))
    return httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers=API_CLIENT_HEADERS,
        event_hooks={"response": [documented_answers_only(app)]},
    )


@asynccontextmanager
async def serving(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app started with these settings, for tests that need non-default ones."""
    async with running_app(settings, database) as app, client_for(app) as client:
        yield client
