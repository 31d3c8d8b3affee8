"""The template's tests/test_tasks.py, over HTTP against the candidate's running service.

Same names and checks as the candidate's copy, except where a shared service needs it: no
empty board (counts are compared before and after, lists are read at the end) and ids that
no test creates (`MISSING`).
"""

from __future__ import annotations

import httpx

MISSING = 999_999_999


def test_health(client: httpx.Client) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_create_task_returns_201_with_defaults(client: httpx.Client) -> None:
    response = client.post("/tasks", json={"title": "Buy milk"})

    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["title"] == "Buy milk"
    assert body["description"] == ""
    assert body["priority"] == "medium"
    assert body["due_date"] is None
    assert body["done"] is False
    assert body["completed_at"] is None
    assert body["created_at"]


def test_create_task_rejects_blank_title(client: httpx.Client, count_tasks) -> None:
    before = count_tasks()

    response = client.post("/tasks", json={"title": "   "})

    assert response.status_code == 422
    assert count_tasks() == before


def test_create_task_rejects_invalid_payloads(client: httpx.Client) -> None:
    invalid_payloads = [
        {},
        {"title": "x" * 201},
        {"title": "Ship it", "priority": "urgent"},
        {"title": "Ship it", "due_date": "next tuesday"},
        {"title": "Ship it", "owner": "alice"},
    ]
    for payload in invalid_payloads:
        response = client.post("/tasks", json=payload)
        assert response.status_code == 422, payload


def test_get_task(client: httpx.Client, make_task) -> None:
    created = make_task(
        "Plan sprint", description="Two weeks", priority="high", due_date="2030-01-31"
    )

    response = client.get(f"/tasks/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert response.json()["due_date"] == "2030-01-31"


def test_get_missing_task_returns_404(client: httpx.Client) -> None:
    response = client.get(f"/tasks/{MISSING}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"Task {MISSING} not found"}


def test_list_tasks_in_creation_order(client: httpx.Client, make_task, all_tasks) -> None:
    for title in ("first", "second", "third"):
        make_task(title)

    response = client.get("/tasks")

    assert response.status_code == 200
    body = response.json()
    assert body["page"] == 1
    assert body["page_size"] == 20
    assert len(body["items"]) == min(body["total"], 20)
    assert [task["title"] for task in all_tasks()[-3:]] == ["first", "second", "third"]


def test_list_tasks_paginates(client: httpx.Client, make_task, all_tasks) -> None:
    for number in range(1, 6):
        make_task(f"task {number}")
    everything = all_tasks()
    last_page = (len(everything) + 1) // 2

    pages = [
        client.get("/tasks", params={"page": page, "page_size": 2}).json()
        for page in range(1, last_page + 2)
    ]

    assert [task for page in pages for task in page["items"]] == everything
    assert [task["title"] for task in everything[-5:]] == [f"task {n}" for n in range(1, 6)]
    assert pages[-1]["items"] == []
    assert all(page["total"] == len(everything) for page in pages)


def test_list_tasks_rejects_invalid_paging(client: httpx.Client) -> None:
    for params in ({"page": 0}, {"page_size": 0}, {"page_size": 101}, {"page": "two"}):
        response = client.get("/tasks", params=params)
        assert response.status_code == 422, params


def test_update_task_changes_only_given_fields(client: httpx.Client, make_task) -> None:
    created = make_task("Draft blog post", description="About FastAPI")

    response = client.patch(f"/tasks/{created['id']}", json={"priority": "high"})

    assert response.status_code == 200
    body = response.json()
    assert body["priority"] == "high"
    assert body["title"] == "Draft blog post"
    assert body["description"] == "About FastAPI"
    assert client.get(f"/tasks/{created['id']}").json() == body


def test_update_task_can_clear_due_date(client: httpx.Client, make_task) -> None:
    created = make_task("Renew passport", due_date="2030-06-01")

    response = client.patch(f"/tasks/{created['id']}", json={"due_date": None})

    assert response.status_code == 200
    assert response.json()["due_date"] is None


def test_update_task_validates_input(client: httpx.Client, make_task) -> None:
    created = make_task("Water plants")

    assert client.patch(f"/tasks/{created['id']}", json={"title": None}).status_code == 422
    assert client.patch(f"/tasks/{created['id']}", json={"priority": "asap"}).status_code == 422
    assert client.patch(f"/tasks/{created['id']}", json={"done": True}).status_code == 422
    assert client.patch(f"/tasks/{MISSING}", json={"title": "Nope"}).status_code == 404
    assert client.get(f"/tasks/{created['id']}").json() == created


def test_complete_task(client: httpx.Client, make_task) -> None:
    created = make_task("Call the plumber")

    response = client.post(f"/tasks/{created['id']}/complete")

    assert response.status_code == 200
    body = response.json()
    assert body["done"] is True
    assert body["completed_at"] is not None
    assert client.get(f"/tasks/{created['id']}").json()["done"] is True
    assert client.post(f"/tasks/{MISSING}/complete").status_code == 404


def test_complete_task_twice_returns_409(client: httpx.Client, make_task) -> None:
    created = make_task("Pay rent")
    first = client.post(f"/tasks/{created['id']}/complete")

    second = client.post(f"/tasks/{created['id']}/complete")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json() == {"detail": f"Task {created['id']} is already completed"}


def test_delete_task(client: httpx.Client, make_task) -> None:
    kept = make_task("Keep me")
    removed = make_task("Remove me")

    response = client.delete(f"/tasks/{removed['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/tasks/{removed['id']}").status_code == 404
    assert client.get(f"/tasks/{kept['id']}").status_code == 200
    assert client.delete(f"/tasks/{removed['id']}").status_code == 404
