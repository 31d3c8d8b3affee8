"""Registered model versions and the rules for moving them between stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Stage = Literal["none", "staging", "production", "archived"]


class PromotionRefused(Exception):
    pass


@dataclass
class ModelVersion:
    model: str
    version: int
    metrics: dict[str, float]
    stage: Stage = "none"
    reference_histograms: dict[str, list[int]] = field(default_factory=dict)
    promoted_at: datetime | None = None


@dataclass
class Registry:
    # The metric a version must reach before production, per model (e.g. "auc": 0.8).
    gates: dict[str, tuple[str, float]] = field(default_factory=dict)
    versions: dict[str, list[ModelVersion]] = field(default_factory=dict)

    def register(
        self, model: str, metrics: dict[str, float], histograms: dict[str, list[int]]
    ) -> ModelVersion:
        existing = self.versions.setdefault(model, [])
        version = ModelVersion(
            model, len(existing) + 1, metrics, reference_histograms=histograms
        )
        existing.append(version)
        return version

    def get(self, model: str, number: int) -> ModelVersion:
        versions = self.versions.get(model, [])
        if not 1 <= number <= len(versions):
            raise KeyError(f"{model} v{number}")
        return versions[number - 1]

    def production(self, model: str) -> ModelVersion | None:
        return next(
            (v for v in self.versions.get(model, []) if v.stage == "production"), None
        )

    def promote(self, model: str, number: int, stage: Stage) -> ModelVersion:
        """Move a version to `stage`. Production needs staging first and the model's gate
        met (the metric at least the threshold); the previous production is archived."""
        version = self.get(model, number)
        if version.stage == "archived":
            raise PromotionRefused("archived versions cannot be promoted")
        if stage == "production":
            if version.stage != "staging":
                raise PromotionRefused("only a staging version can go to production")
            gate = self.gates.get(model)
            if gate is not None:
                metric, threshold = gate
                value = version.metrics.get(metric)
                if value is None or value <= threshold:
                    raise PromotionRefused(f"{metric} must be at least {threshold}")
            current = self.production(model)
            # Never archive a newer version than the one being promoted.
            if current is not None and current.version > version.version:
                current.stage = "archived"
        version.stage = stage
        version.promoted_at = datetime.now(UTC)
        return version
