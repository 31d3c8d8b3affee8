"""A fake OpenAI-compatible transcription server on 127.0.0.1, over real HTTP.

`POST /v1/audio/transcriptions` records every upload (headers, form fields, the file and
its duration, decoded with PyAV) and answers with the next scripted step: a `Reply` (a
status, a body, headers, a delay) or a function of the upload returning one. With nothing
scripted, and for a `Reply()` without a body, it answers as Whisper would: `verbose_json`
with a segment per `segment_seconds` of the uploaded chunk, in the chunk's own time.

    server.then(rate_limited("1"), server_error(503))  # then the default answer
    settings = fake_transcription_settings(server, max_upload_bytes=16_384)
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import av
import av.error
import pytest

from app.core.settings import TranscriptionSettings
from tests.support.media_samples import audio_duration

FAKE_TRANSCRIPTION_KEY = "sk-proj-transcribe0123456789abcdef"
FAKE_LANGUAGE = "english"


@dataclass(frozen=True)
class Upload:
    """One request the server received."""

    path: str
    headers: dict[str, str]  # lower-cased names
    # Every form field but the file; repeated fields (`timestamp_granularities[]`) listed.
    fields: dict[str, list[str]]
    filename: str | None
    content_type: str | None
    audio: bytes
    # Seconds of audio in the uploaded file; None when it does not decode.
    duration_seconds: float | None

    def field(self, name: str) -> str:
        (value,) = self.fields[name]
        return value


@dataclass(frozen=True)
class Reply:
    status: int = 200
    # A dict or list is sent as JSON, a str as it is; None (with 200): the Whisper-like answer.
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (to make the client time out).
    delay: float = 0.0


Step = Reply | Callable[[Upload], Reply]


def openai_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def rate_limited(retry_after: str | None = None) -> Reply:
    return Reply(
        429,
        openai_error("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
        {"retry-after": retry_after} if retry_after is not None else {},
    )


def server_error(status: int = 500) -> Reply:
    return Reply(status, openai_error("The server had an error", "server_error"))


def rejected(message: str, status: int = 400, code: str | None = None) -> Reply:
    return Reply(status, openai_error(message, "invalid_request_error", code))


def text_only(text: str) -> Reply:
    """What a server that ignores `timestamp_granularities` answers."""
    return Reply(200, {"text": text})


def slow(seconds: float) -> Reply:
    """The normal answer, after `seconds`."""
    return Reply(delay=seconds)


def whisper_answer(
    duration: float, *, label: str, segment_seconds: float, language: str = FAKE_LANGUAGE
) -> dict[str, Any]:
    """`verbose_json` as OpenAI sends it, a segment per `segment_seconds` of `duration`."""
    # The last segment takes up a remainder shorter than half a segment.
    count = max(round(duration / segment_seconds), 1)
    segments = [
        {
            "id": index,
            "seek": 0,
            "start": index * segment_seconds,
            "end": duration if index == count - 1 else (index + 1) * segment_seconds,
            "text": f" {label} segment {index}.",
            "tokens": [50364, 1012, 50414],
            "temperature": 0.0,
            "avg_logprob": -0.21,
            "compression_ratio": 1.1,
            "no_speech_prob": 0.01,
        }
        for index in range(count)
    ]
    return {
        "task": "transcribe",
        "language": language,
        "duration": duration,
        "text": "".join(segment["text"] for segment in segments).strip(),
        "segments": segments,
    }


class FakeTranscriptionServer:
    def __init__(self, *, segment_seconds: float = 1.0) -> None:
        self.segment_seconds = segment_seconds
        self.script: list[Step] = []
        self.uploads: list[Upload] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                upload = _upload(self.path, dict(self.headers.items()), body)
                reply = server._next(upload)
                time.sleep(reply.delay)
                payload = (
                    reply.body.encode()
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    headers = {"content-type": "application/json", **reply.headers}
                    headers["content-length"] = str(len(payload))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def then(self, *steps: Step) -> Self:
        self.script.extend(steps)
        return self

    @property
    def last(self) -> Upload:
        return self.uploads[-1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, upload: Upload) -> Reply:
        with self._lock:
            self.uploads.append(upload)
            number = len(self.uploads)
            step = self.script.pop(0) if self.script else Reply()
        reply = step(upload) if callable(step) else step
        if reply.status != 200 or reply.body is not None:
            return reply
        if upload.path != "/v1/audio/transcriptions":
            return Reply(404, openai_error(f"Unknown path {upload.path}", "invalid_request_error"))
        if upload.duration_seconds is None:
            return Reply(
                400,
                openai_error(
                    "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', "
                    "'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
                    "invalid_request_error",
                ),
            )
        answer = whisper_answer(
            upload.duration_seconds, label=f"upload {number}", segment_seconds=self.segment_seconds
        )
        return Reply(200, answer, reply.headers, reply.delay)


def _upload(path: str, headers: dict[str, str], body: bytes) -> Upload:
    lowered = {name.lower(): value for name, value in headers.items()}
    message = BytesParser(policy=HTTP).parsebytes(
        f"content-type: {lowered.get('content-type', '')}\r\n\r\n".encode() + body
    )
    assert isinstance(message, EmailMessage)
    fields: dict[str, list[str]] = {}
    filename = content_type = None
    audio = b""
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if name == "file":
            filename, content_type, audio = part.get_filename(), part.get_content_type(), payload
        else:
            fields.setdefault(name, []).append(payload.decode())
    return Upload(path, lowered, fields, filename, content_type, audio, _duration(audio))


def _duration(audio: bytes) -> float | None:
    try:
        return audio_duration(io.BytesIO(audio))
    except (av.error.FFmpegError, IndexError):
        return None


def fake_transcription_settings(
    server: FakeTranscriptionServer, **overrides: Any
) -> TranscriptionSettings:
    """Settings pointing at `server`, with retries that do not wait and a short timeout."""
    values: dict[str, Any] = {
        "provider": "openai",
        "base_url": server.url,
        "api_key": FAKE_TRANSCRIPTION_KEY,
        "timeout_seconds": 5.0,
        "max_attempts": 3,
        "retry_backoff_seconds": 0.0,
        **overrides,
    }
    return TranscriptionSettings(_env_file=None, **values)


@pytest.fixture
def fake_transcription() -> Iterator[FakeTranscriptionServer]:
    server = FakeTranscriptionServer()
    yield server
    server.close()
