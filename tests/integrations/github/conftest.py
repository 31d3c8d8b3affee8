"""Fixtures of the GitHub client tests: a fake clock, GitHub's API mocked with respx, and a
client wired to both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from app.core.metrics import Metrics
from app.integrations.github.client import GitHubClient
from tests.support.github_client import FakeTime, make_client


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def github(http: httpx.AsyncClient, fake_time: FakeTime, metrics: Metrics) -> GitHubClient:
    return make_client(http, fake_time, metrics=metrics)
