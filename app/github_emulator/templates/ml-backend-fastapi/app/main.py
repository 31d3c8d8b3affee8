"""The HTTP API: predictions one at a time or in batches, and what model serves them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from fastapi import FastAPI

from app.model import NaiveBayes, tokenize
from app.training import REVIEWS

MODEL_VERSION = "sentiment-nb-1"
MAX_BATCH = 32


class PredictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5_000)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(min_length=1, max_length=MAX_BATCH)


class Prediction(BaseModel):
    label: str
    # The winning label's probability.
    confidence: float
    probabilities: dict[str, float]
    # How many of the text's words the model knows; 0 means the label is just the prior.
    known_tokens: int
    model_version: str


class ModelInfo(BaseModel):
    version: str
    labels: list[str]
    vocabulary_size: int
    training_examples: int


def _predict(model: NaiveBayes, text: str) -> Prediction:
    probabilities = model.predict_proba(text)
    label = max(model.labels, key=lambda name: probabilities[name])
    return Prediction(
        label=label,
        confidence=round(probabilities[label], 6),
        probabilities={name: round(p, 6) for name, p in probabilities.items()},
        known_tokens=sum(1 for word in tokenize(text) if word in model.vocabulary),
        model_version=model.version,
    )


def create_app() -> FastAPI:
    app = FastAPI(title="Review Sentiment API")
    model = NaiveBayes.train(REVIEWS, version=MODEL_VERSION)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/model")
    def model_info() -> ModelInfo:
        return ModelInfo(
            version=model.version,
            labels=model.labels,
            vocabulary_size=len(model.vocabulary),
            training_examples=sum(model.doc_counts.values()),
        )

    @app.post("/predict")
    def predict(body: PredictIn) -> Prediction:
        return _predict(model, body.text)

    @app.post("/predict/batch")
    def predict_batch(body: BatchIn) -> list[Prediction]:
        return [_predict(model, text) for text in body.texts]

    return app


app = create_app()
