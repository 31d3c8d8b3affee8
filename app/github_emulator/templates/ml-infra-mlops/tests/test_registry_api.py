from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

HISTOGRAMS = {"age": [10, 40, 40, 10], "income": [25, 25, 25, 25]}


def _register(client: TestClient, auc: float, **extra: Any) -> dict[str, Any]:
    body = {"metrics": {"auc": auc}, "reference_histograms": HISTOGRAMS} | extra
    response = client.post("/models/churn/versions", json=body)
    assert response.status_code == 201
    result: dict[str, Any] = response.json()
    return result


def _promote(client: TestClient, number: int, stage: str) -> Any:
    return client.post(f"/models/churn/versions/{number}/promote", json={"stage": stage})


def test_versions_are_numbered_per_model(client: TestClient) -> None:
    assert _register(client, 0.7)["version"] == 1
    assert _register(client, 0.8)["version"] == 2
    assert [v["stage"] for v in client.get("/models/churn/versions").json()] == ["none", "none"]


def test_production_needs_staging_first(client: TestClient) -> None:
    _register(client, 0.9)
    refused = _promote(client, 1, "production")
    assert refused.status_code == 409
    assert _promote(client, 1, "staging").status_code == 200
    assert _promote(client, 1, "production").json()["stage"] == "production"
    assert client.get("/models/churn/production").json()["version"] == 1


def test_the_gate_is_met_at_exactly_the_threshold(client: TestClient) -> None:
    client.put("/models/churn/gate", json={"metric": "auc", "threshold": 0.8})
    _register(client, 0.79)
    _register(client, 0.8)
    for number in (1, 2):
        _promote(client, number, "staging")

    low = _promote(client, 1, "production")
    exact = _promote(client, 2, "production")

    assert low.status_code == 409
    assert low.json()["detail"] == "auc must be at least 0.8"
    assert exact.status_code == 200


def test_promoting_archives_the_previous_production(client: TestClient) -> None:
    for auc in (0.8, 0.9):
        _register(client, auc)
    for number in (1, 2):
        _promote(client, number, "staging")
        _promote(client, number, "production")

    stages = [v["stage"] for v in client.get("/models/churn/versions").json()]
    assert stages == ["archived", "production"]
    assert _promote(client, 1, "staging").status_code == 409


def test_unknown_versions_are_404(client: TestClient) -> None:
    assert _promote(client, 1, "staging").status_code == 404
    assert client.get("/models/churn/production").status_code == 404


def test_drift_report_flags_features_that_moved(client: TestClient) -> None:
    _register(client, 0.8)
    response = client.post(
        "/models/churn/versions/1/drift",
        json={"histograms": {"age": [10, 40, 40, 10], "income": [70, 20, 5, 5]}},
    )

    assert response.status_code == 200
    report = response.json()
    assert [(f["feature"], f["severity"]) for f in report["features"]] == [
        ("age", "stable"),
        ("income", "major"),
    ]
    assert report["features"][0]["psi"] == 0.0
    assert report["retrain"] is True


def test_drift_with_other_bins_is_422(client: TestClient) -> None:
    _register(client, 0.8)
    response = client.post(
        "/models/churn/versions/1/drift", json={"histograms": {"age": [1, 2]}}
    )
    assert response.status_code == 422
