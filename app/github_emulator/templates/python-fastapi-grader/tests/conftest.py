"""Taskboard helpers over the shared service (the grader's root conftest.py starts it).

Every test talks to one service, so tests never assume an empty board: they work with the
tasks they create and with counts read before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest


@pytest.fixture
def make_task(client: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Create a task through the API and return its JSON body."""

    def _make(title: str = "Write the report", **fields: Any) -> dict[str, Any]:
        response = client.post("/tasks", json={"title": title, **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return _make


def total_tasks(client: httpx.Client) -> int:
    """How many tasks the shared service holds (other tests' tasks included)."""
    total: int = client.get("/tasks", params={"page_size": 1}).json()["total"]
    return total


@pytest.fixture
def count_tasks(client: httpx.Client) -> Callable[[], int]:
    return lambda: total_tasks(client)


@pytest.fixture
def all_tasks(client: httpx.Client) -> Callable[[], list[dict[str, Any]]]:
    """Every task of the service in list order, read page by page at the largest page size."""

    def _all() -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = []
        total = total_tasks(client)
        for page in range(1, total // 100 + 2):
            body = client.get("/tasks", params={"page": page, "page_size": 100}).json()
            assert body["total"] == total
            tasks += body["items"]
        return tasks

    return _all
