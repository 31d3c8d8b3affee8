"""The provider the settings choose, or None with TENON_AI_PROVIDER=none."""

from __future__ import annotations

from app.core.settings import AiSettings
from app.integrations.ai.prices import model_and_price
from app.integrations.ai.provider import AiProvider


def build_ai_provider(settings: AiSettings) -> AiProvider | None:
    if settings.provider == "none":
        return None
    # AiSettings refused a missing key or an unpriced model when it loaded.
    assert settings.api_key is not None
    model, price = model_and_price(
        settings.provider,
        settings.model,
        settings.input_price_per_mtok,
        settings.output_price_per_mtok,
    )
    # Imported here: the SDKs take seconds to import, which a server (or a test, or a CLI
    # command) with the AI drafts off should not pay.
    provider_class: type[AiProvider]
    if settings.provider == "anthropic":
        from app.integrations.ai.anthropic import AnthropicProvider

        provider_class = AnthropicProvider
    else:
        from app.integrations.ai.openai import OpenAiProvider

        provider_class = OpenAiProvider
    return provider_class(
        api_key=settings.api_key.get_secret_value(),
        model=model,
        price=price,
        base_url=settings.base_url,
        timeout_seconds=settings.timeout_seconds,
    )
