"""The recording settings as the environment gives them: the retention window under the
name SPEC §11.3 gives it, and only types the server can check."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.settings import RECORDING_TYPES, RecordingSettings


def test_the_defaults_are_the_documented_limits() -> None:
    settings = RecordingSettings(_env_file=None)
    assert settings.max_bytes == 500 * 1024 * 1024
    assert set(settings.allowed_types) == set(RECORDING_TYPES)
    assert settings.retention_days == 180


def test_retention_is_read_from_tenon_media_retention_days(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TENON_MEDIA_RETENTION_DAYS", "30")
    monkeypatch.setenv("TENON_RECORDING_ALLOWED_TYPES", "video/WebM, audio/wav")
    settings = RecordingSettings(_env_file=None)
    assert settings.retention_days == 30
    assert settings.allowed_types == ["video/webm", "audio/wav"]


@pytest.mark.parametrize("types", ["video/x-msvideo", ""])
def test_types_the_server_cannot_check_are_refused(types: str) -> None:
    with pytest.raises(ValidationError):
        RecordingSettings(_env_file=None, allowed_types=types)


def test_parts_are_at_least_the_s3_minimum() -> None:
    with pytest.raises(ValidationError):
        RecordingSettings(_env_file=None, part_size_bytes=1024 * 1024)
