"""The HTTP API of the model registry."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from app import drift
from app.registry import ModelVersion, PromotionRefused, Registry, Stage

class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics: dict[str, float] = Field(default_factory=dict)
    # Per feature: the training data's histogram (counts per bin).
    reference_histograms: dict[str, list[int]] = Field(default_factory=dict)


class VersionOut(BaseModel):
    model: str
    version: int
    stage: Stage
    metrics: dict[str, float]
    promoted_at: datetime | None


class GateIn(BaseModel):
    metric: str
    threshold: float


class PromoteIn(BaseModel):
    stage: Stage


class DriftIn(BaseModel):
    histograms: dict[str, list[int]]


class FeatureDrift(BaseModel):
    feature: str
    psi: float
    severity: str


class DriftOut(BaseModel):
    model: str
    version: int
    features: list[FeatureDrift]
    # Whether any feature drifted badly enough to retrain.
    retrain: bool


def _out(version: ModelVersion) -> VersionOut:
    return VersionOut(
        model=version.model,
        version=version.version,
        stage=version.stage,
        metrics=version.metrics,
        promoted_at=version.promoted_at,
    )


def create_app() -> FastAPI:
    app = FastAPI(title="Model Registry")
    registry = Registry()

    def lookup(model: str, number: int) -> ModelVersion:
        try:
            return registry.get(model, number)
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such model version") from None

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.put("/models/{model}/gate")
    def set_gate(model: str, body: GateIn) -> GateIn:
        registry.gates[model] = (body.metric, body.threshold)
        return body

    @app.post("/models/{model}/versions", status_code=status.HTTP_201_CREATED)
    def register(model: str, body: VersionIn) -> VersionOut:
        return _out(registry.register(model, body.metrics, body.reference_histograms))

    @app.get("/models/{model}/versions")
    def versions(model: str) -> list[VersionOut]:
        return [_out(version) for version in registry.versions.get(model, [])]

    @app.get("/models/{model}/production")
    def production(model: str) -> VersionOut:
        version = registry.production(model)
        if version is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no version in production")
        return _out(version)

    @app.post("/models/{model}/versions/{number}/promote")
    def promote(model: str, number: int, body: PromoteIn) -> VersionOut:
        lookup(model, number)
        try:
            return _out(registry.promote(model, number, body.stage))
        except PromotionRefused as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None

    @app.post("/models/{model}/versions/{number}/drift")
    def check_drift(model: str, number: int, body: DriftIn) -> DriftOut:
        version = lookup(model, number)
        features = []
        for feature, reference in sorted(version.reference_histograms.items()):
            current = body.histograms.get(feature)
            if current is None:
                continue
            try:
                value = drift.psi(reference, current)
            except ValueError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
            features.append(
                FeatureDrift(feature=feature, psi=round(value, 4), severity=drift.severity(value))
            )
        retrain = any(feature.severity == "major" for feature in features)
        return DriftOut(model=model, version=number, features=features, retrain=retrain)

    return app


app = create_app()
