"""What the rest of Tenon knows of a transcription service: a local audio or video file in,
timed segments out (offsets in seconds from the file's start, across however many chunks the
provider's size limit forced), and the errors it can end in, each with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class TranscriptSegment:
    start_seconds: float
    end_seconds: float
    text: str


@dataclass(frozen=True)
class Transcript:
    segments: tuple[TranscriptSegment, ...]
    # As the provider reported it (e.g. "english"), when it did.
    language: str | None
    # The model that transcribed, as configured or reported.
    model: str


# The codes a `TranscriptionError` carries.
# Terminal: the file has no audio track, or is no media file at all.
TRANSCRIPTION_UNREADABLE = "TRANSCRIPTION_UNREADABLE"
# Terminal: the provider refused the request (4xx: key, model, quota, invalid audio).
TRANSCRIPTION_REJECTED = "TRANSCRIPTION_REJECTED"
# Terminal: the provider answered 200 with something other than a transcription.
TRANSCRIPTION_MALFORMED_RESPONSE = "TRANSCRIPTION_MALFORMED_RESPONSE"
# Retryable: 5xx, timeouts or connection errors outlasted a chunk's attempts.
TRANSCRIPTION_UNAVAILABLE = "TRANSCRIPTION_UNAVAILABLE"
# Retryable: 429 outlasted a chunk's attempts.
TRANSCRIPTION_RATE_LIMITED = "TRANSCRIPTION_RATE_LIMITED"


class TranscriptionError(Exception):
    """The transcription failed. `retryable`: a later attempt may succeed (429, 5xx,
    timeouts, connection errors); otherwise the failure is terminal (4xx, unreadable file)."""

    code = "TRANSCRIPTION_FAILED"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.retryable = retryable


class Transcriber(Protocol):
    async def transcribe(self, path: Path) -> Transcript:
        """Transcribe the media file at `path` (blocking work runs off the event loop)."""
        ...
