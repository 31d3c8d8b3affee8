"""The Day 4 recording: the consent notice, and the candidate's upload, status and deletion
of their handoff task's recording. Recruiters see it in the submission detail."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Response, status

from app.auth.dependencies import CandidateUser
from app.candidate_sessions.dependencies import CandidateSessionHeader
from app.candidate_sessions.progress import CURRENT_TASK_ERRORS, SESSION_TASK_ERRORS
from app.core.clock import CurrentClock
from app.core.db import DbReader, DbSession
from app.core.middleware import without_request_deadline
from app.core.openapi import raises
from app.core.schemas import EntityId
from app.core.settings import CurrentSettings
from app.media.store import STORAGE_UNAVAILABLE
from app.recordings import service
from app.recordings.schemas import (
    ConsentOut,
    RecordingComplete,
    RecordingInit,
    RecordingInitOut,
    RecordingOut,
    RecordingParts,
    RecordingPartsOut,
)
from app.recordings.service import (
    RECORDING_CONSENT_REQUIRED,
    RECORDING_EXISTS,
    RECORDING_NOT_FOUND,
    RECORDING_NOT_MULTIPART,
    RECORDING_NOT_UPLOADED,
    RECORDING_PART_OUT_OF_RANGE,
    RECORDING_PARTS_REQUIRED,
    RECORDING_SIZE_MISMATCH,
    RECORDING_TOO_LARGE,
    RECORDING_TOO_LONG,
    RECORDING_TYPE_MISMATCH,
    RECORDING_TYPE_NOT_ALLOWED,
    RECORDING_UNREADABLE,
    TASK_NOT_RECORDABLE,
)
from app.services import CurrentServices

router = APIRouter(tags=["recordings"])


@router.get("/recording-consent", response_model=ConsentOut)
async def get_recording_consent(settings: CurrentSettings) -> ConsentOut:
    """The current recording notice a candidate accepts before completing an upload."""
    # Public: the notice is what anyone asked to record is shown, before signing in too.
    return service.consent(settings.recording)


@router.post("/tasks/{task_id}/recording/init", response_model=RecordingInitOut)
@raises(
    *CURRENT_TASK_ERRORS,
    TASK_NOT_RECORDABLE,
    RECORDING_TYPE_NOT_ALLOWED,
    RECORDING_TOO_LARGE,
    RECORDING_EXISTS,
    STORAGE_UNAVAILABLE,
)
async def init_recording(
    task_id: EntityId,
    body: RecordingInit,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    services: CurrentServices,
) -> RecordingInitOut:
    """Start uploading the handoff task's recording: signed PUTs straight to the store."""
    return await service.init_upload(
        session,
        candidate,
        cs_id,
        task_id,
        body,
        store=services.media,
        settings=services.settings.recording,
        url_ttl=timedelta(seconds=services.settings.storage.upload_url_ttl_seconds),
        on_removed=services.media_removed,
        now=clock.now(),
    )


@router.post("/tasks/{task_id}/recording/parts", response_model=RecordingPartsOut)
@raises(
    *CURRENT_TASK_ERRORS,
    TASK_NOT_RECORDABLE,
    RECORDING_NOT_FOUND,
    RECORDING_NOT_MULTIPART,
    RECORDING_PART_OUT_OF_RANGE,
    STORAGE_UNAVAILABLE,
)
async def sign_recording_parts(
    task_id: EntityId,
    body: RecordingParts,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbReader,
    clock: CurrentClock,
    services: CurrentServices,
) -> RecordingPartsOut:
    """Sign some parts of an unfinished multipart upload again, to resume it."""
    return await service.sign_parts(
        session,
        candidate,
        cs_id,
        task_id,
        body,
        store=services.media,
        url_ttl=timedelta(seconds=services.settings.storage.upload_url_ttl_seconds),
        now=clock.now(),
    )


@router.post(
    "/tasks/{task_id}/recording/complete",
    response_model=RecordingOut,
    # Fetching and demuxing a file of up to TENON_RECORDING_MAX_BYTES can outlast the
    # request deadline; the work is bounded by that size.
    dependencies=[Depends(without_request_deadline)],
)
@raises(
    *CURRENT_TASK_ERRORS,
    TASK_NOT_RECORDABLE,
    RECORDING_NOT_FOUND,
    RECORDING_CONSENT_REQUIRED,
    RECORDING_PARTS_REQUIRED,
    RECORDING_NOT_UPLOADED,
    RECORDING_SIZE_MISMATCH,
    RECORDING_TYPE_MISMATCH,
    RECORDING_UNREADABLE,
    RECORDING_TOO_LONG,
    STORAGE_UNAVAILABLE,
)
async def complete_recording(
    task_id: EntityId,
    body: RecordingComplete,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    services: CurrentServices,
) -> RecordingOut:
    """Check the uploaded file (size, type, measured duration) and make it ready."""
    return await service.complete_upload(
        session,
        candidate,
        cs_id,
        task_id,
        body,
        store=services.media,
        settings=services.settings.recording,
        transcription_enabled=services.transcriber is not None,
        now=clock.now(),
    )


@router.get("/tasks/{task_id}/recording", response_model=RecordingOut)
@raises(*SESSION_TASK_ERRORS, TASK_NOT_RECORDABLE, RECORDING_NOT_FOUND)
async def get_recording(
    task_id: EntityId, candidate: CandidateUser, cs_id: CandidateSessionHeader, session: DbReader
) -> RecordingOut:
    """The caller's recording of the handoff task, with its transcript's progress."""
    return await service.get_recording(session, candidate, cs_id, task_id)


@router.delete(
    "/tasks/{task_id}/recording",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
@raises(*SESSION_TASK_ERRORS, TASK_NOT_RECORDABLE, RECORDING_NOT_FOUND, STORAGE_UNAVAILABLE)
async def delete_recording(
    task_id: EntityId,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    services: CurrentServices,
) -> None:
    """Delete the recording and its transcript (also after the deadline: it is yours)."""
    await service.delete_recording(
        session,
        candidate,
        cs_id,
        task_id,
        store=services.media,
        on_removed=services.media_removed,
        now=clock.now(),
    )
