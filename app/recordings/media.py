"""A recording's media in the object store, as the service and the jobs use it: storage
failures as one 503 problem, the object fetched to a temporary file (removed after), and
the removal of a recording's media with its audit row."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.media.store import MediaStore, MediaStoreError, StorageUnavailableError
from app.recordings import repository
from app.recordings.models import PurgeReason, Recording, RecordingStatus
from app.services import MediaRemovedHook

log = structlog.get_logger(__name__)


@contextmanager
def storage_errors() -> Iterator[None]:
    """A store that fails answers 503 STORAGE_UNAVAILABLE (retryable), never a 500."""
    try:
        yield
    except MediaStoreError as exc:
        log.warning("recordings.storage_failed", error=str(exc))
        raise StorageUnavailableError() from exc


@asynccontextmanager
async def downloaded(store: MediaStore, key: str) -> AsyncIterator[Path]:
    """The object at `key` in a temporary file, deleted on leaving."""
    directory = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="tenon-recording-"))
    try:
        path = directory / "media"
        await store.download(key, path)
        yield path
    finally:
        await asyncio.to_thread(shutil.rmtree, directory, True)


async def remove_objects(store: MediaStore, recording: Recording) -> dict[str, Any]:
    """Delete the recording's object and abort its unfinished multipart upload (both are
    no-ops when already gone). Raises `MediaStoreError`."""
    aborted = False
    if recording.upload_id and recording.status == "uploading":
        await store.abort_multipart(recording.storage_key, recording.upload_id)
        aborted = True
    await store.delete(recording.storage_key)
    return {"object": True, "multipartAborted": aborted}


async def mark_removed(
    session: AsyncSession,
    recording: Recording,
    *,
    status: RecordingStatus,
    reason: PurgeReason,
    now: datetime,
    removed: dict[str, Any],
    hooks: Sequence[MediaRemovedHook],
) -> None:
    """The recording's media is gone: its transcript goes too, the removal is audited, and
    the hooks run in the same transaction (evaluation redacts its quotes)."""
    removed = removed | {"transcriptSegments": len(recording.transcript_segments or [])}
    recording.status = status
    if status == "purged":
        recording.purged_at = now
    else:
        recording.deleted_at = now
    recording.transcript_segments = None
    recording.transcript_language = None
    if recording.transcript_status in ("queued", "processing"):
        # A transcription on its way finds the recording gone and drops its result.
        recording.transcript_status = "disabled"
    repository.record_purge(session, recording, reason, now=now, removed=removed)
    log.info(
        "recordings.media_removed",
        recording_id=recording.id,
        reason=reason,
        storage_key=recording.storage_key,
    )
    for hook in hooks:
        await hook(
            session, candidate_session_id=recording.candidate_session_id, recording_id=recording.id
        )
