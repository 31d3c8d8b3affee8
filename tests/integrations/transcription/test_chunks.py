"""Cutting a recording's audio into Ogg/Opus chunks: under the size limit even when the
first estimate was wrong, no longer than the chunk length, with exact offsets."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from app.integrations.transcription.chunks import SAMPLE_RATE, AudioChunk, split_audio
from tests.support.media_samples import MP4_VIDEO, WEBM_OPUS, audio_duration, write_media

LIMIT = 16 * 1024


def assert_contiguous(chunks: list[AudioChunk], total: float) -> None:
    starts = [chunk.start_seconds for chunk in chunks]
    ends = [chunk.start_seconds + chunk.duration_seconds for chunk in chunks]
    assert starts[0] == 0.0
    assert starts[1:] == pytest.approx(ends[:-1], abs=1e-9)
    assert ends[-1] == pytest.approx(total, abs=0.03)
    for chunk in chunks:
        assert audio_duration(chunk.path) == pytest.approx(chunk.duration_seconds, abs=0.001)


def test_each_chunk_is_mono_16_khz_opus_in_ogg(tmp_path: Path) -> None:
    recording = write_media(tmp_path, MP4_VIDEO, seconds=2)

    (chunk,) = split_audio(recording, tmp_path, max_bytes=LIMIT, max_seconds=1200)

    with av.open(str(chunk.path)) as container:
        assert container.format.name == "ogg"
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus"
        assert stream.codec_context.channels == 1
    # Opus decodes at 48 kHz; what counts is the length, which is exact.
    assert chunk.duration_seconds == pytest.approx(2.0, abs=0.01)
    assert round(chunk.duration_seconds * SAMPLE_RATE) == chunk.duration_seconds * SAMPLE_RATE


def test_an_optimistic_estimate_is_corrected_by_cutting_again(tmp_path: Path) -> None:
    recording = write_media(tmp_path, WEBM_OPUS, seconds=10, noise=True)

    # A quarter of the real rate: the first cut's chunks come out four times too big.
    chunks = split_audio(
        recording, tmp_path, max_bytes=LIMIT, max_seconds=1200, estimated_bytes_per_second=1000
    )

    assert len(chunks) >= 3
    assert all(chunk.path.stat().st_size < LIMIT for chunk in chunks)
    assert_contiguous(chunks, 10.0)
    # Only the chunks handed back are left on disk.
    assert sorted(tmp_path.rglob("*.ogg")) == sorted(chunk.path for chunk in chunks)


def test_chunks_are_no_longer_than_the_chunk_length(tmp_path: Path) -> None:
    recording = write_media(tmp_path, WEBM_OPUS, seconds=5)

    chunks = split_audio(recording, tmp_path, max_bytes=25 * 1024 * 1024, max_seconds=2)

    assert [chunk.duration_seconds for chunk in chunks] == pytest.approx([2.0, 2.0, 1.0], abs=0.01)
    assert_contiguous(chunks, 5.0)
