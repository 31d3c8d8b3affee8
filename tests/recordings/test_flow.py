"""The Day 4 recording over real HTTP, on the local store and on S3 (moto): init, a plain
PUT to the signed URL, complete (size, sniffed type and measured duration), the candidate's
status, the recruiter's playback, and the candidate's deletion; with every way an upload is
refused, and the object of a refused upload deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.core.settings import MIB, RecordingSettings, StorageSettings
from app.recordings.models import MediaPurge, Recording
from tests.support.api import TEXT_TASKS, assert_problem, bearer
from tests.support.emulator import free_port
from tests.support.identity import IdentityProvider
from tests.support.media import s3_settings
from tests.support.media_files import make_media
from tests.support.recordings import Stage, claimed, put, staged


async def _row(db_session: AsyncSession, recording_id: int) -> Recording:
    db_session.expire_all()
    recording = await db_session.get(Recording, recording_id)
    assert recording is not None
    return recording


async def _purges(db_session: AsyncSession, recording_id: int) -> list[MediaPurge]:
    statement = select(MediaPurge).where(MediaPurge.recording_id == recording_id)
    return list((await db_session.scalars(statement)).all())


async def test_a_recording_goes_up_plays_back_and_is_deleted(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    candidate = await claimed(stage)
    path = make_media(tmp_path, "webm", 2.0)
    started = await candidate.upload(path)
    assert started["status"] == "uploading"
    assert started["upload"]["kind"] == "single"
    recording_id = started["recordingId"]

    uploading = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert (uploading.status_code, uploading.json()["status"]) == (200, "uploading")

    done = await candidate.complete(recording_id)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "ready"
    assert body["contentType"] == "video/webm"
    assert body["sizeBytes"] == path.stat().st_size
    assert body["durationSeconds"] == pytest.approx(2.0, abs=0.06)
    # Offline default: no transcription service, and the recording is reviewable as it is.
    assert body["transcript"] == {"status": "disabled", "errorCode": None, "segmentCount": 0}
    row = await _row(db_session, recording_id)
    assert row.consent_version == body["consentVersion"]
    assert row.consented_at is not None
    # Completing again answers the same recording.
    again = await candidate.complete(recording_id)
    assert (again.status_code, again.json()) == (200, body)
    status = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert status.json() == body

    submission_id = await candidate.submit()
    detail = await stage.world.client.get(
        f"/api/submissions/{submission_id}", headers=stage.world.recruiter
    )
    assert detail.status_code == 200, detail.text
    recording = detail.json()["recording"]
    assert recording["id"] == recording_id
    assert recording["contentType"] == "video/webm"
    assert recording["durationSeconds"] == body["durationSeconds"]
    assert recording["durationMismatch"] is False
    assert recording["transcript"] == {
        "status": "disabled",
        "errorCode": None,
        "language": None,
        "segments": [],
    }
    expires = datetime.fromisoformat(recording["playbackExpiresAt"])
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    played = await stage.http.get(recording["playbackUrl"])
    assert played.status_code == 200
    assert played.content == path.read_bytes()
    ranged = await stage.http.get(recording["playbackUrl"], headers={"Range": "bytes=0-9"})
    assert (ranged.status_code, ranged.content) == (206, path.read_bytes()[:10])
    hidden = await stage.world.client.get(
        f"/api/submissions/{submission_id}", headers=stage.world.outsider
    )
    assert_problem(hidden, 404, "SUBMISSION_NOT_FOUND")

    # Deleting is the candidate's, after the submit too: the object goes, not only the row.
    deleted = await stage.world.client.delete(candidate.url(), headers=candidate.headers)
    assert deleted.status_code == 204, deleted.text
    row = await _row(db_session, recording_id)
    assert (row.status, row.deleted_at is not None) == ("deleted", True)
    assert await stage.store.stat(row.storage_key) is None
    assert (await stage.http.get(recording["playbackUrl"])).status_code in (403, 404)
    [purge] = await _purges(db_session, recording_id)
    assert (purge.reason, purge.storage_key, purge.candidate_session_id) == (
        "candidate_deleted",
        row.storage_key,
        candidate.cs_id,
    )
    assert purge.removed == {"object": True, "multipartAborted": False, "transcriptSegments": 0}
    gone = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert_problem(gone, 404, "RECORDING_NOT_FOUND")
    assert_problem(
        await stage.world.client.delete(candidate.url(), headers=candidate.headers),
        404,
        "RECORDING_NOT_FOUND",
    )
    after = await stage.world.client.get(
        f"/api/submissions/{submission_id}", headers=stage.world.recruiter
    )
    assert after.json()["recording"] is None


@pytest.mark.parametrize("kind", ["mp4", "mov", "m4a", "mp3", "wav"])
async def test_every_accepted_container_completes_with_its_measured_duration(
    stage: Stage, tmp_path: Path, kind: str
) -> None:
    candidate = await claimed(stage)
    path = make_media(tmp_path, kind, 1.5)
    started = await candidate.upload(path)
    done = await candidate.complete(started["recordingId"])
    assert done.status_code == 200, done.text
    assert done.json()["durationSeconds"] == pytest.approx(1.5, abs=0.06)


async def test_a_large_upload_goes_in_parts_and_resumes_with_parts_signed_again(
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
    path = make_media(tmp_path, "wav", 70.0)  # 6.7 MB: two parts
    data = path.read_bytes()
    async with staged(
        storage_settings, database_url, idp, database, db_session, recording=parts
    ) as stage:
        candidate = await claimed(stage)
        started = await candidate.init(path)
        assert started.status_code == 200, started.text
        upload = started.json()["upload"]
        assert (upload["kind"], upload["partSizeBytes"], upload["partCount"]) == (
            "multipart",
            5 * MIB,
            2,
        )
        recording_id = started.json()["recordingId"]
        first = await put(stage.http, upload["parts"][0], data[: 5 * MIB])
        # The connection dropped before part 2: its URL is signed again, and the upload
        # goes on from there.
        resigned = await stage.world.client.post(
            candidate.url("/parts"),
            json={"recordingId": recording_id, "partNumbers": [2]},
            headers=candidate.headers,
        )
        assert resigned.status_code == 200, resigned.text
        [part] = resigned.json()["parts"]
        assert part["partNumber"] == 2
        second = await put(stage.http, part, data[5 * MIB :])
        outside = await stage.world.client.post(
            candidate.url("/parts"),
            json={"recordingId": recording_id, "partNumbers": [3]},
            headers=candidate.headers,
        )
        assert assert_problem(outside, 422, "RECORDING_PART_OUT_OF_RANGE")["partCount"] == 2

        without_parts = await candidate.complete(recording_id)
        assert_problem(without_parts, 422, "RECORDING_PARTS_REQUIRED")
        wrong_etag = await candidate.complete(
            recording_id,
            parts=[{"partNumber": 1, "etag": first}, {"partNumber": 2, "etag": '"0000"'}],
        )
        assert_problem(wrong_etag, 409, "RECORDING_NOT_UPLOADED")
        done = await candidate.complete(
            recording_id,
            parts=[{"partNumber": 1, "etag": first}, {"partNumber": 2, "etag": second}],
        )
        assert done.status_code == 200, done.text
        assert done.json()["sizeBytes"] == len(data)
        assert done.json()["durationSeconds"] == pytest.approx(70.0, abs=0.06)
        row = await _row(db_session, recording_id)
        assert row.upload_id is None
        # Deleting a completed multipart recording deletes its object.
        deleted = await stage.world.client.delete(candidate.url(), headers=candidate.headers)
        assert deleted.status_code == 204
        assert await stage.store.stat(row.storage_key) is None


async def test_parts_that_do_not_add_up_to_the_declared_size_are_refused_and_deleted(
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
    data = make_media(tmp_path, "wav", 70.0).read_bytes()
    async with staged(
        storage_settings, database_url, idp, database, db_session, recording=parts
    ) as stage:
        candidate = await claimed(stage)
        started = await candidate.init(tmp_path / "clip.wav")
        upload = started.json()["upload"]
        etags = [
            await put(stage.http, upload["parts"][0], data[: 5 * MIB]),
            await put(stage.http, upload["parts"][1], data[5 * MIB : -1000]),
        ]
        refused = await candidate.complete(
            started.json()["recordingId"],
            parts=[{"partNumber": n + 1, "etag": etag} for n, etag in enumerate(etags)],
        )
        body = assert_problem(refused, 422, "RECORDING_SIZE_MISMATCH")
        assert body["sizeBytes"] == len(data) - 1000
        row = await _row(db_session, started.json()["recordingId"])
        assert await stage.store.stat(row.storage_key) is None


async def test_a_file_whose_declared_type_lies_is_refused_and_deleted(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    candidate = await claimed(stage)
    wav = make_media(tmp_path, "wav", 1.0)
    started = await candidate.upload(wav, contentType="video/mp4", filename="talk.mp4")
    refused = await candidate.complete(started["recordingId"])
    assert assert_problem(refused, 422, "RECORDING_TYPE_MISMATCH")["sniffedType"] == "audio/wav"
    row = await _row(db_session, started["recordingId"])
    assert row.status == "uploading"
    assert await stage.store.stat(row.storage_key) is None
    # Nothing was uploaded any more: completing again says so, and a new init starts over.
    assert_problem(await candidate.complete(started["recordingId"]), 409, "RECORDING_NOT_UPLOADED")
    retry = await candidate.upload(wav)
    assert (await candidate.complete(retry["recordingId"])).status_code == 200


async def test_a_file_that_is_no_media_is_refused_as_a_type_mismatch(
    stage: Stage, tmp_path: Path
) -> None:
    candidate = await claimed(stage)
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"Not a video, only notes. " * 40)
    started = await candidate.upload(text)
    refused = await candidate.complete(started["recordingId"])
    assert assert_problem(refused, 422, "RECORDING_TYPE_MISMATCH")["sniffedType"] is None


async def test_a_declared_duration_is_never_trusted(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    candidate = await claimed(stage)
    path = make_media(tmp_path, "mp4", 2.0)
    started = await candidate.upload(path)
    done = await candidate.complete(started["recordingId"], durationSeconds=600)
    assert done.status_code == 200, done.text
    assert done.json()["durationSeconds"] == pytest.approx(2.0, abs=0.06)
    row = await _row(db_session, started["recordingId"])
    assert (row.declared_duration_seconds, row.duration_mismatch) == (600, True)
    submission_id = await candidate.submit()
    detail = await stage.world.client.get(
        f"/api/submissions/{submission_id}", headers=stage.world.recruiter
    )
    assert detail.json()["recording"]["durationMismatch"] is True

    close = await claimed(stage)
    started = await close.upload(path)
    done = await close.complete(started["recordingId"], durationSeconds=2.5)
    row = await _row(db_session, started["recordingId"])
    assert (row.declared_duration_seconds, row.duration_mismatch) == (2.5, False)


async def test_an_empty_recording_is_unreadable_and_deleted(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    candidate = await claimed(stage)
    silent = make_media(tmp_path, "wav", 0.0, name="silent")
    started = await candidate.upload(silent)
    refused = await candidate.complete(started["recordingId"])
    assert_problem(refused, 422, "RECORDING_UNREADABLE")
    row = await _row(db_session, started["recordingId"])
    assert await stage.store.stat(row.storage_key) is None
    nothing = await candidate.init(silent, sizeBytes=0)
    assert_problem(nothing, 422, "VALIDATION_FAILED")


async def test_a_recording_over_the_duration_limit_is_refused_and_deleted(
    storage_settings: StorageSettings,
    database_url: str,
    idp: IdentityProvider,
    database: Database,
    db_session: AsyncSession,
    tmp_path: Path,
) -> None:
    short = RecordingSettings(_env_file=None, max_duration_seconds=1.0)
    async with staged(
        storage_settings, database_url, idp, database, db_session, recording=short
    ) as stage:
        candidate = await claimed(stage)
        started = await candidate.upload(make_media(tmp_path, "mp3", 2.0))
        refused = await candidate.complete(started["recordingId"])
        body = assert_problem(refused, 422, "RECORDING_TOO_LONG")
        assert body["maxDurationSeconds"] == 1.0
        row = await _row(db_session, started["recordingId"])
        assert await stage.store.stat(row.storage_key) is None


async def test_init_checks_the_declared_type_and_size_against_the_limits(
    stage: Stage, tmp_path: Path
) -> None:
    candidate = await claimed(stage)
    path = make_media(tmp_path, "webm", 1.0)
    limit = stage.services.settings.recording.max_bytes
    too_large = await candidate.init(path, sizeBytes=limit + 1)
    assert assert_problem(too_large, 413, "RECORDING_TOO_LARGE")["maxBytes"] == limit
    avi = await candidate.init(path, contentType="video/x-msvideo")
    assert "video/webm" in assert_problem(avi, 422, "RECORDING_TYPE_NOT_ALLOWED")["allowedTypes"]
    # What MediaRecorder reports, codecs included, is its type.
    browser = await candidate.init(path, contentType="video/webm;codecs=vp8,opus")
    assert browser.status_code == 200, browser.text


async def test_completing_needs_the_current_consent_version(stage: Stage, tmp_path: Path) -> None:
    consent = await stage.world.client.get("/api/recording-consent")
    assert consent.status_code == 200
    settings = stage.services.settings.recording
    assert consent.json() == {"version": settings.consent_version, "text": settings.consent_text}
    candidate = await claimed(stage)
    started = await candidate.upload(make_media(tmp_path, "m4a", 1.0))
    for stale in ({"consentVersion": None}, {"consentVersion": "2020-01-01"}):
        refused = await candidate.complete(started["recordingId"], **stale)
        body = assert_problem(refused, 422, "RECORDING_CONSENT_REQUIRED")
        assert body["consentVersion"] == settings.consent_version
    # The upload is kept: consenting completes it.
    assert (await candidate.complete(started["recordingId"])).status_code == 200


async def test_only_the_handoff_task_takes_a_recording(stage: Stage, tmp_path: Path) -> None:
    candidate = await claimed(stage, TEXT_TASKS)
    path = make_media(tmp_path, "wav", 1.0)
    assert_problem(await candidate.init(path), 409, "TASK_NOT_RECORDABLE")
    read = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert_problem(read, 409, "TASK_NOT_RECORDABLE")


async def test_another_candidates_session_and_another_simulations_task_are_404(
    stage: Stage, tmp_path: Path
) -> None:
    candidate = await claimed(stage)
    path = make_media(tmp_path, "wav", 1.0)
    started = await candidate.upload(path)
    bob = bearer(
        stage.world.idp.token(
            subject="auth0|bob", permissions=("candidate:access",), email="bob@example.com"
        )
    ) | {"x-candidate-session-id": str(candidate.cs_id)}
    client = stage.world.client
    body = {"recordingId": started["recordingId"], "consentVersion": "2026-12-01"}
    for answer in (
        await client.get(candidate.url(), headers=bob),
        await client.post(candidate.url("/complete"), json=body, headers=bob),
        await client.delete(candidate.url(), headers=bob),
        await client.post(
            candidate.url("/init"),
            json={"filename": "a.wav", "contentType": "audio/wav", "sizeBytes": 10},
            headers=bob,
        ),
    ):
        assert_problem(answer, 404, "CANDIDATE_SESSION_NOT_FOUND")
    elsewhere = await claimed(stage)
    foreign = await client.get(candidate.url(task_id=elsewhere.task_id), headers=candidate.headers)
    assert_problem(foreign, 404, "TASK_NOT_FOUND")
    # Another session's recording id is not this one's.
    mixed = await elsewhere.complete(started["recordingId"])
    assert_problem(mixed, 404, "RECORDING_NOT_FOUND")


async def test_a_new_init_replaces_an_unfinished_upload_but_not_a_ready_recording(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    candidate = await claimed(stage)
    path = make_media(tmp_path, "wav", 1.0)
    first = await candidate.upload(path)
    second = await candidate.upload(path)
    old = await _row(db_session, first["recordingId"])
    assert old.status == "deleted"
    assert await stage.store.stat(old.storage_key) is None
    [purge] = await _purges(db_session, old.id)
    assert purge.reason == "replaced"
    assert (await candidate.complete(second["recordingId"])).status_code == 200
    refused = await candidate.init(path)
    assert assert_problem(refused, 409, "RECORDING_EXISTS")["recordingId"] == second["recordingId"]
    # The replaced one cannot be completed any more.
    assert_problem(await candidate.complete(first["recordingId"]), 404, "RECORDING_NOT_FOUND")


async def test_after_the_deadline_the_candidate_can_still_delete_but_not_upload(
    stage: Stage, tmp_path: Path, db_session: AsyncSession
) -> None:
    candidate = await claimed(stage)
    path = make_media(tmp_path, "wav", 1.0)
    started = await candidate.upload(path)
    assert (await candidate.complete(started["recordingId"])).status_code == 200
    cs = await db_session.get(CandidateSession, candidate.cs_id)
    assert cs is not None
    cs.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await db_session.flush()
    late = await candidate.init(path)
    assert_problem(late, 410, "SESSION_EXPIRED")
    read = await stage.world.client.get(candidate.url(), headers=candidate.headers)
    assert read.json()["status"] == "ready"
    deleted = await stage.world.client.delete(candidate.url(), headers=candidate.headers)
    assert deleted.status_code == 204
    row = await _row(db_session, started["recordingId"])
    assert await stage.store.stat(row.storage_key) is None


async def test_a_store_that_fails_answers_503_and_changes_nothing(
    database_url: str,
    idp: IdentityProvider,
    database: Database,
    db_session: AsyncSession,
    tmp_path: Path,
) -> None:
    # An S3 endpoint nobody listens on: signing works offline, every call fails.
    dead = s3_settings(f"http://127.0.0.1:{free_port()}", "gone")
    async with staged(dead, database_url, idp, database, db_session) as stage:
        candidate = await claimed(stage)
        path = make_media(tmp_path, "wav", 1.0)
        started = await candidate.init(path)
        assert started.status_code == 200, started.text
        recording_id = started.json()["recordingId"]
        refused = await candidate.complete(recording_id)
        assert assert_problem(refused, 503, "STORAGE_UNAVAILABLE")["retryable"] is True
        assert_problem(
            await stage.world.client.delete(candidate.url(), headers=candidate.headers),
            503,
            "STORAGE_UNAVAILABLE",
        )
        # A new upload must drop the unfinished one's object first: refused, nothing lost.
        assert_problem(await candidate.init(path), 503, "STORAGE_UNAVAILABLE")
        row = await _row(db_session, recording_id)
        assert row.status == "uploading"
