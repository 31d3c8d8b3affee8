"""The environment variable names the settings classes read, derived from the classes."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from app.core.settings import Settings


def _names_per_setting() -> Iterator[list[str]]:
    """For each setting, the names it is read from, the documented one first."""
    for group in Settings.model_fields.values():
        model = group.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseSettings)
        prefix = model.model_config.get("env_prefix", "")
        for name, field in model.model_fields.items():
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                yield [str(choice).upper() for choice in alias.choices]
            else:
                yield [(prefix + name).upper()]


def documented_env_names() -> set[str]:
    """One name per setting: the one .env.example lists."""
    return {names[0] for names in _names_per_setting()}


def accepted_env_names() -> set[str]:
    """Every name a setting is read from (settings match names case-insensitively)."""
    return {name for names in _names_per_setting() for name in names}
