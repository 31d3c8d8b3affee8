"""A `Transcriber` for any server speaking OpenAI's `POST {base_url}/audio/transcriptions`
(OpenAI, Groq, a self-hosted faster-whisper server).

The file's audio is cut into chunks under the upload limit (see `chunks`), sent one at a
time as `verbose_json` with segment timestamps, and each chunk's segments are moved by the
chunk's offset. Temporary failures are retried per chunk, so a retry never redoes a chunk
already transcribed; once a chunk's attempts are spent the error is retryable and the job
queue tries the whole file again later.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, TypeGuard

import httpx
import structlog

from app.core.settings import TranscriptionSettings
from app.integrations.ai.errors import retry_after
from app.integrations.transcription.chunks import CONTENT_TYPE, AudioChunk, split_audio
from app.integrations.transcription.provider import (
    TRANSCRIPTION_MALFORMED_RESPONSE,
    TRANSCRIPTION_RATE_LIMITED,
    TRANSCRIPTION_REJECTED,
    TRANSCRIPTION_UNAVAILABLE,
    Transcriber,
    Transcript,
    TranscriptionError,
    TranscriptSegment,
)

log = structlog.get_logger(__name__)

# API keys as providers echo them in error messages, often masked: `sk-proj-abc…wxyz` (OpenAI),
# `gsk_…` (Groq).
_KEY_LIKE = re.compile(r"\b(?:sk|gsk)[-_][\w*.\-]{4,}")
_MESSAGE_LIMIT = 300
_REJECTED_HINT = (
    "check TENON_TRANSCRIPTION_API_KEY, TENON_TRANSCRIPTION_MODEL and TENON_TRANSCRIPTION_BASE_URL"
)


class OpenAiTranscriber:
    def __init__(self, http: httpx.AsyncClient, settings: TranscriptionSettings) -> None:
        self._http = http
        self._settings = settings
        self._url = f"{settings.base_url}/audio/transcriptions"
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None
        self._timeout = httpx.Timeout(settings.timeout_seconds)

    async def transcribe(self, path: Path) -> Transcript:
        workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="tenon-transcription-"))
        try:
            chunks = await asyncio.to_thread(
                split_audio,
                path,
                workdir,
                max_bytes=self._settings.max_upload_bytes,
                max_seconds=self._settings.max_chunk_seconds,
            )
            segments: list[TranscriptSegment] = []
            languages: list[str] = []
            for index, chunk in enumerate(chunks):
                body = await self._post_chunk(index, chunk)
                segments += _segments(body, chunk)
                if isinstance(language := body.get("language"), str) and language:
                    languages.append(language)
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)
        log.info("transcription.done", chunks=len(chunks), segments=len(segments))
        return Transcript(
            segments=tuple(segments),
            # Chunks can disagree (one of silence, one of a quoted phrase): the most
            # frequent answer, the first one on a tie.
            language=Counter(languages).most_common(1)[0][0] if languages else None,
            model=self._settings.model,
        )

    async def _post_chunk(self, index: int, chunk: AudioChunk) -> dict[str, Any]:
        content = await asyncio.to_thread(chunk.path.read_bytes)
        fields: dict[str, Any] = {
            "model": self._settings.model,
            "response_format": "verbose_json",
            "timestamp_granularities[]": "segment",
        }
        if self._settings.language:
            fields["language"] = self._settings.language
        if self._settings.prompt:
            fields["prompt"] = self._settings.prompt
        headers = {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        max_attempts = self._settings.max_attempts
        for attempt in range(1, max_attempts + 1):
            wait_hint: float | None = None
            try:
                response = await self._http.post(
                    self._url,
                    data=fields,
                    files={"file": (f"chunk-{index}.ogg", content, CONTENT_TYPE)},
                    headers=headers,
                    timeout=self._timeout,
                )
            except httpx.TimeoutException as exc:
                failure = TranscriptionError(
                    "The transcription server did not answer in time",
                    code=TRANSCRIPTION_UNAVAILABLE,
                    retryable=True,
                )
                failure.__cause__ = exc
            except httpx.TransportError as exc:
                failure = TranscriptionError(
                    f"The transcription server could not be reached ({type(exc).__name__})",
                    code=TRANSCRIPTION_UNAVAILABLE,
                    retryable=True,
                )
                failure.__cause__ = exc
            else:
                if response.is_success:
                    return _json_body(response)
                failure = self._status_error(response)
                if not failure.retryable:
                    raise failure
                if response.status_code == 429:
                    wait_hint = retry_after(response.headers)
            if attempt == max_attempts:
                raise failure
            wait = self._wait(attempt, wait_hint)
            log.warning(
                "transcription.chunk.retry",
                chunk=index,
                attempt=attempt,
                code=failure.code,
                reason=str(failure),
                wait_seconds=wait,
            )
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, attempt: int, retry_after_seconds: float | None) -> float:
        backoff = self._settings.retry_backoff_seconds * 2 ** (attempt - 1)
        wanted = retry_after_seconds if retry_after_seconds is not None else backoff
        return min(wanted, self._settings.retry_max_wait_seconds)

    def _status_error(self, response: httpx.Response) -> TranscriptionError:
        status = response.status_code
        message, code = _provider_error(response)
        if status == 429 and code == "insufficient_quota":
            # OpenAI's "out of credit" is a 429 too, but no retry helps until billing changes.
            return TranscriptionError(
                self._redacted(f"The transcription account has no quota left: {message}"),
                code=TRANSCRIPTION_REJECTED,
            )
        if status == 429:
            return TranscriptionError(
                "The transcription server's rate limit was reached (HTTP 429)",
                code=TRANSCRIPTION_RATE_LIMITED,
                retryable=True,
            )
        if status >= 500 or status == 408:
            return TranscriptionError(
                f"The transcription server is unavailable (HTTP {status})",
                code=TRANSCRIPTION_UNAVAILABLE,
                retryable=True,
            )
        return TranscriptionError(
            self._redacted(
                f"The transcription server rejected the request (HTTP {status}): {message}; "
                + _REJECTED_HINT
            ),
            code=TRANSCRIPTION_REJECTED,
        )

    def _redacted(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[API key]")
        return _KEY_LIKE.sub("[API key]", text)


def _provider_error(response: httpx.Response) -> tuple[str, str | None]:
    """The message and code of OpenAI's `{"error": {"message", "code"}}`, or the start of
    whatever else the server sent."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        code = error.get("code")
        return error["message"][:_MESSAGE_LIMIT], code if isinstance(code, str) else None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        # FastAPI-based servers (faster-whisper's) answer `{"detail": ...}`.
        return body["detail"][:_MESSAGE_LIMIT], None
    return response.text[:_MESSAGE_LIMIT].strip() or "no message", None


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise _malformed("is not JSON") from exc
    if not isinstance(body, dict):
        raise _malformed("is not a JSON object")
    return body


def _segments(body: dict[str, Any], chunk: AudioChunk) -> list[TranscriptSegment]:
    """The chunk's segments in the file's time. Times are kept within the chunk (models
    sometimes end the last segment a little past the audio) so that chunks never overlap.
    A server that answers with the text only (no `segments`) gets one segment spanning the
    chunk: the words are kept, their timing is as precise as the chunk."""
    raw = body.get("segments")
    if raw is None:
        text = body.get("text")
        if not isinstance(text, str):
            raise _malformed("has neither segments nor text")
        raw = [{"start": 0.0, "end": chunk.duration_seconds, "text": text}]
    if not isinstance(raw, list):
        raise _malformed("has segments that are not a list")
    segments = []
    for item in raw:
        start, end, text = _segment_fields(item)
        start = min(max(start, 0.0), chunk.duration_seconds)
        end = min(max(end, start), chunk.duration_seconds)
        if text.strip():
            segments.append(
                TranscriptSegment(
                    start_seconds=round(chunk.start_seconds + start, 3),
                    end_seconds=round(chunk.start_seconds + end, 3),
                    text=text.strip(),
                )
            )
    return segments


def _segment_fields(item: object) -> tuple[float, float, str]:
    if isinstance(item, dict):
        start, end, text = item.get("start"), item.get("end"), item.get("text")
        if _is_number(start) and _is_number(end) and isinstance(text, str):
            return start, end, text
    raise _malformed("has a segment without numeric start and end and a text")


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _malformed(problem: str) -> TranscriptionError:
    return TranscriptionError(
        f"The transcription server's answer {problem}", code=TRANSCRIPTION_MALFORMED_RESPONSE
    )


def build_transcriber(
    settings: TranscriptionSettings, http: httpx.AsyncClient
) -> Transcriber | None:
    """The transcriber the settings choose, or None with TENON_TRANSCRIPTION_PROVIDER=none."""
    if settings.provider == "none":
        return None
    return OpenAiTranscriber(http, settings)
