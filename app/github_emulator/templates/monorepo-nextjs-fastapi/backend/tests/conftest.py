from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture
def client() -> TestClient:
    # A fresh app per test: every test starts from an empty store.
    return TestClient(create_app())


@pytest.fixture
def flat(client: TestClient) -> int:
    """A group of three flatmates; its id."""
    response = client.post("/groups", json={"name": "Flat 4B", "members": ["Ana", "Ben", "Cy"]})
    assert response.status_code == 201
    return int(response.json()["id"])
