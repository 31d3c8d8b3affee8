from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _sync(client: TestClient, cursor: int, limit: int = 50) -> dict[str, Any]:
    response = client.get("/sync", params={"cursor": cursor, "limit": limit})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_a_first_sync_gets_every_note(client: TestClient) -> None:
    for n in range(3):
        client.put(f"/notes/n{n}", json={"title": f"Note {n}"})

    page = _sync(client, 0)

    assert [note["id"] for note in page["changes"]] == ["n0", "n1", "n2"]
    assert page["has_more"] is False


def test_the_next_sync_gets_only_what_changed_since_its_cursor(client: TestClient) -> None:
    client.put("/notes/a", json={"title": "A"})
    client.put("/notes/b", json={"title": "B"})
    cursor = _sync(client, 0)["cursor"]

    client.put("/notes/a", json={"title": "A2"}, headers={"If-Match": '"1"'})
    client.put("/notes/c", json={"title": "C"})
    page = _sync(client, cursor)

    assert [(note["id"], note["title"]) for note in page["changes"]] == [("a", "A2"), ("c", "C")]
    assert _sync(client, page["cursor"])["changes"] == []


def test_a_note_changed_twice_is_sent_once_in_its_latest_state(client: TestClient) -> None:
    client.put("/notes/a", json={"title": "v1"})
    client.put("/notes/a", json={"title": "v2"}, headers={"If-Match": '"1"'})

    page = _sync(client, 0)

    assert [(note["id"], note["version"]) for note in page["changes"]] == [("a", 2)]


def test_deletions_reach_devices_as_tombstones(client: TestClient) -> None:
    client.put("/notes/a", json={"title": "A"})
    cursor = _sync(client, 0)["cursor"]
    client.delete("/notes/a", headers={"If-Match": '"1"'})

    [tombstone] = _sync(client, cursor)["changes"]

    assert (tombstone["id"], tombstone["deleted"]) == ("a", True)


def test_sync_pages_through_many_changes_without_gaps(client: TestClient) -> None:
    for n in range(7):
        client.put(f"/notes/n{n}", json={"title": str(n)})

    seen, cursor = [], 0
    while True:
        page = _sync(client, cursor, limit=3)
        seen += [note["id"] for note in page["changes"]]
        cursor = page["cursor"]
        if not page["has_more"]:
            break

    assert seen == [f"n{n}" for n in range(7)]


def test_bad_cursors_and_limits_are_422(client: TestClient) -> None:
    assert client.get("/sync", params={"cursor": -1}).status_code == 422
    assert client.get("/sync", params={"limit": 0}).status_code == 422
    assert client.get("/sync", params={"limit": 101}).status_code == 422
