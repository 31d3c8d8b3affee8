"""Each provider's default model and the published prices of the models Tenon knows, so that
every AI call's cost can be recorded and reserved against a company's budget.

A model outside the table needs TENON_AI_INPUT/OUTPUT_PRICE_PER_MTOK. Claude Haiku 5.5 is
left out on purpose: its price depends on each prompt's length.
"""

from __future__ import annotations

from decimal import Decimal

from app.integrations.ai.provider import Price

DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-6", "openai": "gpt-5.4"}


def _usd(input_per_mtok: str, output_per_mtok: str) -> Price:
    return Price(Decimal(input_per_mtok), Decimal(output_per_mtok))


# USD per million tokens, standard (not batch, not cached) rates.
KNOWN_PRICES: dict[str, dict[str, Price]] = {
    # https://platform.claude.com/docs/en/about-claude/pricing
    "anthropic": {
        "claude-sonnet-5-5": _usd("2", "10"),
        "claude-sonnet-5": _usd("2", "10"),
        "claude-opus-5": _usd("5", "25"),
        "claude-sonnet-4-6": _usd("3", "15"),
        "claude-sonnet-4-5": _usd("3", "15"),
        "claude-haiku-4-5": _usd("1", "5"),
        "claude-opus-4-6": _usd("5", "25"),
    },
    # https://developers.openai.com/api/docs/pricing
    "openai": {
        "gpt-5.4": _usd("2.50", "15"),
        "gpt-4.1": _usd("2", "8"),
        "gpt-4.1-mini": _usd("0.40", "1.60"),
    },
}


def model_and_price(
    provider: str,
    model: str | None,
    input_per_mtok: Decimal | None,
    output_per_mtok: Decimal | None,
) -> tuple[str, Price]:
    """The model to call and its price: the configured prices when both are set, else the
    table's. Raises ValueError, naming the variables to set, when neither gives a price."""
    chosen = model or DEFAULT_MODELS[provider]
    if (input_per_mtok is None) != (output_per_mtok is None):
        raise ValueError(
            "TENON_AI_INPUT_PRICE_PER_MTOK and TENON_AI_OUTPUT_PRICE_PER_MTOK are set together"
        )
    if input_per_mtok is not None and output_per_mtok is not None:
        return chosen, Price(input_per_mtok, output_per_mtok)
    price = KNOWN_PRICES[provider].get(chosen)
    if price is None:
        raise ValueError(
            f"no built-in price for TENON_AI_MODEL={chosen} ({provider}); set "
            "TENON_AI_INPUT_PRICE_PER_MTOK and TENON_AI_OUTPUT_PRICE_PER_MTOK (USD per "
            "million tokens) so its cost can be recorded and budgeted"
        )
    return chosen, price
