"""TENON_AI_*: the provider chosen, its model and price, and the configurations refused
when the settings load (so `tenon` does not start with them)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.settings import AiSettings, SettingsError, load_settings
from app.integrations.ai.anthropic import AnthropicProvider
from app.integrations.ai.openai import OpenAiProvider
from app.integrations.ai.prices import DEFAULT_MODELS, KNOWN_PRICES
from app.integrations.ai.provider import Price
from app.integrations.ai.providers import build_ai_provider


def test_none_builds_no_provider() -> None:
    assert build_ai_provider(AiSettings(_env_file=None)) is None


@pytest.mark.parametrize(
    ("name", "provider_class"), [("anthropic", AnthropicProvider), ("openai", OpenAiProvider)]
)
def test_each_provider_defaults_to_a_priced_model(name: str, provider_class: type) -> None:
    provider = build_ai_provider(AiSettings(_env_file=None, provider=name, api_key="k"))

    assert isinstance(provider, provider_class)
    assert provider.name == name
    assert provider.model == DEFAULT_MODELS[name]
    assert provider.price == KNOWN_PRICES[name][DEFAULT_MODELS[name]]


def test_the_sonnet_price_is_the_published_one() -> None:
    price = KNOWN_PRICES["anthropic"]["claude-sonnet-4-6"]
    # 1M input tokens at $3 and 100k output tokens at $15 per million.
    assert price.cost(1_000_000, 100_000) == Decimal("4.5")


def test_a_key_is_required() -> None:
    with pytest.raises(ValidationError, match="TENON_AI_API_KEY is required"):
        AiSettings(_env_file=None, provider="openai")


def test_a_model_without_a_known_price_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        AiSettings(_env_file=None, provider="openai", api_key="k", model="llama-3.3-70b")
    message = str(caught.value)
    assert "TENON_AI_MODEL=llama-3.3-70b" in message
    assert "TENON_AI_INPUT_PRICE_PER_MTOK" in message
    assert "TENON_AI_OUTPUT_PRICE_PER_MTOK" in message


def test_a_single_price_is_refused() -> None:
    with pytest.raises(ValidationError, match="set together"):
        AiSettings(_env_file=None, provider="openai", api_key="k", input_price_per_mtok="1")


def test_configured_prices_override_the_table() -> None:
    provider = build_ai_provider(
        AiSettings(
            _env_file=None,
            provider="anthropic",
            api_key="k",
            input_price_per_mtok="2.5",
            output_price_per_mtok="12",
        )
    )
    assert provider is not None
    assert provider.model == "claude-sonnet-4-6"
    assert provider.price == Price(Decimal("2.5"), Decimal("12"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in os.environ:
        if name.startswith("TENON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_loading_refuses_an_unpriced_model_naming_the_variables(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENON_AI_PROVIDER", "openai")
    monkeypatch.setenv("TENON_AI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("TENON_AI_MODEL", "mistral-large")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    [problem] = [line for line in caught.value.problems if "TENON_AI" in line]
    assert "TENON_AI_MODEL=mistral-large" in problem
    assert "TENON_AI_INPUT_PRICE_PER_MTOK" in problem
    assert "sk-secret-value" not in "\n".join(caught.value.problems)


def test_loading_reads_the_ai_variables(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENON_AI_PROVIDER", "openai")
    monkeypatch.setenv("TENON_AI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("TENON_AI_BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("TENON_AI_MODEL", "mistral-large")
    monkeypatch.setenv("TENON_AI_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("TENON_AI_INPUT_PRICE_PER_MTOK", "2")
    monkeypatch.setenv("TENON_AI_OUTPUT_PRICE_PER_MTOK", "6")

    provider = build_ai_provider(load_settings().ai)

    assert isinstance(provider, OpenAiProvider)
    assert provider.model == "mistral-large"
    assert provider.price == Price(Decimal("2"), Decimal("6"))
