"""What a recording really is, read from its bytes: the container sniffed from the first
bytes (magic numbers), and the duration measured by demuxing the whole file with PyAV
(FFmpeg's libraries), never taken from a header field or the client's word.

Both are blocking: callers run `measure_duration` in a thread."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

# Enough for every signature below (an EBML header names its doc type early on).
SNIFF_BYTES = 64

# Declared type → container family; a declared type matches a sniffed one of its family.
FAMILY_OF_TYPE = {
    "video/mp4": "isobmff",
    "video/quicktime": "isobmff",
    "audio/mp4": "isobmff",
    "audio/x-m4a": "isobmff",
    "video/webm": "webm",
    "audio/webm": "webm",
    "audio/mpeg": "mpeg-audio",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
}
# The canonical name of each family's type as stored; `_isobmff` refines it by brand.
_WAV = "audio/wav"
_MP3 = "audio/mpeg"
_WEBM = "video/webm"


class UnreadableMediaError(Exception):
    """The file holds no audio or video that FFmpeg can read."""


def sniff(prefix: bytes) -> str | None:
    """The content type the bytes start like, or None for anything else."""
    if len(prefix) >= 12 and prefix[:4] == b"RIFF" and prefix[8:12] == b"WAVE":
        return _WAV
    if len(prefix) >= 12 and prefix[4:8] == b"ftyp":
        return _isobmff(prefix[8:12])
    if prefix[:4] == b"\x1a\x45\xdf\xa3":
        # EBML: WebM names its doc type "webm"; other Matroska files are not accepted.
        return _WEBM if b"webm" in prefix[:SNIFF_BYTES] else None
    if prefix[:3] == b"ID3":
        return _MP3
    # An MPEG audio frame header: 11 sync bits, a valid version and layer III.
    if len(prefix) >= 2 and prefix[0] == 0xFF and (prefix[1] & 0xE0) == 0xE0:
        version, layer = (prefix[1] >> 3) & 0b11, (prefix[1] >> 1) & 0b11
        if version != 0b01 and layer == 0b01:
            return _MP3
    return None


def _isobmff(brand: bytes) -> str:
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    return "video/mp4"


def same_family(declared: str, sniffed: str) -> bool:
    family = FAMILY_OF_TYPE.get(declared)
    return family is not None and family == FAMILY_OF_TYPE.get(sniffed)


def measure_duration(path: Path) -> float:
    """The span of the file's audio and video packets, in seconds, from demuxing all of it
    (no decoding but the first frame, which proves the stream is decodable). A header's
    duration can be absent (browser WebM) or false; the packets are what plays."""
    try:
        with av.open(str(path), mode="r") as container:
            streams = [s for s in container.streams if s.type in ("audio", "video")]
            if not streams:
                raise UnreadableMediaError("no audio or video stream")
            start: Fraction | None = None
            end: Fraction | None = None
            decoded = False
            for packet in container.demux(streams):
                if packet.pts is None or packet.time_base is None:
                    continue
                if not decoded:
                    decoded = bool(packet.decode())
                at = packet.pts * packet.time_base
                until = (packet.pts + (packet.duration or 0)) * packet.time_base
                start = at if start is None else min(start, at)
                end = until if end is None else max(end, until)
    except av.FFmpegError as exc:
        raise UnreadableMediaError(str(exc)) from exc
    if start is None or end is None or not decoded:
        raise UnreadableMediaError("no decodable packets")
    return float(end - start)
