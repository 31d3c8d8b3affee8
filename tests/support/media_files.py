"""Real small media files, made by the tests with PyAV: a few seconds of a tone, alone or
under a moving bar, in each container a candidate may upload."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

SAMPLE_RATE = 48_000
FPS = 10
WIDTH, HEIGHT = 64, 48


@dataclass(frozen=True)
class Kind:
    suffix: str
    content_type: str
    container: str
    audio_codec: str
    video_codec: str | None = None


KINDS = {
    "wav": Kind("wav", "audio/wav", "wav", "pcm_s16le"),
    "mp3": Kind("mp3", "audio/mpeg", "mp3", "libmp3lame"),
    "m4a": Kind("m4a", "audio/mp4", "ipod", "aac"),
    "mp4": Kind("mp4", "video/mp4", "mp4", "aac", "libx264"),
    "mov": Kind("mov", "video/quicktime", "mov", "aac", "libx264"),
    "webm": Kind("webm", "video/webm", "webm", "libopus", "libvpx"),
}


def make_media(directory: Path, kind: str, seconds: float, *, name: str = "clip") -> Path:
    """A file of `kind` (a KINDS key) lasting `seconds`."""
    spec = KINDS[kind]
    path = directory / f"{name}.{spec.suffix}"
    with av.open(str(path), mode="w", format=spec.container) as container:
        video = None
        if spec.video_codec:
            video = container.add_stream(spec.video_codec, rate=FPS)
            video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = container.add_stream(spec.audio_codec, rate=SAMPLE_RATE, layout="mono")
        _write_audio(container, audio, seconds)
        if video is not None:
            _write_video(container, video, seconds)
    return path


def _write_audio(container: OutputContainer, stream: AudioStream, seconds: float) -> None:
    resampler = av.AudioResampler(
        format=stream.codec_context.format, layout="mono", rate=SAMPLE_RATE
    )
    chunk = 1024
    total = int(seconds * SAMPLE_RATE)
    for offset in range(0, total, chunk):
        count = min(chunk, total - offset)
        tone = [
            int(9000 * math.sin(2 * math.pi * 440 * (offset + n) / SAMPLE_RATE))
            for n in range(count)
        ]
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        frame.planes[0].update(struct.pack(f"<{count}h", *tone))
        frame.sample_rate = SAMPLE_RATE
        frame.pts = offset
        frame.time_base = Fraction(1, SAMPLE_RATE)
        for converted in resampler.resample(frame):
            container.mux(stream.encode(converted))
    for converted in resampler.resample(None):
        container.mux(stream.encode(converted))
    container.mux(stream.encode(None))


def _write_video(container: OutputContainer, stream: VideoStream, seconds: float) -> None:
    for index in range(int(seconds * FPS)):
        frame = av.VideoFrame(WIDTH, HEIGHT, "rgb24")
        plane = frame.planes[0]
        row = bytearray(plane.line_size)
        bar = (index * 4) % WIDTH
        row[bar * 3 : bar * 3 + 3] = b"\xff\xff\xff"
        plane.update(bytes(row) * HEIGHT)
        frame.pts = index
        frame.time_base = Fraction(1, FPS)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
