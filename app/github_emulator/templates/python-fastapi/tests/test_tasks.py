from __future__ import annotations

from fastapi.testclient import TestClient


def test_health(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_create_task_returns_201_with_defaults(client: TestClient) -> None:
    response = client.post("/tasks", json={"title": "Buy milk"})

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == 1
    assert body["title"] == "Buy milk"
    assert body["description"] == ""
    assert body["priority"] == "medium"
    assert body["due_date"] is None
    assert body["done"] is False
    assert body["completed_at"] is None
    assert body["created_at"]


def test_create_task_rejects_blank_title(client: TestClient) -> None:
    response = client.post("/tasks", json={"title": "   "})

    assert response.status_code == 422
    assert client.get("/tasks").json()["total"] == 0


def test_create_task_rejects_invalid_payloads(client: TestClient) -> None:
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


def test_get_task(client: TestClient, make_task) -> None:
    created = make_task(
        "Plan sprint", description="Two weeks", priority="high", due_date="2030-01-31"
    )

    response = client.get(f"/tasks/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert response.json()["due_date"] == "2030-01-31"


def test_get_missing_task_returns_404(client: TestClient) -> None:
    response = client.get("/tasks/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task 999 not found"}


def test_list_tasks_in_creation_order(client: TestClient, make_task) -> None:
    for title in ("first", "second", "third"):
        make_task(title)

    response = client.get("/tasks")

    assert response.status_code == 200
    body = response.json()
    assert [task["title"] for task in body["items"]] == ["first", "second", "third"]
    assert body["total"] == 3
    assert body["page"] == 1
    assert body["page_size"] == 20


def test_list_tasks_paginates(client: TestClient, make_task) -> None:
    for number in range(1, 6):
        make_task(f"task {number}")

    pages = [
        client.get("/tasks", params={"page": page, "page_size": 2}).json() for page in (1, 2, 3, 4)
    ]

    assert [[task["title"] for task in page["items"]] for page in pages] == [
        ["task 1", "task 2"],
        ["task 3", "task 4"],
        ["task 5"],
        [],
    ]
    assert all(page["total"] == 5 for page in pages)


def test_list_tasks_rejects_invalid_paging(client: TestClient) -> None:
    for params in ({"page": 0}, {"page_size": 0}, {"page_size": 101}, {"page": "two"}):
        response = client.get("/tasks", params=params)
        assert response.status_code == 422, params


def test_update_task_changes_only_given_fields(client: TestClient, make_task) -> None:
    created = make_task("Draft blog post", description="About FastAPI")

    response = client.patch(f"/tasks/{created['id']}", json={"priority": "high"})

    assert response.status_code == 200
    body = response.json()
    assert body["priority"] == "high"
    assert body["title"] == "Draft blog post"
    assert body["description"] == "About FastAPI"
    assert client.get(f"/tasks/{created['id']}").json() == body


def test_update_task_can_clear_due_date(client: TestClient, make_task) -> None:
    created = make_task("Renew passport", due_date="2030-06-01")

    response = client.patch(f"/tasks/{created['id']}", json={"due_date": None})

    assert response.status_code == 200
    assert response.json()["due_date"] is None


def test_update_task_validates_input(client: TestClient, make_task) -> None:
    created = make_task("Water plants")

    assert client.patch(f"/tasks/{created['id']}", json={"title": None}).status_code == 422
    assert client.patch(f"/tasks/{created['id']}", json={"priority": "asap"}).status_code == 422
    assert client.patch(f"/tasks/{created['id']}", json={"done": True}).status_code == 422
    assert client.patch("/tasks/999", json={"title": "Nope"}).status_code == 404
    assert client.get(f"/tasks/{created['id']}").json() == created


def test_complete_task(client: TestClient, make_task) -> None:
    created = make_task("Call the plumber")

    response = client.post(f"/tasks/{created['id']}/complete")

    assert response.status_code == 200
    body = response.json()
    assert body["done"] is True
    assert body["completed_at"] is not None
    assert client.get(f"/tasks/{created['id']}").json()["done"] is True
    assert client.post("/tasks/999/complete").status_code == 404


def test_complete_task_twice_returns_409(client: TestClient, make_task) -> None:
    created = make_task("Pay rent")
    first = client.post(f"/tasks/{created['id']}/complete")

    second = client.post(f"/tasks/{created['id']}/complete")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json() == {"detail": f"Task {created['id']} is already completed"}


def test_delete_task(client: TestClient, make_task) -> None:
    kept = make_task("Keep me")
    removed = make_task("Remove me")

    response = client.delete(f"/tasks/{removed['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/tasks/{removed['id']}").status_code == 404
    assert client.get(f"/tasks/{kept['id']}").status_code == 200
    assert client.delete(f"/tasks/{removed['id']}").status_code == 404
