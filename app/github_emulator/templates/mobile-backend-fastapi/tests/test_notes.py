from __future__ import annotations

from fastapi.testclient import TestClient


def test_putting_a_new_note_creates_it_at_version_1(client: TestClient) -> None:
    response = client.put("/notes/n1", json={"title": "Groceries", "body": "milk"})

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.json()["version"] == 1
    assert client.get("/notes/n1").json()["title"] == "Groceries"


def test_an_update_needs_the_version_it_edited(client: TestClient) -> None:
    client.put("/notes/n1", json={"title": "Groceries"})

    updated = client.put("/notes/n1", json={"title": "Shopping"}, headers={"If-Match": '"1"'})
    stale = client.put("/notes/n1", json={"title": "Old edit"}, headers={"If-Match": '"1"'})
    missing = client.put("/notes/n1", json={"title": "Blind write"})

    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert stale.status_code == 412
    assert stale.json()["detail"]["current"]["title"] == "Shopping"
    assert missing.status_code == 412
    assert client.get("/notes/n1").json()["title"] == "Shopping"


def test_updating_a_note_that_does_not_exist_is_404(client: TestClient) -> None:
    response = client.put("/notes/ghost", json={"title": "x"}, headers={"If-Match": '"1"'})
    assert response.status_code == 404


def test_a_malformed_if_match_or_note_id_is_rejected(client: TestClient) -> None:
    client.put("/notes/n1", json={"title": "x"})
    assert client.put("/notes/n1", json={"title": "y"}, headers={"If-Match": "v1"}).status_code == 400
    assert client.put("/notes/has space", json={"title": "x"}).status_code == 422


def test_deleting_leaves_a_tombstone_and_needs_the_version(client: TestClient) -> None:
    client.put("/notes/n1", json={"title": "x"})

    assert client.delete("/notes/n1", headers={"If-Match": '"7"'}).status_code == 412
    assert client.delete("/notes/n1", headers={"If-Match": '"1"'}).status_code == 204
    assert client.get("/notes/n1").status_code == 404
    assert client.delete("/notes/n1", headers={"If-Match": '"2"'}).status_code == 404
