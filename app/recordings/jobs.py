"""The recordings' jobs: transcribing a ready recording, and the hourly purge of media past
the retention window and of uploads never completed."""

from __future__ import annotations

from datetime import timedelta

import structlog
from pydantic import BaseModel

from app.core.schemas import ApiModel
from app.integrations.transcription.provider import Transcript, TranscriptionError
from app.jobs.registry import JobContext, JobType, PeriodicJob, PermanentJobError
from app.media.store import MediaStoreError, StorageUnavailableError
from app.recordings import repository
from app.recordings.media import downloaded, mark_removed, remove_objects
from app.recordings.models import PurgeReason, RecordingStatus
from app.services import Services

log = structlog.get_logger(__name__)

PURGE_EVERY = timedelta(hours=1)
# Recordings removed per purge tick and kind (retention, abandoned); the rest wait an hour.
PURGE_BATCH = 50


class RecordingRef(ApiModel):
    recording_id: int


class Sweep(BaseModel):
    pass


async def _transcribe(context: JobContext[Services], ref: RecordingRef) -> None:
    transcriber = context.services.transcriber
    async with context.database.session_scope() as session:
        recording = await repository.by_id(session, ref.recording_id, for_update=True)
        if (
            recording is None
            or recording.status != "ready"
            or recording.transcript_status not in ("queued", "processing")
        ):
            return
        if transcriber is None:
            # Turned off since it was queued: the recording stays reviewable without one.
            recording.transcript_status = "disabled"
            return
        recording.transcript_status = "processing"
        key = recording.storage_key
    try:
        async with downloaded(context.services.media, key) as path:
            transcript = await transcriber.transcribe(path)
    except TranscriptionError as exc:
        if exc.retryable and context.attempt < context.max_attempts:
            raise
        await _record_failure(context, ref.recording_id, exc.code)
        raise PermanentJobError(f"{exc.code}: {exc}") from exc
    except Exception as exc:
        # The store, or anything else: retried; the last attempt leaves a code, not a
        # transcript `processing` for ever.
        if context.attempt >= context.max_attempts:
            code = (
                StorageUnavailableError.code
                if isinstance(exc, MediaStoreError)
                else TranscriptionError.code
            )
            await _record_failure(context, ref.recording_id, code)
        raise
    await _store(context, ref.recording_id, transcript)


async def _store(context: JobContext[Services], recording_id: int, transcript: Transcript) -> None:
    async with context.database.session_scope() as session:
        recording = await repository.by_id(session, recording_id, for_update=True)
        if recording is None or recording.status != "ready":
            # Deleted or purged while it was transcribed: the result is dropped.
            log.info("recordings.transcript_dropped", recording_id=recording_id)
            return
        recording.transcript_segments = [
            {"start": segment.start_seconds, "end": segment.end_seconds, "text": segment.text}
            for segment in transcript.segments
        ]
        recording.transcript_language = transcript.language
        recording.transcript_model = transcript.model
        recording.transcript_status = "ready"
        recording.transcript_error_code = None
        recording.transcribed_at = context.clock.now()
    log.info("recordings.transcribed", recording_id=recording_id, segments=len(transcript.segments))


async def _record_failure(context: JobContext[Services], recording_id: int, code: str) -> None:
    async with context.database.session_scope() as session:
        recording = await repository.by_id(session, recording_id, for_update=True)
        if recording is None or recording.status != "ready":
            return
        recording.transcript_status = "failed"
        recording.transcript_error_code = code
    log.warning("recordings.transcription_failed", recording_id=recording_id, code=code)


async def purge_due(context: JobContext[Services]) -> dict[PurgeReason, int]:
    """Remove the media of ready recordings past the retention window and of uploads never
    completed, a bounded batch of each. A recording whose storage call fails is left as it
    is (and logged): the next tick finds it again, so its audit row is written once its
    media is really gone."""
    settings = context.services.settings.recording
    now = context.clock.now()
    kinds: list[tuple[RecordingStatus, PurgeReason, timedelta]] = [
        ("ready", "retention", timedelta(days=settings.retention_days)),
        ("uploading", "abandoned", timedelta(hours=settings.abandoned_after_hours)),
    ]
    purged: dict[PurgeReason, int] = {}
    for status, reason, age in kinds:
        async with context.database.session_scope() as session:
            due = await repository.due_for_purge(
                session, status, before=now - age, limit=PURGE_BATCH
            )
        purged[reason] = 0
        for recording_id in due:
            purged[reason] += await _purge_one(context, recording_id, status, reason)
    return purged


async def _purge_one(
    context: JobContext[Services], recording_id: int, status: RecordingStatus, reason: PurgeReason
) -> int:
    async with context.database.session_scope() as session:
        recording = await repository.by_id(session, recording_id, for_update=True)
        if recording is None or recording.status != status:
            return 0
        try:
            removed = await remove_objects(context.services.media, recording)
        except MediaStoreError as exc:
            log.warning(
                "recordings.purge_failed", recording_id=recording_id, reason=reason, error=str(exc)
            )
            return 0
        await mark_removed(
            session,
            recording,
            status="purged",
            reason=reason,
            now=context.clock.now(),
            removed=removed,
            hooks=context.services.media_removed,
        )
    return 1


async def _purge(context: JobContext[Services], _: Sweep) -> None:
    purged = await purge_due(context)
    if any(purged.values()):
        log.info("recordings.purged", **purged)


# A transcription of a long recording takes minutes; retries back off up to ~30 minutes.
TRANSCRIBE = JobType(
    name="recordings.transcribe",
    payload=RecordingRef,
    handler=_transcribe,
    max_attempts=6,
    backoff_base=timedelta(seconds=30),
)
RETENTION_PURGE = PeriodicJob(
    JobType(name="recordings.retention_purge", payload=Sweep, handler=_purge, max_attempts=3),
    PURGE_EVERY,
)
