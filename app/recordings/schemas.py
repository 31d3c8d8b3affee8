"""Request and response models of the Day 4 recording."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.core.schemas import ApiModel, example
from app.recordings.models import RecordingStatus, TranscriptStatus

# S3 numbers parts 1..10000.
MAX_PARTS = 10_000
PartNumber = Annotated[int, Field(ge=1, le=MAX_PARTS)]
_EXPIRES = "2026-12-04T11:00:00Z"
_SIGNED_PUT = {
    "method": "PUT",
    "url": "https://media.example/recordings/412/9f2c?X-Amz-Signature=…",
    "headers": {"Content-Type": "video/webm"},
    "expiresAt": _EXPIRES,
}


class ConsentOut(ApiModel):
    model_config = example(
        {"version": "2026-12-01", "text": "Your recording and its transcript are shared…"}
    )

    version: str = Field(description="Send it back as `consentVersion` to complete an upload.")
    text: str


class RecordingInit(ApiModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    size_bytes: int = Field(
        ge=1, le=2**53, description="Checked against TENON_RECORDING_MAX_BYTES."
    )


class SignedRequestOut(ApiModel):
    method: str
    url: str
    headers: dict[str, str] = Field(description="Send these headers exactly: they are signed.")
    expires_at: datetime


class SignedPartOut(SignedRequestOut):
    part_number: int


class SingleUpload(ApiModel):
    kind: Literal["single"] = "single"
    request: SignedRequestOut = Field(description="One PUT of the whole file.")


class MultipartUpload(ApiModel):
    kind: Literal["multipart"] = "multipart"
    upload_id: str
    part_size_bytes: int = Field(description="Every part but the last has exactly this size.")
    part_count: int
    parts: list[SignedPartOut] = Field(
        description="A PUT per part; keep each answer's ETag header for `complete`."
    )


class RecordingInitOut(ApiModel):
    model_config = example(
        {
            "recordingId": 31,
            "status": "uploading",
            "upload": {"kind": "single", "request": _SIGNED_PUT},
        }
    )

    recording_id: int
    status: RecordingStatus
    upload: SingleUpload | MultipartUpload = Field(discriminator="kind")


class RecordingParts(ApiModel):
    recording_id: int = Field(ge=1, le=2**63 - 1)
    part_numbers: list[PartNumber] = Field(min_length=1, max_length=MAX_PARTS)


class RecordingPartsOut(ApiModel):
    model_config = example({"parts": [_SIGNED_PUT | {"partNumber": 2}]})

    parts: list[SignedPartOut]


class UploadedPartIn(ApiModel):
    part_number: PartNumber
    etag: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RecordingComplete(ApiModel):
    recording_id: int = Field(ge=1, le=2**63 - 1)
    consent_version: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None, description="The version of the consent notice the candidate accepted."
    )
    parts: list[UploadedPartIn] | None = Field(
        default=None, max_length=MAX_PARTS, description="Multipart uploads: every part's ETag."
    )
    duration_seconds: float | None = Field(
        default=None,
        ge=0,
        le=10**7,
        description="What the client measured; informative only (the server measures).",
    )


class TranscriptSummary(ApiModel):
    status: TranscriptStatus
    error_code: str | None
    segment_count: int


class RecordingOut(ApiModel):
    model_config = example(
        {
            "recordingId": 31,
            "taskId": 84,
            "status": "ready",
            "filename": "handoff.webm",
            "contentType": "video/webm",
            "sizeBytes": 48213377,
            "durationSeconds": 312.4,
            "consentVersion": "2026-12-01",
            "createdAt": "2026-12-04T10:00:00Z",
            "completedAt": "2026-12-04T10:04:12Z",
            "transcript": {"status": "queued", "errorCode": None, "segmentCount": 0},
        }
    )

    recording_id: int
    task_id: int
    status: RecordingStatus
    filename: str
    content_type: str | None = Field(description="Sniffed from the bytes; null until complete.")
    size_bytes: int | None = Field(description="As stored; null until complete.")
    duration_seconds: float | None = Field(description="Measured from the file.")
    consent_version: str | None
    created_at: datetime
    completed_at: datetime | None
    transcript: TranscriptSummary


class SegmentOut(ApiModel):
    start_seconds: float
    end_seconds: float
    text: str


class TranscriptOut(ApiModel):
    status: TranscriptStatus = Field(
        description="`disabled` when no transcription service is configured."
    )
    error_code: str | None
    language: str | None
    segments: list[SegmentOut]


class RecruiterRecordingOut(ApiModel):
    model_config = example(
        {
            "id": 31,
            "status": "ready",
            "contentType": "video/webm",
            "sizeBytes": 48213377,
            "durationSeconds": 312.4,
            "durationMismatch": False,
            "createdAt": "2026-12-04T10:00:00Z",
            "playbackUrl": "https://media.example/recordings/412/9f2c?X-Amz-Signature=…",
            "playbackExpiresAt": "2026-12-05T09:10:00Z",
            "transcript": {
                "status": "ready",
                "errorCode": None,
                "language": "english",
                "segments": [
                    {"startSeconds": 0.0, "endSeconds": 4.2, "text": "Here is where I left off."}
                ],
            },
        }
    )

    id: int
    status: RecordingStatus
    content_type: str | None
    size_bytes: int | None
    duration_seconds: float | None = Field(description="Measured from the file.")
    duration_mismatch: bool = Field(
        description="The duration the candidate's client declared differs much from this one."
    )
    created_at: datetime
    playback_url: str = Field(description="A short-lived signed GET (Range requests work).")
    playback_expires_at: datetime
    transcript: TranscriptOut
