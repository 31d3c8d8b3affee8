"""The recordings' jobs against a real store: transcription (a Transcriber double here;
the fake OpenAI-compatible server in test_transcription_e2e.py), retried while the failure
is temporary and failed with its code otherwise, dropped for a recording deleted meanwhile;
and the purge of recordings past retention and of abandoned uploads, audited, going on past
an object the store fails on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.core.db import Database
from app.core.settings import MIB, JobSettings, RecordingSettings, StorageSettings
from app.integrations.transcription.provider import (
    Transcript,
    TranscriptionError,
    TranscriptSegment,
)
from app.jobs.models import Job
from app.jobs.registry import JobContext, PermanentJobError
from app.jobs.worker import Worker
from app.media.store import MediaStore, MediaStoreError, SignedRequest, StoredObject, UploadedPart
from app.recordings.jobs import TRANSCRIBE, RecordingRef, purge_due
from app.recordings.models import MediaPurge, Recording
from app.services import Services
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.recordings import Candidate, Stage, claimed, make_media, put, staged

SEGMENTS = (
    TranscriptSegment(0.0, 1.2, "Here is where I left off."),
    TranscriptSegment(1.2, 2.0, "The refund job is next."),
)


@dataclass
class FakeTranscriber:
    """Answers `result` (or raises it), after `before` runs; records the files it got."""

    result: Transcript | TranscriptionError = field(
        default_factory=lambda: Transcript(segments=SEGMENTS, language="english", model="whisper-1")
    )
    before: Callable[[], Any] | None = None
    seen: list[bytes] = field(default_factory=list)

    async def transcribe(self, path: Path) -> Transcript:
        self.seen.append(await asyncio.to_thread(path.read_bytes))
        if self.before is not None:
            await self.before()
        if isinstance(self.result, TranscriptionError):
            raise self.result
        return self.result


def _context(
    stage: Stage, *, attempt: int = 1, clock: FakeClock | None = None, **services: Any
) -> JobContext[Services]:
    return JobContext(
        database=stage.database,
        clock=clock or FakeClock(datetime.now(UTC)),
        services=replace(stage.services, **services),
        job_id=1,
        attempt=attempt,
        max_attempts=TRANSCRIBE.max_attempts,
    )


async def _row(db_session: AsyncSession, recording_id: int) -> Recording:
    db_session.expire_all()
    recording = await db_session.get(Recording, recording_id)
    assert recording is not None
    return recording


async def _ready(
    stage: Stage, tmp_path: Path, kind: str = "wav", seconds: float = 2.0
) -> tuple[Candidate, int, Path]:
    candidate = await claimed(stage)
    path = make_media(tmp_path, kind, seconds, name=f"clip-{candidate.cs_id}")
    started = await candidate.upload(path)
    done = await candidate.complete(started["recordingId"])
    assert done.status_code == 200, done.text
    return candidate, started["recordingId"], path


async def test_a_ready_recording_is_transcribed_by_the_worker_and_shown_with_its_segments(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    transcriber = FakeTranscriber()
    stage.use_transcriber(transcriber)
    candidate, recording_id, path = await _ready(stage, tmp_path)
    status = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert status.json()["transcript"]["status"] == "queued"

    worker = Worker(
        stage.database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=stage.services,
        metrics=stage.services.metrics,
    )
    await worker.run_until_idle()
    # The file the transcriber read is the one uploaded, fetched from the store.
    assert transcriber.seen == [path.read_bytes()]
    status = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert status.json()["transcript"] == {"status": "ready", "errorCode": None, "segmentCount": 2}
    row = await _row(db_session, recording_id)
    assert row.transcript_model == "whisper-1"

    submission_id = await candidate.submit()
    detail = await stage.world.client.get(
        f"/api/submissions/{submission_id}", headers=stage.world.recruiter
    )
    assert detail.json()["recording"]["transcript"] == {
        "status": "ready",
        "errorCode": None,
        "language": "english",
        "segments": [
            {"startSeconds": 0.0, "endSeconds": 1.2, "text": "Here is where I left off."},
            {"startSeconds": 1.2, "endSeconds": 2.0, "text": "The refund job is next."},
        ],
    }

    # Deleting the recording deletes the transcript with it.
    assert (
        await stage.world.client.delete(candidate.url(), headers=candidate.headers)
    ).status_code == 204
    row = await _row(db_session, recording_id)
    assert row.transcript_segments is None
    [purge] = (
        await db_session.scalars(select(MediaPurge).where(MediaPurge.recording_id == recording_id))
    ).all()
    assert purge.removed["transcriptSegments"] == 2


async def test_a_temporary_failure_is_retried_and_fails_with_its_code_on_the_last_attempt(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    transcriber = FakeTranscriber(
        result=TranscriptionError("busy", code="TRANSCRIPTION_RATE_LIMITED", retryable=True)
    )
    stage.use_transcriber(transcriber)
    _, recording_id, _ = await _ready(stage, tmp_path)
    ref = RecordingRef(recording_id=recording_id)
    with pytest.raises(TranscriptionError):
        await TRANSCRIBE.handler(_context(stage, attempt=1), ref)
    row = await _row(db_session, recording_id)
    assert (row.transcript_status, row.transcript_error_code) == ("processing", None)
    with pytest.raises(PermanentJobError):
        await TRANSCRIBE.handler(_context(stage, attempt=TRANSCRIBE.max_attempts), ref)
    row = await _row(db_session, recording_id)
    assert (row.transcript_status, row.transcript_error_code) == (
        "failed",
        "TRANSCRIPTION_RATE_LIMITED",
    )
    assert len(transcriber.seen) == 2


async def test_a_terminal_failure_fails_at_once_and_the_recording_stays_reviewable(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    stage.use_transcriber(
        FakeTranscriber(result=TranscriptionError("bad file", code="TRANSCRIPTION_REJECTED"))
    )
    candidate, recording_id, _ = await _ready(stage, tmp_path)
    with pytest.raises(PermanentJobError):
        await TRANSCRIBE.handler(_context(stage), RecordingRef(recording_id=recording_id))
    submission_id = await candidate.submit()
    detail = await stage.world.client.get(
        f"/api/submissions/{submission_id}", headers=stage.world.recruiter
    )
    recording = detail.json()["recording"]
    assert recording["transcript"]["status"] == "failed"
    assert recording["transcript"]["errorCode"] == "TRANSCRIPTION_REJECTED"
    assert (await stage.http.get(recording["playbackUrl"])).status_code == 200


async def test_a_store_failure_while_transcribing_is_retried_then_recorded(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    stage.use_transcriber(FakeTranscriber())
    _, recording_id, _ = await _ready(stage, tmp_path)
    failing = FailingFor(stage.store, {(await _row(db_session, recording_id)).storage_key})
    ref = RecordingRef(recording_id=recording_id)
    with pytest.raises(MediaStoreError):
        await TRANSCRIBE.handler(_context(stage, media=failing), ref)
    assert (await _row(db_session, recording_id)).transcript_status == "processing"
    with pytest.raises(MediaStoreError):
        await TRANSCRIBE.handler(
            _context(stage, attempt=TRANSCRIBE.max_attempts, media=failing), ref
        )
    row = await _row(db_session, recording_id)
    assert (row.transcript_status, row.transcript_error_code) == ("failed", "STORAGE_UNAVAILABLE")


async def test_a_transcript_of_a_recording_deleted_meanwhile_is_dropped(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    candidate: Candidate | None = None

    async def delete_it() -> None:
        assert candidate is not None
        answer = await stage.world.client.delete(candidate.url(), headers=candidate.headers)
        assert answer.status_code == 204

    stage.use_transcriber(FakeTranscriber(before=delete_it))
    candidate, recording_id, _ = await _ready(stage, tmp_path)
    await TRANSCRIBE.handler(_context(stage), RecordingRef(recording_id=recording_id))
    row = await _row(db_session, recording_id)
    assert (row.status, row.transcript_segments) == ("deleted", None)


@dataclass
class FailingFor:
    """The real store, failing every call about the keys in `broken`."""

    store: MediaStore
    broken: set[str]

    def _check(self, key: str) -> None:
        if key in self.broken:
            raise MediaStoreError(f"{key}: unreachable")

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        self._check(key)
        await self.store.abort_multipart(key, upload_id)

    async def delete(self, key: str) -> None:
        self._check(key)
        await self.store.delete(key)

    async def stat(self, key: str) -> StoredObject | None:
        return await self.store.stat(key)

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> SignedRequest:
        return await self.store.presign_upload(
            key, content_type=content_type, size=size, expires_in=expires_in
        )

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        return await self.store.start_multipart(key, content_type=content_type)

    async def presign_part(
        self, key: str, upload_id: str, number: int, *, expires_in: timedelta
    ) -> SignedRequest:
        return await self.store.presign_part(key, upload_id, number, expires_in=expires_in)

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[UploadedPart]
    ) -> None:
        await self.store.complete_multipart(key, upload_id, parts)

    async def read_prefix(self, key: str, length: int) -> bytes:
        return await self.store.read_prefix(key, length)

    async def download(self, key: str, destination: Path) -> None:
        self._check(key)
        await self.store.download(key, destination)

    async def presign_download(
        self, key: str, *, expires_in: timedelta, content_type: str, filename: str
    ) -> SignedRequest:
        return await self.store.presign_download(
            key, expires_in=expires_in, content_type=content_type, filename=filename
        )


async def test_the_purge_removes_old_recordings_and_abandoned_uploads_with_an_audit_row_each(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    _, old_id, _ = await _ready(stage, tmp_path)
    abandoned = await claimed(stage)
    started = await abandoned.upload(make_media(tmp_path, "wav", 1.0, name="abandoned"))
    settings = stage.services.settings.recording
    start = datetime.now(UTC)

    # A day later: the upload is abandoned, the recording still within retention.
    day = FakeClock(start + timedelta(hours=settings.abandoned_after_hours, minutes=1))
    assert await purge_due(_context(stage, clock=day)) == {"retention": 0, "abandoned": 1}
    gone = await _row(db_session, started["recordingId"])
    gone_id, gone_key = gone.id, gone.storage_key
    assert (gone.status, gone.purged_at) == ("purged", day.current)
    assert await stage.store.stat(gone_key) is None
    kept = await _row(db_session, old_id)
    assert kept.status == "ready"

    later = FakeClock(start + timedelta(days=settings.retention_days, minutes=1))
    assert await purge_due(_context(stage, clock=later)) == {"retention": 1, "abandoned": 0}
    purged = await _row(db_session, old_id)
    assert purged.status == "purged"
    assert await stage.store.stat(purged.storage_key) is None
    purges = (await db_session.scalars(select(MediaPurge).order_by(MediaPurge.id))).all()
    assert [(p.recording_id, p.reason, p.storage_key) for p in purges] == [
        (gone_id, "abandoned", gone_key),
        (old_id, "retention", purged.storage_key),
    ]
    # A second run finds nothing more.
    assert await purge_due(_context(stage, clock=later)) == {"retention": 0, "abandoned": 0}


async def test_a_store_failure_on_one_recording_does_not_stop_the_purge(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    _, first_id, _ = await _ready(stage, tmp_path)
    _, second_id, _ = await _ready(stage, tmp_path)
    first = await _row(db_session, first_id)
    later = FakeClock(
        datetime.now(UTC) + timedelta(days=stage.services.settings.recording.retention_days + 1)
    )
    failing = FailingFor(stage.store, {first.storage_key})
    assert await purge_due(_context(stage, clock=later, media=failing)) == {
        "retention": 1,
        "abandoned": 0,
    }
    assert (await _row(db_session, first_id)).status == "ready"
    assert await stage.store.stat(first.storage_key) is not None
    assert (await _row(db_session, second_id)).status == "purged"
    # No audit row for what is not gone yet; the next tick removes it and writes its row.
    assert not (
        await db_session.scalars(select(MediaPurge).where(MediaPurge.recording_id == first_id))
    ).all()
    assert await purge_due(_context(stage, clock=later)) == {"retention": 1, "abandoned": 0}
    assert (await _row(db_session, first_id)).status == "purged"
    assert await stage.store.stat(first.storage_key) is None
    [purge] = (
        await db_session.scalars(select(MediaPurge).where(MediaPurge.recording_id == first_id))
    ).all()
    assert purge.reason == "retention"


async def test_no_transcription_job_is_queued_offline(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    await _ready(stage, tmp_path)
    jobs = (await db_session.scalars(select(Job).where(Job.type == TRANSCRIBE.name))).all()
    assert jobs == []


async def test_an_abandoned_multipart_upload_is_aborted_with_its_parts(
    storage_settings: StorageSettings,
    database_url: str,
    idp: IdentityProvider,
    database: Database,
    db_session: AsyncSession,
    tmp_path: Path,
) -> None:
    parts = RecordingSettings(
        _env_file=None, multipart_threshold_bytes=5 * MIB, part_size_bytes=5 * MIB
    )
    data = make_media(tmp_path, "wav", 50.0).read_bytes()
    async with staged(
        storage_settings, database_url, idp, database, db_session, recording=parts
    ) as stage:
        candidate = await claimed(stage)
        started = await candidate.init(tmp_path / "clip.wav")
        upload = started.json()["upload"]
        etag = await put(stage.http, upload["parts"][0], data[: 5 * MIB])
        row = await _row(db_session, started.json()["recordingId"])
        key, upload_id = row.storage_key, upload["uploadId"]

        later = FakeClock(
            datetime.now(UTC) + timedelta(hours=parts.abandoned_after_hours, minutes=1)
        )
        assert await purge_due(_context(stage, clock=later)) == {"retention": 0, "abandoned": 1}
        # The upload is gone with its part: it can no longer be joined.
        with pytest.raises(MediaStoreError):
            await stage.store.complete_multipart(key, upload_id, [UploadedPart(1, etag)])
        assert await stage.store.stat(key) is None
    [purge] = (
        await db_session.scalars(select(MediaPurge).where(MediaPurge.recording_id == row.id))
    ).all()
    assert (purge.reason, purge.removed) == (
        "abandoned",
        {"object": True, "multipartAborted": True, "transcriptSegments": 0},
    )
