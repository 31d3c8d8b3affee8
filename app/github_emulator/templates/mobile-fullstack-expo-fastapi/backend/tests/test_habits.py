from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_a_new_habit_starts_with_no_streak(client: TestClient) -> None:
    response = client.post("/habits", json={"name": "  Stretch "})

    assert response.status_code == 201
    assert response.json() == {
        "id": 1,
        "name": "Stretch",
        "done_today": False,
        "current_streak": 0,
        "longest_streak": 0,
        "total": 0,
        "last_7_days": [False] * 7,
    }
    assert [habit["name"] for habit in client.get("/habits").json()] == ["Stretch"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 41], ids=["empty", "blank", "too long"])
def test_a_habit_name_is_1_to_40_characters(client: TestClient, name: str) -> None:
    assert client.post("/habits", json={"name": name}).status_code == 422


def test_a_habit_name_is_taken_whatever_its_case(client: TestClient, habit: int) -> None:
    response = client.post("/habits", json={"name": "READ"})

    assert response.status_code == 409
    assert len(client.get("/habits").json()) == 1


def test_an_unknown_habit_is_404(client: TestClient) -> None:
    assert client.get("/habits/9").status_code == 404
    assert client.put("/habits/9/checkins/2026-03-01").status_code == 404
    assert client.delete("/habits/9/checkins/2026-03-01").status_code == 404
