"""The fake transcription server, an HTTP client to reach it, and media files made here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.integrations.transcription.client import build_transcriber
from app.integrations.transcription.provider import Transcriber
from tests.support.fake_transcription import (
    FakeTranscriptionServer,
    fake_transcription,
    fake_transcription_settings,
)

__all__ = ["fake_transcription"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "media"
    directory.mkdir()
    return directory


def make_transcriber(
    server: FakeTranscriptionServer, http: httpx.AsyncClient, **settings: Any
) -> Transcriber:
    transcriber = build_transcriber(fake_transcription_settings(server, **settings), http)
    assert transcriber is not None
    return transcriber
