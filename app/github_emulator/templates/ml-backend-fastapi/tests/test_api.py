from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_model_info(client: TestClient) -> None:
    info = client.get("/model").json()
    assert info["version"] == "sentiment-nb-1"
    assert info["labels"] == ["negative", "positive"]
    assert info["training_examples"] == 12
    assert info["vocabulary_size"] > 30


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("great quality, very happy", "positive"),
        ("broke after a day, terrible", "negative"),
        ("slow and disappointed", "negative"),
    ],
)
def test_predict_labels_clear_reviews(client: TestClient, text: str, label: str) -> None:
    response = client.post("/predict", json={"text": text})

    assert response.status_code == 200
    body = response.json()
    assert body["label"] == label
    assert body["confidence"] == body["probabilities"][label] > 0.5
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert body["model_version"] == "sentiment-nb-1"


def test_predict_counts_known_tokens(client: TestClient) -> None:
    body = client.post("/predict", json={"text": "Great qwertyuiop battery"}).json()
    assert body["known_tokens"] == 2


def test_batch_predicts_each_text_in_order(client: TestClient) -> None:
    texts = ["love it", "waste of money", "excellent value"]
    response = client.post("/predict/batch", json={"texts": texts})

    assert response.status_code == 200
    assert [p["label"] for p in response.json()] == ["positive", "negative", "positive"]


def test_batch_size_is_bounded(client: TestClient) -> None:
    assert client.post("/predict/batch", json={"texts": ["ok"] * 32}).status_code == 200
    assert client.post("/predict/batch", json={"texts": ["ok"] * 33}).status_code == 422
    assert client.post("/predict/batch", json={"texts": []}).status_code == 422


def test_empty_text_is_422(client: TestClient) -> None:
    assert client.post("/predict", json={"text": ""}).status_code == 422
