"""Hidden tests aimed at the debug variant's planted regressions, one area each.

The grader's other tests come from the code variant's grader (this repository's layer).
"""

from __future__ import annotations

import httpx


def test_completing_a_task_twice_is_409_and_keeps_the_first_completion(
    client: httpx.Client, make_task
) -> None:
    created = make_task("Complete me once")
    first = client.post(f"/tasks/{created['id']}/complete").json()

    again = client.post(f"/tasks/{created['id']}/complete")

    assert again.status_code == 409
    assert client.get(f"/tasks/{created['id']}").json() == first


def test_a_whitespace_only_title_is_rejected_on_create_and_update(
    client: httpx.Client, make_task, count_tasks
) -> None:
    created = make_task("Keep my title")
    before = count_tasks()

    assert client.post("/tasks", json={"title": "    "}).status_code == 422
    assert client.patch(f"/tasks/{created['id']}", json={"title": "  "}).status_code == 422

    assert count_tasks() == before
    assert client.get(f"/tasks/{created['id']}").json() == created


def test_the_first_page_holds_the_oldest_tasks(
    client: httpx.Client, make_task, count_tasks
) -> None:
    make_task("Make sure the board is not empty")
    total = count_tasks()
    page_size = min(total, 100)

    first_page = client.get("/tasks", params={"page": 1, "page_size": page_size}).json()
    one_by_one = [
        client.get("/tasks", params={"page": n, "page_size": 1}).json()["items"]
        for n in range(1, 3)
    ]

    assert len(first_page["items"]) == page_size
    assert [page[0] for page in one_by_one if page] == first_page["items"][:2]
