from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_a_group_is_created_with_trimmed_names_and_can_be_read_back(client: TestClient) -> None:
    response = client.post("/groups", json={"name": "  Lisbon trip ", "members": [" Ana", "Ben "]})

    assert response.status_code == 201
    group = response.json()
    assert group == {"id": 1, "name": "Lisbon trip", "members": ["Ana", "Ben"]}
    assert client.get(f"/groups/{group['id']}").json() == group


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Solo", "members": ["Ana"]},
        {"name": "Twins", "members": ["Ana", "ana"]},
        {"name": "Blank", "members": ["Ana", "   "]},
        {"name": "", "members": ["Ana", "Ben"]},
        {"name": "Crowd", "members": [f"member {n}" for n in range(13)]},
    ],
    ids=["one member", "same name twice", "blank member", "no name", "too many members"],
)
def test_a_group_needs_a_name_and_two_to_twelve_distinct_members(
    client: TestClient, body: dict[str, object]
) -> None:
    assert client.post("/groups", json=body).status_code == 422


def test_an_unknown_group_is_404(client: TestClient) -> None:
    assert client.get("/groups/99").status_code == 404
    assert client.get("/groups/99/balances").status_code == 404
    expense = {"description": "Milk", "amount_cents": 100, "paid_by": "Ana"}
    assert client.post("/groups/99/expenses", json=expense).status_code == 404
