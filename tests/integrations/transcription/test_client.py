"""The OpenAI-compatible transcriber against a fake server over real HTTP: what it sends,
how chunks' segments land in the file's time, and which failures it retries."""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from app.integrations.transcription.provider import (
    TRANSCRIPTION_MALFORMED_RESPONSE,
    TRANSCRIPTION_RATE_LIMITED,
    TRANSCRIPTION_REJECTED,
    TRANSCRIPTION_UNAVAILABLE,
    TRANSCRIPTION_UNREADABLE,
    TranscriptionError,
    TranscriptSegment,
)
from tests.integrations.transcription.conftest import make_transcriber
from tests.support.fake_transcription import (
    FAKE_LANGUAGE,
    FAKE_TRANSCRIPTION_KEY,
    FakeTranscriptionServer,
    Reply,
    Upload,
    rate_limited,
    rejected,
    server_error,
    slow,
    text_only,
)
from tests.support.media_samples import (
    MP3,
    MP4_AAC,
    MP4_VIDEO,
    MP4_VIDEO_WITHOUT_AUDIO,
    WAV,
    WEBM_OPUS,
    WEBM_VIDEO,
    MediaKind,
    write_media,
    write_not_media,
)

# Small enough to force a 10-second recording into several chunks.
SMALL_LIMIT = 16 * 1024


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the transcriber's temporary files go, to check that none are left."""
    directory = tmp_path / "scratch"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def leftovers(directory: Path) -> list[Path]:
    return list(directory.iterdir())


@pytest.mark.parametrize(
    "kind",
    [WAV, WEBM_OPUS, MP4_AAC, MP3, WEBM_VIDEO, MP4_VIDEO],
    ids=["wav", "webm-opus", "m4a-aac", "mp3", "webm-video", "mp4-video"],
)
async def test_a_short_recording_is_one_chunk_of_ogg_opus_with_the_segments_kept(
    fake_transcription: FakeTranscriptionServer,
    http: httpx.AsyncClient,
    media_dir: Path,
    scratch: Path,
    kind: MediaKind,
) -> None:
    recording = write_media(media_dir, kind, seconds=3)

    transcript = await make_transcriber(fake_transcription, http).transcribe(recording)

    (upload,) = fake_transcription.uploads
    assert upload.path == "/v1/audio/transcriptions"
    assert upload.headers["authorization"] == f"Bearer {FAKE_TRANSCRIPTION_KEY}"
    assert upload.fields == {
        "model": ["whisper-1"],
        "response_format": ["verbose_json"],
        "timestamp_granularities[]": ["segment"],
    }
    assert (upload.filename, upload.content_type) == ("chunk-0.ogg", "audio/ogg")
    assert upload.duration_seconds == pytest.approx(3.0, abs=0.02)
    assert transcript.language == FAKE_LANGUAGE
    assert transcript.model == "whisper-1"
    assert [segment.text for segment in transcript.segments] == [
        f"upload 1 segment {index}." for index in range(3)
    ]
    assert [(s.start_seconds, s.end_seconds) for s in transcript.segments[:2]] == [
        (0.0, 1.0),
        (1.0, 2.0),
    ]
    assert transcript.segments[-1].end_seconds == pytest.approx(3.0, abs=0.02)
    assert leftovers(scratch) == []


async def test_language_and_prompt_settings_are_sent(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    transcriber = make_transcriber(
        fake_transcription, http, language="de", prompt="Tenon, Postgres", model="whisper-x"
    )

    transcript = await transcriber.transcribe(recording)

    assert fake_transcription.last.field("language") == "de"
    assert fake_transcription.last.field("prompt") == "Tenon, Postgres"
    assert fake_transcription.last.field("model") == "whisper-x"
    assert transcript.model == "whisper-x"


async def test_a_local_server_without_a_key_gets_no_authorization(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)

    await make_transcriber(fake_transcription, http, api_key=None).transcribe(recording)

    assert "authorization" not in fake_transcription.last.headers


async def test_a_recording_over_the_limit_is_sent_in_chunks_with_times_in_the_file(
    fake_transcription: FakeTranscriptionServer,
    http: httpx.AsyncClient,
    media_dir: Path,
    scratch: Path,
) -> None:
    # Noise: no encoder can make it smaller than its bitrate.
    recording = write_media(media_dir, WEBM_VIDEO, seconds=10, noise=True)
    transcriber = make_transcriber(fake_transcription, http, max_upload_bytes=SMALL_LIMIT)

    transcript = await transcriber.transcribe(recording)

    uploads = fake_transcription.uploads
    assert len(uploads) >= 3
    assert all(len(upload.audio) < SMALL_LIMIT for upload in uploads)
    assert [upload.filename for upload in uploads] == [
        f"chunk-{index}.ogg" for index in range(len(uploads))
    ]
    durations = [upload.duration_seconds or 0.0 for upload in uploads]
    assert sum(durations) == pytest.approx(10.0, abs=0.03)
    # Each chunk's first segment starts where the chunks before it end.
    for number in range(1, len(uploads) + 1):
        first = next(s for s in transcript.segments if s.text == f"upload {number} segment 0.")
        assert first.start_seconds == pytest.approx(sum(durations[: number - 1]), abs=0.002)
    # Continuous and ordered across chunk boundaries, ending with the file.
    segments = transcript.segments
    assert segments[0].start_seconds == 0.0
    for before, after in itertools.pairwise(segments):
        assert after.start_seconds == pytest.approx(before.end_seconds, abs=0.002)
        assert after.end_seconds > after.start_seconds
    assert segments[-1].end_seconds == pytest.approx(10.0, abs=0.03)
    assert leftovers(scratch) == []


async def test_a_server_error_on_one_chunk_retries_that_chunk_only(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=10, noise=True)
    fake_transcription.then(Reply(), server_error(503))
    transcriber = make_transcriber(fake_transcription, http, max_upload_bytes=SMALL_LIMIT)

    transcript = await transcriber.transcribe(recording)

    uploads = fake_transcription.uploads
    chunks = len({upload.audio for upload in uploads})
    assert chunks >= 3
    assert len(uploads) == chunks + 1
    assert uploads[1].audio == uploads[2].audio
    assert uploads[0].audio != uploads[1].audio
    assert transcript.segments[-1].end_seconds == pytest.approx(10.0, abs=0.03)


async def test_a_rate_limit_waits_as_long_as_retry_after_says(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(rate_limited(retry_after="1"))
    transcriber = make_transcriber(fake_transcription, http)

    started = time.monotonic()
    transcript = await transcriber.transcribe(recording)

    assert time.monotonic() - started >= 1.0
    assert len(fake_transcription.uploads) == 2
    assert transcript.segments[0].text == "upload 2 segment 0."


async def test_a_long_retry_after_is_capped(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(rate_limited(retry_after="3600"))
    transcriber = make_transcriber(fake_transcription, http, retry_max_wait_seconds=0.1)

    started = time.monotonic()
    await transcriber.transcribe(recording)

    assert time.monotonic() - started < 3
    assert len(fake_transcription.uploads) == 2


@pytest.mark.parametrize(
    "failures",
    [[server_error(500)], [server_error(503), server_error(502)], [Reply(408, {})]],
    ids=["500", "503-then-502", "408"],
)
async def test_server_errors_are_retried_until_an_answer(
    fake_transcription: FakeTranscriptionServer,
    http: httpx.AsyncClient,
    media_dir: Path,
    failures: list[Reply],
) -> None:
    recording = write_media(media_dir, WAV, seconds=2)
    fake_transcription.then(*failures)

    transcript = await make_transcriber(fake_transcription, http).transcribe(recording)

    assert len(fake_transcription.uploads) == len(failures) + 1
    assert [s.text for s in transcript.segments] == [
        f"upload {len(failures) + 1} segment {index}." for index in range(2)
    ]


@pytest.mark.parametrize(
    ("failure", "code"),
    [(server_error(503), TRANSCRIPTION_UNAVAILABLE), (rate_limited(), TRANSCRIPTION_RATE_LIMITED)],
    ids=["503", "429"],
)
async def test_a_lasting_outage_is_retryable_after_the_attempts(
    fake_transcription: FakeTranscriptionServer,
    http: httpx.AsyncClient,
    media_dir: Path,
    scratch: Path,
    failure: Reply,
    code: str,
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(*[failure] * 4)
    transcriber = make_transcriber(fake_transcription, http, max_attempts=4)

    with pytest.raises(TranscriptionError) as caught:
        await transcriber.transcribe(recording)

    assert (caught.value.code, caught.value.retryable) == (code, True)
    assert len(fake_transcription.uploads) == 4
    assert leftovers(scratch) == []


async def test_a_timeout_is_retried(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(slow(1.5))
    transcriber = make_transcriber(fake_transcription, http, timeout_seconds=0.3)

    transcript = await transcriber.transcribe(recording)

    assert len(fake_transcription.uploads) == 2
    assert transcript.segments[0].text == "upload 2 segment 0."


async def test_lasting_timeouts_are_retryable(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(slow(1.5), slow(1.5))
    transcriber = make_transcriber(fake_transcription, http, timeout_seconds=0.3, max_attempts=2)

    with pytest.raises(TranscriptionError, match="did not answer in time") as caught:
        await transcriber.transcribe(recording)

    assert (caught.value.code, caught.value.retryable) == (TRANSCRIPTION_UNAVAILABLE, True)


async def test_an_unreachable_server_is_retryable(http: httpx.AsyncClient, media_dir: Path) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    closed = FakeTranscriptionServer()
    closed.close()
    transcriber = make_transcriber(closed, http, max_attempts=2)

    with pytest.raises(TranscriptionError, match="could not be reached") as caught:
        await transcriber.transcribe(recording)

    assert (caught.value.code, caught.value.retryable) == (TRANSCRIPTION_UNAVAILABLE, True)


async def test_a_rejected_request_is_terminal_with_the_providers_message(
    fake_transcription: FakeTranscriptionServer,
    http: httpx.AsyncClient,
    media_dir: Path,
    scratch: Path,
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(rejected("Audio file is too short. Minimum audio length is 0.1s."))

    with pytest.raises(TranscriptionError) as caught:
        await make_transcriber(fake_transcription, http).transcribe(recording)

    assert (caught.value.code, caught.value.retryable) == (TRANSCRIPTION_REJECTED, False)
    assert "HTTP 400" in str(caught.value)
    assert "Audio file is too short. Minimum audio length is 0.1s." in str(caught.value)
    assert len(fake_transcription.uploads) == 1
    assert leftovers(scratch) == []


async def test_a_rejected_key_is_never_repeated_in_the_error(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(
        rejected(
            f"Incorrect API key provided: {FAKE_TRANSCRIPTION_KEY} (or sk-proj-****cdef).",
            status=401,
            code="invalid_api_key",
        )
    )

    with pytest.raises(TranscriptionError) as caught:
        await make_transcriber(fake_transcription, http).transcribe(recording)

    message = str(caught.value)
    assert caught.value.code == TRANSCRIPTION_REJECTED
    assert "Incorrect API key provided" in message
    assert "HTTP 401" in message
    assert FAKE_TRANSCRIPTION_KEY not in message
    assert "sk-proj" not in message
    assert "TENON_TRANSCRIPTION_API_KEY" in message


async def test_no_quota_left_is_terminal(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(
        rejected("You exceeded your current quota.", status=429, code="insufficient_quota")
    )

    with pytest.raises(TranscriptionError, match="no quota left") as caught:
        await make_transcriber(fake_transcription, http).transcribe(recording)

    assert (caught.value.code, caught.value.retryable) == (TRANSCRIPTION_REJECTED, False)
    assert len(fake_transcription.uploads) == 1


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>502 Bad Gateway</body></html>",
        ["not", "an", "object"],
        {"task": "transcribe"},
        {"text": "hi", "segments": {"start": 0}},
        {"text": "hi", "segments": [{"start": "0.0", "end": 1.0, "text": "hi"}]},
        {"text": "hi", "segments": [{"start": 0.0, "end": 1.0}]},
    ],
    ids=["html", "array", "no-text", "segments-not-list", "string-time", "no-segment-text"],
)
async def test_a_malformed_answer_is_terminal(
    fake_transcription: FakeTranscriptionServer,
    http: httpx.AsyncClient,
    media_dir: Path,
    body: object,
) -> None:
    recording = write_media(media_dir, WAV, seconds=1)
    fake_transcription.then(Reply(200, body))

    with pytest.raises(TranscriptionError) as caught:
        await make_transcriber(fake_transcription, http).transcribe(recording)

    assert (caught.value.code, caught.value.retryable) == (
        TRANSCRIPTION_MALFORMED_RESPONSE,
        False,
    )
    assert len(fake_transcription.uploads) == 1


async def test_an_answer_without_segments_is_one_segment_over_the_chunk(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=10, noise=True)
    parts = itertools.count(1)
    fake_transcription.then(*[lambda upload: text_only(f" Part {next(parts)}. ")] * 10)
    transcriber = make_transcriber(fake_transcription, http, max_upload_bytes=SMALL_LIMIT)

    transcript = await transcriber.transcribe(recording)

    durations = [upload.duration_seconds or 0.0 for upload in fake_transcription.uploads]
    assert len(durations) >= 3
    assert transcript.language is None
    assert [segment.text for segment in transcript.segments] == [
        f"Part {number}." for number in range(1, len(durations) + 1)
    ]
    # Each spans its whole chunk.
    for index, segment in enumerate(transcript.segments):
        assert segment.start_seconds == pytest.approx(sum(durations[:index]), abs=0.001)
        assert segment.end_seconds == pytest.approx(sum(durations[: index + 1]), abs=0.001)


async def test_segment_times_stay_within_their_chunk_and_empty_ones_are_dropped(
    fake_transcription: FakeTranscriptionServer, http: httpx.AsyncClient, media_dir: Path
) -> None:
    recording = write_media(media_dir, WAV, seconds=2)

    def overlong(upload: Upload) -> Reply:
        return Reply(
            200,
            {
                "language": "german",
                "text": "Hallo. Tschüss.",
                "segments": [
                    {"start": -0.2, "end": 1.0, "text": " Hallo."},
                    {"start": 1.0, "end": 1.2, "text": "   "},
                    {"start": 1.2, "end": 2.9, "text": " Tschüss."},
                ],
            },
        )

    fake_transcription.then(overlong)

    transcript = await make_transcriber(fake_transcription, http).transcribe(recording)

    assert transcript.language == "german"
    assert transcript.segments == (
        TranscriptSegment(0.0, 1.0, "Hallo."),
        TranscriptSegment(1.2, 2.0, "Tschüss."),
    )


@pytest.mark.parametrize("unreadable", ["not-media", "video-without-audio", "empty"])
async def test_a_file_without_audio_is_terminal_and_nothing_is_sent(
    fake_transcription: FakeTranscriptionServer,
    http: httpx.AsyncClient,
    media_dir: Path,
    scratch: Path,
    unreadable: str,
) -> None:
    if unreadable == "not-media":
        recording = write_not_media(media_dir)
    elif unreadable == "video-without-audio":
        recording = write_media(media_dir, MP4_VIDEO_WITHOUT_AUDIO, seconds=1)
    else:
        recording = media_dir / "empty.webm"
        recording.write_bytes(b"")

    with pytest.raises(TranscriptionError) as caught:
        await make_transcriber(fake_transcription, http).transcribe(recording)

    assert (caught.value.code, caught.value.retryable) == (TRANSCRIPTION_UNREADABLE, False)
    assert fake_transcription.uploads == []
    assert leftovers(scratch) == []
