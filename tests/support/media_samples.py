"""Small real media files for the tests, made with PyAV: seconds of tone or noise in the
containers and codecs recordings arrive in, a video with or without an audio track, and
a file that is no media at all."""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av

_VIDEO_RATE = 10


@dataclass(frozen=True)
class MediaKind:
    suffix: str
    audio_codec: str | None
    sample_rate: int = 48_000
    video_codec: str | None = None


WAV = MediaKind(".wav", "pcm_s16le", 44_100)
WEBM_OPUS = MediaKind(".webm", "libopus")
MP4_AAC = MediaKind(".m4a", "aac")
MP3 = MediaKind(".mp3", "libmp3lame", 44_100)
# A screen recording: VP8 video with Opus audio, as browsers' MediaRecorder makes them.
WEBM_VIDEO = MediaKind(".webm", "libopus", video_codec="libvpx")
MP4_VIDEO = MediaKind(".mp4", "aac", video_codec="mpeg4")
MP4_VIDEO_WITHOUT_AUDIO = MediaKind(".mp4", None, video_codec="mpeg4")


def write_media(
    directory: Path,
    kind: MediaKind,
    *,
    seconds: float,
    noise: bool = False,
    name: str = "recording",
) -> Path:
    """A stereo 440 Hz tone (or white noise, which no encoder can squeeze) of `seconds`,
    in `kind`'s container and codecs, with a blank video track if `kind` has one."""
    path = directory / f"{name}{kind.suffix}"
    with av.open(str(path), mode="w") as output:
        audio = (
            output.add_stream(kind.audio_codec, rate=kind.sample_rate, layout="stereo")
            if kind.audio_codec
            else None
        )
        video = None
        if kind.video_codec:
            video = output.add_stream(kind.video_codec, rate=_VIDEO_RATE)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        if audio is not None:
            for frame in _audio_frames(kind.sample_rate, seconds, noise):
                output.mux(audio.encode(frame))
            output.mux(audio.encode(None))
        if video is not None:
            for index in range(round(seconds * _VIDEO_RATE)):
                picture = av.VideoFrame(64, 48, "yuv420p")
                for plane in picture.planes:
                    plane.update(bytes([index * 8 % 256]) * plane.buffer_size)
                picture.pts = index
                picture.time_base = Fraction(1, _VIDEO_RATE)
                output.mux(video.encode(picture))
            output.mux(video.encode(None))
    return path


def write_not_media(directory: Path) -> Path:
    path = directory / "notes.webm"
    path.write_text("These are meeting notes, not a recording.\n" * 50)
    return path


def audio_duration(source: Path | BinaryIO) -> float:
    """The seconds of audio in a file (a path or a binary file object), by decoding it."""
    with av.open(str(source) if isinstance(source, Path) else source) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return float(samples / stream.codec_context.sample_rate)


def _audio_frames(rate: int, seconds: float, noise: bool) -> list[av.AudioFrame]:
    total = round(rate * seconds)
    generator = random.Random(17)
    frames = []
    for start in range(0, total, 1024):
        count = min(1024, total - start)
        if noise:
            values = [generator.randint(-12_000, 12_000) for _ in range(count)]
        else:
            values = [
                round(8_000 * math.sin(2 * math.pi * 440 * (start + i) / rate))
                for i in range(count)
            ]
        frame = av.AudioFrame(format="s16", layout="stereo", samples=count)
        frame.planes[0].update(struct.pack(f"<{2 * count}h", *(v for v in values for _ in "lr")))
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        frames.append(frame)
    return frames
