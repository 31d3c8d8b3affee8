"""Sniffing and measuring real files made by the tests: each accepted container is
recognised from its first bytes and its duration measured from its packets; files that are
not media, or hold no playable packet, are unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.settings import RECORDING_TYPES
from app.recordings import probe
from tests.support.media_samples import write_empty_wav, write_not_media
from tests.support.recordings import CONTENT_TYPES, KINDS, make_media


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("seconds", [1.0, 3.0])
def test_each_container_is_sniffed_and_its_duration_measured(
    tmp_path: Path, kind: str, seconds: float
) -> None:
    path = make_media(tmp_path, kind, seconds)
    sniffed = probe.sniff(path.read_bytes()[: probe.SNIFF_BYTES])
    assert sniffed == CONTENT_TYPES[KINDS[kind].suffix]
    assert sniffed in RECORDING_TYPES
    # Encoders pad the last frame: within a frame or two of the length written.
    assert probe.measure_duration(path) == pytest.approx(seconds, abs=0.06)


def test_every_accepted_type_has_a_family() -> None:
    assert set(probe.FAMILY_OF_TYPE) == set(RECORDING_TYPES)


@pytest.mark.parametrize(
    ("declared", "sniffed", "same"),
    [
        ("video/mp4", "video/quicktime", True),  # one ISO container, another brand
        ("audio/x-m4a", "audio/mp4", True),
        ("audio/webm", "video/webm", True),
        ("video/mp4", "audio/wav", False),
        ("audio/mpeg", "video/webm", False),
        ("video/x-msvideo", "video/mp4", False),
    ],
)
def test_a_declared_type_matches_its_container_family(
    declared: str, sniffed: str, same: bool
) -> None:
    assert probe.same_family(declared, sniffed) is same


@pytest.mark.parametrize(
    "prefix",
    [
        b"",
        b"%PDF-1.7\n",
        b"PK\x03\x04" + b"\x00" * 40,
        # Matroska that is not WebM.
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska",
        # A frame sync with the reserved layer bits.
        b"\xff\xf9" + b"\x00" * 10,
    ],
)
def test_other_bytes_are_not_sniffed_as_media(prefix: bytes) -> None:
    assert probe.sniff(prefix) is None


def test_an_mpeg_frame_without_an_id3_tag_is_mp3(tmp_path: Path) -> None:
    data = make_media(tmp_path, "mp3", 1.0).read_bytes()
    assert data[:3] == b"ID3"
    tag_size = int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big") + 10
    assert probe.sniff(data[tag_size : tag_size + probe.SNIFF_BYTES]) == "audio/mpeg"


def test_empty_truncated_and_sampleless_files_and_text_are_unreadable(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    whole = make_media(tmp_path, "mp4", 2.0).read_bytes()
    header_only = tmp_path / "header.mp4"
    header_only.write_bytes(whole[:64])
    no_samples = write_empty_wav(tmp_path)
    assert probe.sniff(no_samples.read_bytes()) == "audio/wav"
    for path in (empty, header_only, no_samples, write_not_media(tmp_path)):
        assert path.exists()
        with pytest.raises(probe.UnreadableMediaError):
            probe.measure_duration(path)
