"""Small helpers for driving the API in tests."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM_CONTENT_TYPE = "application/problem+json"
# What an API client that knows RFC 9457 sends; without it errors come as application/json.
API_CLIENT_HEADERS = {"Accept": f"{PROBLEM_CONTENT_TYPE}, application/json"}

TEXT_TASKS = [
    {"dayIndex": 1, "type": "design", "title": "Design", "description": "Design it."},
    {"dayIndex": 2, "type": "handoff", "title": "Handoff", "description": "Hand it over."},
    {"dayIndex": 3, "type": "documentation", "title": "Docs", "description": "Document it."},
]
SIMULATION = {
    "title": "Payments backend",
    "role": "Backend Engineer",
    "techStack": "Python, FastAPI",
    "seniority": "Senior",
    "focus": "APIs",
    "templateKey": "python-fastapi",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


def assert_ids(*values: object) -> None:
    """Each value is an entity id as the API gives it out: a positive integer (SPEC §4)."""
    for value in values:
        assert type(value) is int, value
        assert value > 0, value


async def create_simulation(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post("/api/simulations", json=SIMULATION | overrides, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
