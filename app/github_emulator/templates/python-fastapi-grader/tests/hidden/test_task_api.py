"""Hidden tests: the documented API's edge cases (README "The API" and its validation rules)."""

from __future__ import annotations

from datetime import datetime

import httpx

MISSING = 999_999_999


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_title_is_trimmed_and_its_length_counts_after_trimming(
    client: httpx.Client, make_task
) -> None:
    assert make_task("  Trim me  ")["title"] == "Trim me"
    longest = "x" * 200
    assert make_task(f"   {longest}   ")["title"] == longest
    assert client.post("/tasks", json={"title": "\t \n"}).status_code == 422


def test_description_and_priority_limits(client: httpx.Client, make_task) -> None:
    assert make_task("Long notes", description="d" * 2000)["description"] == "d" * 2000
    assert (
        client.post("/tasks", json={"title": "Too long", "description": "d" * 2001}).status_code
        == 422
    )
    for priority in ("low", "medium", "high"):
        assert make_task("Ranked", priority=priority)["priority"] == priority
    assert client.post("/tasks", json={"title": "Shouting", "priority": "HIGH"}).status_code == 422


def test_due_date_must_be_a_real_iso_date(client: httpx.Client, make_task) -> None:
    assert make_task("Leap day", due_date="2032-02-29")["due_date"] == "2032-02-29"
    for due_date in ("2031-02-29", "2030-13-01", "31/01/2030"):
        response = client.post("/tasks", json={"title": "Bad date", "due_date": due_date})
        assert response.status_code == 422, due_date


def test_ids_are_distinct_and_a_task_reads_back_as_created(client: httpx.Client, make_task) -> None:
    created = [make_task(f"Numbered {n}") for n in range(3)]

    assert len({task["id"] for task in created}) == 3
    for task in created:
        assert client.get(f"/tasks/{task['id']}").json() == task


def test_patch_rejects_null_for_required_fields_and_unknown_fields(
    client: httpx.Client, make_task
) -> None:
    created = make_task("Untouchable", description="as created", priority="low")

    for body in ({"description": None}, {"priority": None}, {"title": ""}, {"owner": "bob"}):
        response = client.patch(f"/tasks/{created['id']}", json=body)
        assert response.status_code == 422, body
    assert client.get(f"/tasks/{created['id']}").json() == created


def test_patch_trims_the_title_and_an_empty_body_changes_nothing(
    client: httpx.Client, make_task
) -> None:
    created = make_task("Before")

    renamed = client.patch(f"/tasks/{created['id']}", json={"title": "  After  "})
    unchanged = client.patch(f"/tasks/{created['id']}", json={})

    assert renamed.status_code == 200
    assert renamed.json()["title"] == "After"
    assert unchanged.status_code == 200
    assert unchanged.json() == renamed.json()


def test_completion_sets_completed_at_and_keeps_the_rest(client: httpx.Client, make_task) -> None:
    created = make_task("Finish me", description="soon", priority="high", due_date="2030-03-01")

    completed = client.post(f"/tasks/{created['id']}/complete").json()

    assert completed["done"] is True
    assert _when(completed["completed_at"]) >= _when(created["created_at"])
    unchanged = {
        key: value for key, value in completed.items() if key not in ("done", "completed_at")
    }
    assert unchanged == {
        key: value for key, value in created.items() if key not in ("done", "completed_at")
    }


def test_a_completed_task_can_still_be_edited_and_deleted(client: httpx.Client, make_task) -> None:
    created = make_task("Done but renamed")
    client.post(f"/tasks/{created['id']}/complete")

    renamed = client.patch(f"/tasks/{created['id']}", json={"title": "Renamed"})

    assert renamed.status_code == 200
    assert renamed.json()["done"] is True
    assert client.delete(f"/tasks/{created['id']}").status_code == 204


def test_a_deleted_task_is_gone_for_every_route(
    client: httpx.Client, make_task, count_tasks
) -> None:
    created = make_task("Short-lived")
    before = count_tasks()

    assert client.delete(f"/tasks/{created['id']}").status_code == 204

    assert count_tasks() == before - 1
    assert client.get(f"/tasks/{created['id']}").status_code == 404
    assert client.patch(f"/tasks/{created['id']}", json={"title": "Back"}).status_code == 404
    assert client.post(f"/tasks/{created['id']}/complete").status_code == 404
    assert client.delete(f"/tasks/{created['id']}").status_code == 404


def test_unknown_ids_are_404_and_non_numeric_ids_422(client: httpx.Client) -> None:
    assert client.get(f"/tasks/{MISSING}").status_code == 404
    assert client.patch(f"/tasks/{MISSING}", json={}).status_code == 404
    assert client.delete(f"/tasks/{MISSING}").status_code == 404
    assert client.get("/tasks/first").status_code == 422


def test_paging_bounds_and_a_page_past_the_end(
    client: httpx.Client, make_task, count_tasks
) -> None:
    newest = make_task("Newest of all")
    total = count_tasks()

    last = client.get("/tasks", params={"page": total, "page_size": 1})
    past = client.get("/tasks", params={"page": total + 1, "page_size": 1})
    widest = client.get("/tasks", params={"page_size": 100})

    assert last.json()["items"] == [newest]
    assert past.status_code == 200
    assert past.json() == {"items": [], "total": total, "page": total + 1, "page_size": 1}
    assert widest.status_code == 200
    assert len(widest.json()["items"]) == min(total, 100)
    assert client.get("/tasks", params={"page": -1}).status_code == 422
