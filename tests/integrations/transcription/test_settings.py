"""TENON_TRANSCRIPTION_*: off by default, the key a public server needs, the base URL, and
the transcriber the services get."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.assembly import build_services
from app.core.errors import ServiceUnavailableError
from app.core.metrics import Metrics
from app.core.settings import SettingsError, TranscriptionSettings, load_settings
from app.integrations.transcription.client import OpenAiTranscriber, build_transcriber
from app.jobs.registry import PermanentJobError
from app.services import TranscriptionNotConfiguredError


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no `.env`) and an environment without Tenon settings."""
    for name in os.environ:
        if name.startswith("TENON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_transcription_is_off_by_default(workdir: Path) -> None:
    settings = load_settings()

    assert settings.transcription.provider == "none"
    async with httpx.AsyncClient() as http:
        assert build_transcriber(settings.transcription, http) is None
        services = build_services(settings, http, Metrics())
    assert services.transcriber is None
    with pytest.raises(TranscriptionNotConfiguredError) as caught:
        services.require_transcriber()
    assert isinstance(caught.value, ServiceUnavailableError)
    assert isinstance(caught.value, PermanentJobError)
    assert caught.value.code == "TRANSCRIPTION_NOT_CONFIGURED"


def test_the_settings_are_read_from_the_environment(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENON_TRANSCRIPTION_PROVIDER", "openai")
    monkeypatch.setenv("TENON_TRANSCRIPTION_BASE_URL", "https://api.groq.com/openai/v1/")
    monkeypatch.setenv("TENON_TRANSCRIPTION_API_KEY", "gsk_secret")
    monkeypatch.setenv("TENON_TRANSCRIPTION_MODEL", "whisper-large-v3-turbo")
    monkeypatch.setenv("TENON_TRANSCRIPTION_LANGUAGE", "en")
    monkeypatch.setenv("TENON_TRANSCRIPTION_MAX_UPLOAD_BYTES", "20000000")
    monkeypatch.setenv("TENON_TRANSCRIPTION_MAX_ATTEMPTS", "2")

    settings = load_settings().transcription

    assert settings.provider == "openai"
    assert settings.base_url == "https://api.groq.com/openai/v1"
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "gsk_secret"
    assert (settings.model, settings.language) == ("whisper-large-v3-turbo", "en")
    assert (settings.max_upload_bytes, settings.max_attempts) == (20_000_000, 2)


def test_the_defaults_are_openais() -> None:
    settings = TranscriptionSettings(_env_file=None, provider="openai", api_key="k")

    assert settings.base_url == "https://api.openai.com/v1"
    assert settings.model == "whisper-1"
    assert settings.max_upload_bytes == 25 * 1024 * 1024


async def test_a_provider_builds_the_openai_compatible_transcriber() -> None:
    settings = TranscriptionSettings(_env_file=None, provider="openai", api_key="k")

    async with httpx.AsyncClient() as http:
        assert isinstance(build_transcriber(settings, http), OpenAiTranscriber)


@pytest.mark.parametrize(
    "base_url", ["https://api.openai.com/v1", "https://api.groq.com/openai/v1", "http://8.8.8.8/v1"]
)
def test_a_public_server_needs_a_key(base_url: str) -> None:
    with pytest.raises(ValidationError, match="TENON_TRANSCRIPTION_API_KEY is required"):
        TranscriptionSettings(_env_file=None, provider="openai", base_url=base_url)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000/v1",
        "http://localhost:8000/v1",
        "http://[::1]:8000/v1",
        "http://10.1.2.3:8000/v1",
        "http://whisper:8000/v1",
    ],
)
def test_a_local_server_needs_no_key(base_url: str) -> None:
    settings = TranscriptionSettings(_env_file=None, provider="openai", base_url=base_url)

    assert settings.api_key is None


@pytest.mark.parametrize("base_url", ["api.openai.com/v1", "ftp://files.example/v1", "http://"])
def test_a_base_url_that_is_not_http_is_refused_by_name(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, base_url: str
) -> None:
    monkeypatch.setenv("TENON_TRANSCRIPTION_BASE_URL", base_url)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert caught.value.problems == [
        "TENON_TRANSCRIPTION_BASE_URL: must be an http(s) URL such as "
        f"https://api.openai.com/v1 (got {base_url!r})"
    ]


def test_a_missing_key_is_reported_by_name_without_the_other_values(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENON_TRANSCRIPTION_PROVIDER", "openai")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert caught.value.problems == [
        "TENON_TRANSCRIPTION_API_KEY is required with TENON_TRANSCRIPTION_PROVIDER=openai "
        "unless TENON_TRANSCRIPTION_BASE_URL is a local server (got https://api.openai.com/v1)"
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [("TENON_TRANSCRIPTION_MAX_UPLOAD_BYTES", "1000"), ("TENON_TRANSCRIPTION_MAX_ATTEMPTS", "0")],
)
def test_limits_too_small_to_work_are_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    (problem,) = caught.value.problems
    assert problem.startswith(f"{name}: ")
