from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client for a fresh app with an empty store."""
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def make_task(client: TestClient) -> Callable[..., dict[str, Any]]:
    """Create a task through the API and return its JSON body."""

    def _make(title: str = "Write the report", **fields: Any) -> dict[str, Any]:
        response = client.post("/tasks", json={"title": title, **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return _make
