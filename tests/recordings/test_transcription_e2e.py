"""A recording transcribed end to end: uploaded to the store, completed, and transcribed by
the worker through the OpenAI-compatible client against the fake server over real HTTP,
the audio cut into chunks under the provider's size limit; the segments are stored with
their offsets in the whole recording. Temporary failures are retried, a refusal is final."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.core.db import Database
from app.core.settings import JobSettings, StorageSettings
from app.jobs.worker import Worker
from app.recordings.models import Recording
from tests.support.fake_transcription import (
    FakeTranscriptionServer,
    fake_transcription_settings,
    rate_limited,
    rejected,
    server_error,
)
from tests.support.identity import IdentityProvider
from tests.support.recordings import Stage, claimed, make_media, staged

# The provider's smallest upload limit: a few seconds of audio per chunk.
SMALL_UPLOADS = 16 * 1024


async def _run_jobs(stage: Stage) -> None:
    worker = Worker(
        stage.database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=stage.services,
        metrics=stage.services.metrics,
    )
    await worker.run_until_idle()


async def test_a_long_recording_is_transcribed_in_chunks_with_offsets_in_the_whole(
    fake_transcription: FakeTranscriptionServer,
    local_storage: StorageSettings,
    database_url: str,
    idp: IdentityProvider,
    database: Database,
    db_session: AsyncSession,
    tmp_path: Path,
) -> None:
    # Rate limited, then a server error: both retried before the answers.
    fake_transcription.then(rate_limited("0"), server_error(503))
    settings = fake_transcription_settings(fake_transcription, max_upload_bytes=SMALL_UPLOADS)
    async with staged(
        local_storage, database_url, idp, database, db_session, transcription=settings
    ) as stage:
        candidate = await claimed(stage)
        started = await candidate.upload(make_media(tmp_path, "webm", 12.0))
        done = await candidate.complete(started["recordingId"])
        assert done.json()["transcript"]["status"] == "queued"
        await _run_jobs(stage)

        chunks = [upload for upload in fake_transcription.uploads if upload.duration_seconds]
        assert len(chunks) > 1
        submission_id = await candidate.submit()
        detail = await stage.world.client.get(
            f"/api/submissions/{submission_id}", headers=stage.world.recruiter
        )
    transcript = detail.json()["recording"]["transcript"]
    assert transcript["status"] == "ready"
    assert transcript["language"] == "english"
    segments = transcript["segments"]
    starts = [segment["startSeconds"] for segment in segments]
    # In order, from the start of the recording to its end, across the chunks: a chunk's
    # segments are moved by the time the chunk starts at.
    assert starts == sorted(starts)
    assert starts[0] == 0.0
    assert segments[-1]["endSeconds"] == pytest.approx(12.0, abs=0.5)
    assert max(starts) > max(chunk.duration_seconds or 0 for chunk in chunks)
    assert all(segment["endSeconds"] > segment["startSeconds"] for segment in segments)


async def test_a_refusal_by_the_provider_fails_the_transcript_with_its_code(
    fake_transcription: FakeTranscriptionServer,
    local_storage: StorageSettings,
    database_url: str,
    idp: IdentityProvider,
    database: Database,
    db_session: AsyncSession,
    tmp_path: Path,
) -> None:
    fake_transcription.then(rejected("Invalid file format.", 400))
    settings = fake_transcription_settings(fake_transcription)
    async with staged(
        local_storage, database_url, idp, database, db_session, transcription=settings
    ) as stage:
        candidate = await claimed(stage)
        started = await candidate.upload(make_media(tmp_path, "m4a", 2.0))
        await candidate.complete(started["recordingId"])
        await _run_jobs(stage)
        status = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert status.json()["transcript"] == {
        "status": "failed",
        "errorCode": "TRANSCRIPTION_REJECTED",
        "segmentCount": 0,
    }
    # One request: a refusal is not retried.
    assert len(fake_transcription.uploads) == 1
    db_session.expire_all()
    recording = await db_session.get(Recording, started["recordingId"])
    assert recording is not None
    assert recording.status == "ready"
