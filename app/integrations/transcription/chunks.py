"""A recording's audio track cut into chunks a transcription API accepts, each under the
provider's upload limit and with its exact start offset in the recording.

The audio is downmixed to mono and resampled to 16 kHz (what Whisper-family models hear;
more would only cost bytes), then encoded as Opus in Ogg at 32 kbit/s: Opus is built for
speech and stays clear at that rate, so 25 MiB holds well over an hour; OpenAI, Groq and
ffmpeg-based servers all accept `.ogg`; and Ogg's pre-skip tells every decoder where the
audio starts, so a chunk's first sample is exactly at its offset (MP3's encoder delay would
shift each chunk by a few dozen milliseconds).

Blocking (decoding and encoding): call `split_audio` in a worker thread.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error

from app.integrations.transcription.provider import TRANSCRIPTION_UNREADABLE, TranscriptionError

SAMPLE_RATE = 16_000
BIT_RATE = 32_000
CONTENT_TYPE = "audio/ogg"
# The first cut aims at this share of the limit: Ogg pages and Opus's variable bitrate
# take some of the rest.
SIZE_MARGIN = 0.8
# Re-encoding with shorter chunks, when a chunk still came out too big, converges at once
# in practice; a limit this small that it does not is a configuration error.
_MAX_PASSES = 4
_MIN_CHUNK_SECONDS = 1.0
_TIME_BASE = Fraction(1, SAMPLE_RATE)


@dataclass(frozen=True)
class AudioChunk:
    path: Path
    # Where the chunk starts in the original file, and how long it is.
    start_seconds: float
    duration_seconds: float


def split_audio(
    source: Path,
    workdir: Path,
    *,
    max_bytes: int,
    max_seconds: float,
    estimated_bytes_per_second: float = BIT_RATE / 8,
) -> list[AudioChunk]:
    """The audio of `source` (audio or video) as chunks in `workdir`, in order, each smaller
    than `max_bytes` and no longer than `max_seconds`. The chunk length comes from the
    estimated encoded rate; each chunk's size is checked after encoding, and if one came
    out too big the audio is cut again, shorter by what was measured.

    Raises `TranscriptionError` (TRANSCRIPTION_UNREADABLE) for a file without a decodable
    audio track."""
    chunk_seconds = min(max_seconds, max_bytes * SIZE_MARGIN / estimated_bytes_per_second)
    for attempt in range(_MAX_PASSES):
        if chunk_seconds < _MIN_CHUNK_SECONDS:
            break
        directory = workdir / f"pass-{attempt}"
        chunks = _encode(source, directory, round(chunk_seconds * SAMPLE_RATE))
        sizes = [chunk.path.stat().st_size for chunk in chunks]
        if max(sizes) < max_bytes:
            return chunks
        shutil.rmtree(directory)
        measured = max(
            size / chunk.duration_seconds
            for chunk, size in zip(chunks, sizes, strict=True)
            if size >= max_bytes
        )
        chunk_seconds = max_bytes * SIZE_MARGIN / measured
    raise TranscriptionError(
        f"Audio cannot be cut into chunks under {max_bytes} bytes; raise "
        "TENON_TRANSCRIPTION_MAX_UPLOAD_BYTES"
    )


def _encode(source: Path, directory: Path, chunk_samples: int) -> list[AudioChunk]:
    directory.mkdir()
    try:
        container = av.open(str(source))
    except av.error.FFmpegError as exc:
        raise _unreadable(exc) from exc
    with container:
        if not container.streams.audio:
            raise TranscriptionError(
                "The file has no audio track", code=TRANSCRIPTION_UNREADABLE, retryable=False
            )
        stream = container.streams.audio[0]
        # A file's audio can start after its video: the offsets count from the file's start.
        file_start = (container.start_time or 0) / av.time_base
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        fifo = av.AudioFifo()
        writer: _ChunkWriter | None = None
        try:
            for frame in container.decode(stream):
                if writer is None:
                    audio_start = max((frame.time or 0.0) - file_start, 0.0)
                    writer = _ChunkWriter(directory, chunk_samples, audio_start)
                for resampled in resampler.resample(frame):
                    # The fifo checks timestamps run on; the writer numbers samples itself.
                    resampled.pts = None
                    fifo.write(resampled)
                writer.feed(fifo)
            if writer is None:
                raise TranscriptionError(
                    "The file's audio track holds no audio",
                    code=TRANSCRIPTION_UNREADABLE,
                    retryable=False,
                )
            for resampled in resampler.resample(None):
                resampled.pts = None
                fifo.write(resampled)
            writer.feed(fifo)
            return writer.finish()
        except av.error.FFmpegError as exc:
            raise _unreadable(exc) from exc
        finally:
            if writer is not None:
                writer.abandon()


def _unreadable(exc: av.error.FFmpegError) -> Exception:
    if isinstance(exc, OSError):
        # A missing or unreadable path is the caller's problem, not the recording's.
        return exc
    return TranscriptionError(
        f"The file cannot be decoded as audio or video ({exc.strerror})",
        code=TRANSCRIPTION_UNREADABLE,
        retryable=False,
    )


@dataclass(frozen=True)
class _OpenChunk:
    path: Path
    output: av.container.OutputContainer
    stream: av.AudioStream


class _ChunkWriter:
    """Encodes the samples it is fed into consecutive Ogg/Opus files of `chunk_samples`
    samples each (the last one shorter)."""

    def __init__(self, directory: Path, chunk_samples: int, audio_start: float) -> None:
        self._directory = directory
        self._chunk_samples = chunk_samples
        self._audio_start = audio_start
        self._chunks: list[AudioChunk] = []
        self._samples_before = 0  # in the chunks already written
        self._written = 0  # in the open chunk
        self._open: _OpenChunk | None = None

    def feed(self, fifo: av.AudioFifo) -> None:
        while fifo.samples:
            current = self._open or self._start()
            frame = fifo.read(min(fifo.samples, self._chunk_samples - self._written))
            assert frame is not None  # the fifo holds at least that many samples
            frame.pts = self._written
            frame.time_base = _TIME_BASE
            current.output.mux(current.stream.encode(frame))
            self._written += frame.samples
            if self._written == self._chunk_samples:
                self._close(current)

    def finish(self) -> list[AudioChunk]:
        if self._open is not None:
            self._close(self._open)
        return self._chunks

    def abandon(self) -> None:
        """Close an unfinished chunk's file (after an error) so its directory can go."""
        if self._open is not None:
            self._open.output.close()
            self._open = None

    def _start(self) -> _OpenChunk:
        path = self._directory / f"chunk-{len(self._chunks):04d}.ogg"
        output = av.open(str(path), mode="w", format="ogg")
        stream = output.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = BIT_RATE
        self._open = _OpenChunk(path, output, stream)
        self._written = 0
        return self._open

    def _close(self, current: _OpenChunk) -> None:
        current.output.mux(current.stream.encode(None))
        current.output.close()
        self._open = None
        self._chunks.append(
            AudioChunk(
                path=current.path,
                start_seconds=self._audio_start + self._samples_before / SAMPLE_RATE,
                duration_seconds=self._written / SAMPLE_RATE,
            )
        )
        self._samples_before += self._written
