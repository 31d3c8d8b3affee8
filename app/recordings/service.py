"""The Day 4 recording of a handoff task (SPEC §11.3): the candidate uploads it straight to
the object store with signed requests, `complete` checks what arrived, and the recruiters of
the session's company play it back through short-lived signed URLs.

`init` and `complete` follow the submit's gate (the current task, before the deadline);
reading and deleting do not: a recording is the candidate's data, so they can delete it
after the deadline too. Nothing a client declares is trusted: the stored size, the type
sniffed from the bytes and the duration measured from the file decide; any refusal deletes
the object. Storage calls that are one short request (presigning, starting or aborting a
multipart upload, deleting) run under the session's row lock, which orders one candidate's
writes; the slow ones of `complete` (download and demux) run before the lock is taken, and
the write after it only succeeds if the recording is still the one being uploaded.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions import progress
from app.core.errors import (
    AppError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    UnprocessableError,
)
from app.core.openapi import ErrorSpec
from app.core.settings import RecordingSettings
from app.integrations.transcription.provider import TranscriptSegment
from app.jobs.queue import enqueue
from app.media.store import MediaStore, MediaStoreError, SignedRequest, UploadedPart
from app.recordings import probe, repository
from app.recordings.jobs import TRANSCRIBE, RecordingRef
from app.recordings.media import downloaded, mark_removed, remove_objects, storage_errors
from app.recordings.models import Recording
from app.recordings.schemas import (
    ConsentOut,
    MultipartUpload,
    RecordingComplete,
    RecordingInit,
    RecordingInitOut,
    RecordingOut,
    RecordingParts,
    RecordingPartsOut,
    RecruiterRecordingOut,
    SegmentOut,
    SignedPartOut,
    SignedRequestOut,
    SingleUpload,
    TranscriptOut,
    TranscriptSummary,
)
from app.services import MediaRemovedHook
from app.simulations.models import Task

# The refusals of `complete` that `_refused` raises (an ErrorSpec with its code).
Refusal = tuple[type[AppError], str]

TASK_NOT_RECORDABLE: ErrorSpec = (ConflictError, "TASK_NOT_RECORDABLE")
RECORDING_NOT_FOUND: ErrorSpec = (NotFoundError, "RECORDING_NOT_FOUND")
RECORDING_EXISTS: ErrorSpec = (ConflictError, "RECORDING_EXISTS")
RECORDING_TYPE_NOT_ALLOWED: ErrorSpec = (UnprocessableError, "RECORDING_TYPE_NOT_ALLOWED")
RECORDING_TOO_LARGE: ErrorSpec = (PayloadTooLargeError, "RECORDING_TOO_LARGE")
RECORDING_NOT_MULTIPART: ErrorSpec = (ConflictError, "RECORDING_NOT_MULTIPART")
RECORDING_PART_OUT_OF_RANGE: ErrorSpec = (UnprocessableError, "RECORDING_PART_OUT_OF_RANGE")
RECORDING_CONSENT_REQUIRED: ErrorSpec = (UnprocessableError, "RECORDING_CONSENT_REQUIRED")
RECORDING_NOT_UPLOADED: Refusal = (ConflictError, "RECORDING_NOT_UPLOADED")
RECORDING_PARTS_REQUIRED: Refusal = (UnprocessableError, "RECORDING_PARTS_REQUIRED")
RECORDING_SIZE_MISMATCH: Refusal = (UnprocessableError, "RECORDING_SIZE_MISMATCH")
RECORDING_TYPE_MISMATCH: Refusal = (UnprocessableError, "RECORDING_TYPE_MISMATCH")
RECORDING_UNREADABLE: Refusal = (UnprocessableError, "RECORDING_UNREADABLE")
RECORDING_TOO_LONG: Refusal = (UnprocessableError, "RECORDING_TOO_LONG")

RECORDABLE_TASK_TYPES = ("handoff",)


# S3 allows at most this many parts per upload.
MAX_PARTS = 10_000
# A declared duration this far off the measured one is kept as a flag for reviewers.
DURATION_TOLERANCE_SECONDS = 2.0
DURATION_TOLERANCE_RATIO = 0.1


def consent(settings: RecordingSettings) -> ConsentOut:
    return ConsentOut(version=settings.consent_version, text=settings.consent_text)


def _require_recordable(task: Task) -> None:
    if task.type not in RECORDABLE_TASK_TYPES:
        raise ConflictError(
            f"A {task.type} task takes no recording; only the handoff task does.",
            code="TASK_NOT_RECORDABLE",
        )


def _not_found() -> NotFoundError:
    return NotFoundError("No such recording of this task.", code="RECORDING_NOT_FOUND")


def _base_type(content_type: str) -> str:
    # Browsers' MediaRecorder names its codecs: "video/webm;codecs=vp8,opus".
    return content_type.split(";", 1)[0].strip().lower()


def _signed(request: SignedRequest) -> SignedRequestOut:
    return SignedRequestOut(
        method=request.method,
        url=request.url,
        headers=request.headers,
        expires_at=request.expires_at,
    )


def _signed_part(number: int, request: SignedRequest) -> SignedPartOut:
    return SignedPartOut(part_number=number, **_signed(request).model_dump())


def _out(recording: Recording) -> RecordingOut:
    return RecordingOut(
        recording_id=recording.id,
        task_id=recording.task_id,
        status=recording.status,
        filename=recording.filename,
        content_type=recording.content_type,
        size_bytes=recording.size_bytes,
        duration_seconds=recording.duration_seconds,
        consent_version=recording.consent_version,
        created_at=recording.created_at,
        completed_at=recording.completed_at,
        transcript=TranscriptSummary(
            status=recording.transcript_status,
            error_code=recording.transcript_error_code,
            segment_count=len(recording.transcript_segments or []),
        ),
    )


def _part_size(size: int, settings: RecordingSettings) -> int:
    return max(settings.part_size_bytes, math.ceil(size / MAX_PARTS))


def _storage_key(cs_id: int, task_id: int, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""
    return f"recordings/{cs_id}/{task_id}/{uuid.uuid4().hex}{suffix}"


async def init_upload(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    body: RecordingInit,
    *,
    store: MediaStore,
    settings: RecordingSettings,
    url_ttl: timedelta,
    on_removed: Sequence[MediaRemovedHook],
    now: datetime,
) -> RecordingInitOut:
    """Start the upload of the current handoff task's recording, replacing an unfinished
    one; refused while a completed recording exists (the candidate deletes it first)."""
    action = await progress.current_task_for_action(session, principal, cs_id, task_id, now=now)
    _require_recordable(action.task)
    content_type = _base_type(body.content_type)
    if content_type not in settings.allowed_types:
        raise UnprocessableError(
            f"{content_type} recordings are not accepted.",
            code="RECORDING_TYPE_NOT_ALLOWED",
            extensions={"allowedTypes": settings.allowed_types},
        )
    if body.size_bytes > settings.max_bytes:
        raise PayloadTooLargeError(
            f"A recording holds at most {settings.max_bytes} bytes.",
            code="RECORDING_TOO_LARGE",
            extensions={"maxBytes": settings.max_bytes},
        )
    existing = await repository.live(session, cs_id, task_id, for_update=True)
    if existing is not None and existing.status == "ready":
        raise ConflictError(
            "This task has a recording already; delete it to upload another.",
            code="RECORDING_EXISTS",
            extensions={"recordingId": existing.id},
        )
    key = _storage_key(cs_id, task_id, body.filename)
    with storage_errors():
        if existing is not None:
            removed = await remove_objects(store, existing)
            await mark_removed(
                session,
                existing,
                status="deleted",
                reason="replaced",
                now=now,
                removed=removed,
                hooks=on_removed,
            )
            await session.flush()
        recording = Recording(
            candidate_session_id=cs_id,
            task_id=task_id,
            storage_key=key,
            filename=body.filename,
            declared_content_type=content_type,
            declared_size_bytes=body.size_bytes,
            created_at=now,
            updated_at=now,
        )
        upload: SingleUpload | MultipartUpload
        if body.size_bytes > settings.multipart_threshold_bytes:
            part_size = _part_size(body.size_bytes, settings)
            count = math.ceil(body.size_bytes / part_size)
            upload_id = await store.start_multipart(key, content_type=content_type)
            recording.upload_id, recording.part_size_bytes = upload_id, part_size
            parts = [
                _signed_part(n, await store.presign_part(key, upload_id, n, expires_in=url_ttl))
                for n in range(1, count + 1)
            ]
            upload = MultipartUpload(
                upload_id=upload_id, part_size_bytes=part_size, part_count=count, parts=parts
            )
        else:
            request = await store.presign_upload(
                key, content_type=content_type, size=body.size_bytes, expires_in=url_ttl
            )
            upload = SingleUpload(request=_signed(request))
    try:
        async with session.begin_nested():
            session.add(recording)
    except IntegrityError:
        # Another request made a live recording meanwhile (the partial unique index).
        if recording.upload_id:
            with storage_errors():
                await store.abort_multipart(key, recording.upload_id)
        raise ConflictError("This task has a recording already.", code="RECORDING_EXISTS") from None
    return RecordingInitOut(recording_id=recording.id, status=recording.status, upload=upload)


async def _live_by_id(
    session: AsyncSession, cs_id: int, task_id: int, recording_id: int
) -> Recording:
    recording = await repository.by_id(session, recording_id)
    if (
        recording is None
        or recording.candidate_session_id != cs_id
        or recording.task_id != task_id
        or recording.status not in ("uploading", "ready")
    ):
        raise _not_found()
    return recording


async def sign_parts(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    body: RecordingParts,
    *,
    store: MediaStore,
    url_ttl: timedelta,
    now: datetime,
) -> RecordingPartsOut:
    """New signed PUTs for some parts of an unfinished multipart upload (to resume it)."""
    action = await progress.current_task_for_action(
        session, principal, cs_id, task_id, now=now, lock=False
    )
    _require_recordable(action.task)
    recording = await _live_by_id(session, cs_id, task_id, body.recording_id)
    if recording.status != "uploading" or not recording.upload_id:
        raise ConflictError(
            "Only an unfinished multipart upload has parts to sign.",
            code="RECORDING_NOT_MULTIPART",
        )
    assert recording.part_size_bytes is not None
    count = math.ceil(recording.declared_size_bytes / recording.part_size_bytes)
    outside = sorted({n for n in body.part_numbers if n > count})
    if outside:
        raise UnprocessableError(
            f"This upload has parts 1 to {count}.",
            code="RECORDING_PART_OUT_OF_RANGE",
            extensions={"partCount": count},
        )
    with storage_errors():
        parts = [
            _signed_part(
                n,
                await store.presign_part(
                    recording.storage_key, recording.upload_id, n, expires_in=url_ttl
                ),
            )
            for n in sorted(set(body.part_numbers))
        ]
    return RecordingPartsOut(parts=parts)


async def complete_upload(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    body: RecordingComplete,
    *,
    store: MediaStore,
    settings: RecordingSettings,
    transcription_enabled: bool,
    now: datetime,
) -> RecordingOut:
    """Check the uploaded object and make the recording ready (queueing its transcription);
    completing a ready recording again answers it as it is."""
    action = await progress.current_task_for_action(
        session, principal, cs_id, task_id, now=now, lock=False
    )
    _require_recordable(action.task)
    recording = await _live_by_id(session, cs_id, task_id, body.recording_id)
    if recording.status == "ready":
        return _out(recording)
    if body.consent_version != settings.consent_version:
        raise UnprocessableError(
            "Accept the current recording notice (GET /recording-consent) to complete.",
            code="RECORDING_CONSENT_REQUIRED",
            extensions={"consentVersion": settings.consent_version},
        )
    with storage_errors():
        size, content_type, duration = await _verify(store, recording, body, settings)
    declared = body.duration_seconds
    mismatch = declared is not None and abs(declared - duration) > max(
        DURATION_TOLERANCE_SECONDS, DURATION_TOLERANCE_RATIO * duration
    )
    # The gate again, now under the session's lock, before the write.
    await progress.current_task_for_action(session, principal, cs_id, task_id, now=now)
    ready = await repository.mark_ready(
        session,
        recording.id,
        {
            "size_bytes": size,
            "content_type": content_type,
            "duration_seconds": duration,
            "declared_duration_seconds": declared,
            "duration_mismatch": mismatch,
            "consent_version": body.consent_version,
            "consented_at": now,
            "completed_at": now,
            "upload_id": None,
            "transcript_status": "queued" if transcription_enabled else "disabled",
            "updated_at": now,
        },
    )
    if ready is None:
        again = await repository.by_id(session, recording.id)
        if again is not None and again.status == "ready":
            return _out(again)  # completed by a concurrent request
        raise _not_found()
    if transcription_enabled:
        await enqueue(session, TRANSCRIBE, RecordingRef(recording_id=ready.id))
    return _out(ready)


def _refused(error: Refusal, detail: str, **extensions: object) -> AppError:
    error_type, code = error
    return error_type(detail, code=code, extensions=extensions)


async def _verify(
    store: MediaStore, recording: Recording, body: RecordingComplete, settings: RecordingSettings
) -> tuple[int, str, float]:
    """The stored size, sniffed type and measured duration of the uploaded object; any
    refusal deletes the object first. Raises `MediaStoreError` when the store fails."""
    key = recording.storage_key
    if recording.upload_id:
        if not body.parts:
            raise _refused(
                RECORDING_PARTS_REQUIRED, "A multipart upload completes with its parts' ETags."
            )
        parts = [UploadedPart(number=p.part_number, etag=p.etag) for p in body.parts]
        try:
            await store.complete_multipart(key, recording.upload_id, parts)
        except MediaStoreError:
            # A part missing or an ETag wrong, or joined already (a retried complete): the
            # object tells which. A store that is down fails the stat below.
            if await store.stat(key) is None:
                raise _refused(
                    RECORDING_NOT_UPLOADED,
                    "The store could not join the parts: one is missing or its ETag differs.",
                ) from None
    stored = await store.stat(key)
    if stored is None:
        raise _refused(RECORDING_NOT_UPLOADED, "Nothing was uploaded for this recording yet.")
    if stored.size != recording.declared_size_bytes:
        await store.delete(key)
        raise _refused(
            RECORDING_SIZE_MISMATCH,
            f"{stored.size} bytes arrived, not the {recording.declared_size_bytes} declared.",
            sizeBytes=stored.size,
        )
    sniffed = probe.sniff(await store.read_prefix(key, probe.SNIFF_BYTES))
    if (
        sniffed is None
        or sniffed not in settings.allowed_types
        or not probe.same_family(recording.declared_content_type, sniffed)
    ):
        await store.delete(key)
        raise _refused(
            RECORDING_TYPE_MISMATCH,
            f"The file is not the {recording.declared_content_type} declared.",
            sniffedType=sniffed,
        )
    async with downloaded(store, key) as path:
        try:
            duration = await asyncio.to_thread(probe.measure_duration, path)
        except probe.UnreadableMediaError:
            duration = None
    if duration is None:
        await store.delete(key)
        raise _refused(RECORDING_UNREADABLE, "The file holds no audio or video that plays.")
    if duration > settings.max_duration_seconds:
        await store.delete(key)
        raise _refused(
            RECORDING_TOO_LONG,
            f"A recording lasts at most {settings.max_duration_seconds:g} seconds.",
            maxDurationSeconds=settings.max_duration_seconds,
            durationSeconds=duration,
        )
    return stored.size, sniffed, duration


async def get_recording(
    session: AsyncSession, principal: Principal, cs_id: int, task_id: int
) -> RecordingOut:
    """The caller's live recording of a handoff task of their session."""
    found = await progress.task_of_session(session, principal, cs_id, task_id)
    _require_recordable(found.task)
    recording = await repository.live(session, cs_id, task_id)
    if recording is None:
        raise _not_found()
    return _out(recording)


async def delete_recording(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    *,
    store: MediaStore,
    on_removed: Sequence[MediaRemovedHook],
    now: datetime,
) -> None:
    """Delete the caller's recording: the object (or the unfinished upload) and the
    transcript go; the row stays, marked deleted, with an audit row."""
    found = await progress.task_of_session(session, principal, cs_id, task_id)
    _require_recordable(found.task)
    recording = await repository.live(session, cs_id, task_id, for_update=True)
    if recording is None:
        raise _not_found()
    with storage_errors():
        removed = await remove_objects(store, recording)
    await mark_removed(
        session,
        recording,
        status="deleted",
        reason="candidate_deleted",
        now=now,
        removed=removed,
        hooks=on_removed,
    )
    await session.flush()


async def for_review(
    session: AsyncSession,
    cs_id: int,
    task_id: int,
    *,
    store: MediaStore,
    playback_ttl: timedelta,
) -> RecruiterRecordingOut | None:
    """The session's ready recording of the task with a short-lived playback URL, for a
    recruiter whose access to the session the caller checked."""
    recording = await repository.ready(session, cs_id, task_id)
    if recording is None:
        return None
    with storage_errors():
        playback = await store.presign_download(
            recording.storage_key,
            expires_in=playback_ttl,
            content_type=recording.content_type or recording.declared_content_type,
            filename=recording.filename,
        )
    return RecruiterRecordingOut(
        id=recording.id,
        status=recording.status,
        content_type=recording.content_type,
        size_bytes=recording.size_bytes,
        duration_seconds=recording.duration_seconds,
        duration_mismatch=recording.duration_mismatch,
        created_at=recording.created_at,
        playback_url=playback.url,
        playback_expires_at=playback.expires_at,
        transcript=TranscriptOut(
            status=recording.transcript_status,
            error_code=recording.transcript_error_code,
            language=recording.transcript_language,
            segments=[
                SegmentOut(
                    start_seconds=segment["start"], end_seconds=segment["end"], text=segment["text"]
                )
                for segment in recording.transcript_segments or []
            ],
        ),
    )


# Evaluation cites transcripts (evidence `{recordingId}:{segmentIndex}`) and shows them to
# the AI drafts; these are the reads it makes.


@dataclass(frozen=True)
class CitedRecording:
    """A recording as evidence sees it: its media removed (deleted or purged), or its
    transcript's segments in order (none until it is transcribed)."""

    recording_id: int
    removed: bool
    segments: tuple[TranscriptSegment, ...]


def _cited(recording: Recording) -> CitedRecording:
    segments = recording.transcript_segments if recording.transcript_status == "ready" else None
    return CitedRecording(
        recording_id=recording.id,
        removed=recording.status in ("deleted", "purged"),
        segments=tuple(
            TranscriptSegment(segment["start"], segment["end"], segment["text"])
            for segment in segments or []
        ),
    )


async def cited_recording(
    session: AsyncSession, cs_id: int, recording_id: int
) -> CitedRecording | None:
    """The session's recording `recording_id`, or None (another session's is None too).
    The row stays share-locked until the caller's transaction ends, so its media cannot be
    removed (and the quotes of it redacted) between checking a citation and storing it."""
    recording = await repository.of_session_shared(session, cs_id, recording_id)
    return None if recording is None else _cited(recording)


async def ready_transcript(
    session: AsyncSession, cs_id: int, task_id: int
) -> CitedRecording | None:
    """The session's ready recording of the task, when its transcript is ready too."""
    recording = await repository.ready(session, cs_id, task_id)
    if recording is None or recording.transcript_status != "ready":
        return None
    return _cited(recording)
