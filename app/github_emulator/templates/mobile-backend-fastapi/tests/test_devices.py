from __future__ import annotations

from fastapi.testclient import TestClient

TOKEN = "apns-token-0001"


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_registering_a_device_returns_it(client: TestClient) -> None:
    response = client.post("/devices", json={"platform": "ios", "push_token": TOKEN})

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == 1
    assert (body["platform"], body["push_token"]) == ("ios", TOKEN)


def test_registering_the_same_token_again_refreshes_the_device(client: TestClient) -> None:
    first = client.post("/devices", json={"platform": "ios", "push_token": TOKEN})
    again = client.post("/devices", json={"platform": "ios", "push_token": f"  {TOKEN}  "})
    other = client.post("/devices", json={"platform": "android", "push_token": "fcm-token-02"})

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 201
    assert other.json()["id"] == 2


def test_unknown_platforms_and_short_tokens_are_422(client: TestClient) -> None:
    assert client.post("/devices", json={"platform": "web", "push_token": TOKEN}).status_code == 422
    assert client.post("/devices", json={"platform": "ios", "push_token": "x"}).status_code == 422
