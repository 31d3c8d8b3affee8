"""INTERFACE STUB (replaced by the AI provider helper's implementation): the provider the
settings choose, or None with TENON_AI_PROVIDER=none."""

from __future__ import annotations

from app.core.settings import AiSettings
from app.integrations.ai.provider import AiProvider


def build_ai_provider(settings: AiSettings) -> AiProvider | None:
    if settings.provider == "none":
        return None
    raise NotImplementedError
