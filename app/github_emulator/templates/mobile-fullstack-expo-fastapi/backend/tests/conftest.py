from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture
def client() -> TestClient:
    # A fresh app per test: every test starts from an empty store.
    return TestClient(create_app())


@pytest.fixture
def habit(client: TestClient) -> int:
    """A new habit's id."""
    response = client.post("/habits", json={"name": "Read"})
    assert response.status_code == 201
    return int(response.json()["id"])
