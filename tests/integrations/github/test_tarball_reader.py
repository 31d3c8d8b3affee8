"""Reading repository tarballs: the text files of GitHub's one top folder, with links,
devices, binaries and large files skipped; unsafe paths, foreign layouts, damaged archives and
archives over a cap refused."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from app.integrations.github.tarball import (
    TarballError,
    TarballLimits,
    TreeFile,
    read_text_files,
)
from tests.support.corpora import CORPORA

TOP = "octo-repo-1a2b3c4"
COMMIT = "1a2b3c4d" * 5
Member = tuple[tarfile.TarInfo, bytes]


def _file(name: str, data: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _entry(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, b""


def _folder(name: str = TOP) -> Member:
    return _entry(name, tarfile.DIRTYPE)


def _tar(*members: Member, tar_format: int = tarfile.PAX_FORMAT) -> bytes:
    """An uncompressed tar of `members`, with GitHub's pax global header (the commit id)."""
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w", format=tar_format, pax_headers={"comment": COMMIT}
    ) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "tree.tar.gz"
    path.write_bytes(data)
    return path


def _archive(tmp_path: Path, *members: Member, tar_format: int = tarfile.PAX_FORMAT) -> Path:
    return _write(tmp_path, gzip.compress(_tar(*members, tar_format=tar_format)))


def test_text_files_come_out_sorted_without_the_top_folder(tmp_path: Path) -> None:
    archive = _archive(
        tmp_path,
        _folder(),
        _file(f"{TOP}/src/app.py", b"print('hi')\n"),
        _file(f"{TOP}/README.md", "# Octo ✓\n".encode()),
        _folder(f"{TOP}/docs"),
        _file(f"{TOP}/docs/guide.md", b"guide\n"),
    )

    files = read_text_files(archive)

    assert files == [
        TreeFile("README.md", "# Octo ✓\n"),
        TreeFile("docs/guide.md", "guide\n"),
        TreeFile("src/app.py", "print('hi')\n"),
    ]


def test_a_tarball_recorded_from_github_is_read(tmp_path: Path) -> None:
    recording = CORPORA / "github" / "responses" / "get-archive" / "normalized-fixture.json"
    codeload = json.loads(recording.read_text())[1]
    archive = _write(tmp_path, bytes.fromhex(codeload["response"]))

    assert read_text_files(archive) == [TreeFile("README.md", "# get-archive")]


def test_links_devices_and_fifos_are_skipped(tmp_path: Path) -> None:
    archive = _archive(
        tmp_path,
        _folder(),
        _file(f"{TOP}/main.py", b"x = 1\n"),
        _entry(f"{TOP}/link.py", tarfile.SYMTYPE, "main.py"),
        _entry(f"{TOP}/escape.py", tarfile.SYMTYPE, "/etc/passwd"),
        _entry(f"{TOP}/hard.py", tarfile.LNKTYPE, f"{TOP}/main.py"),
        _entry(f"{TOP}/tty", tarfile.CHRTYPE),
        _entry(f"{TOP}/disk", tarfile.BLKTYPE),
        _entry(f"{TOP}/pipe", tarfile.FIFOTYPE),
    )

    assert read_text_files(archive) == [TreeFile("main.py", "x = 1\n")]


def test_binaries_large_files_and_undecodable_names_are_skipped(tmp_path: Path) -> None:
    limits = TarballLimits(max_file_bytes=16)
    archive = _archive(
        tmp_path,
        _folder(),
        _file(f"{TOP}/exactly.txt", b"a" * 16),
        _file(f"{TOP}/large.txt", b"b" * 17),
        _file(f"{TOP}/nul.bin", b"ab\0cd"),
        _file(f"{TOP}/latin1.txt", "café".encode("latin-1")),
        _file(f"{TOP}/caf\udce9.txt", b"named in latin-1\n"),
        tar_format=tarfile.GNU_FORMAT,
    )

    assert read_text_files(archive, limits) == [TreeFile("exactly.txt", "a" * 16)]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(f"{TOP}/../../etc/cron.d/job", id="parent-inside"),
        pytest.param("../outside.py", id="parent-first"),
        pytest.param("/etc/passwd", id="absolute"),
    ],
)
def test_unsafe_paths_are_refused(tmp_path: Path, name: str) -> None:
    archive = _archive(tmp_path, _folder(), _file(f"{TOP}/ok.py", b"ok\n"), _file(name, b"x\n"))

    with pytest.raises(TarballError, match="unsafe path"):
        read_text_files(archive)


@pytest.mark.parametrize(
    "members",
    [
        pytest.param(
            [_file("one-abc/a.py", b"a\n"), _file("two-def/b.py", b"b\n")], id="two-top-folders"
        ),
        pytest.param([_folder(), _file("README.md", b"loose\n")], id="a-file-at-the-top"),
    ],
)
def test_members_outside_one_top_folder_are_refused(tmp_path: Path, members: list[Member]) -> None:
    archive = _archive(tmp_path, *members)

    with pytest.raises(TarballError, match="outside"):
        read_text_files(archive)


def test_every_member_counts_towards_the_entries_cap(tmp_path: Path) -> None:
    # A folder, a skipped link and a file: three entries.
    members = [
        _folder(),
        _entry(f"{TOP}/link", tarfile.SYMTYPE, "a.py"),
        _file(f"{TOP}/a.py", b"a\n"),
    ]
    limits = TarballLimits(max_entries=3)
    at_the_cap = _archive(tmp_path, *members)
    assert read_text_files(at_the_cap, limits) == [TreeFile("a.py", "a\n")]

    over_the_cap = _archive(tmp_path, *members, _folder(f"{TOP}/empty"))
    with pytest.raises(TarballError, match="more than 3 entries"):
        read_text_files(over_the_cap, limits)


def test_kept_text_over_the_total_cap_is_refused(tmp_path: Path) -> None:
    limits = TarballLimits(max_total_bytes=10, max_file_bytes=8)
    # Skipped files do not count: the binary and the large one.
    within = [
        _folder(),
        _file(f"{TOP}/a.txt", b"a" * 6),
        _file(f"{TOP}/binary", b"\0" * 8),
        _file(f"{TOP}/large.txt", b"l" * 9),
    ]
    assert [f.path for f in read_text_files(_archive(tmp_path, *within), limits)] == ["a.txt"]

    over = _archive(tmp_path, *within, _file(f"{TOP}/b.txt", b"b" * 6))
    with pytest.raises(TarballError, match="text files exceed 10 bytes"):
        read_text_files(over, limits)


def test_content_over_the_archive_cap_is_refused_even_when_skipped(tmp_path: Path) -> None:
    # Highly compressible: a few hundred bytes of gzip stand for the whole file.
    limits = TarballLimits(max_file_bytes=1024, max_archive_bytes=64 * 1024)
    archive = _archive(tmp_path, _folder(), _file(f"{TOP}/zeros.txt", b"0" * (64 * 1024 + 1)))
    assert archive.stat().st_size < 1024

    with pytest.raises(TarballError, match="65536 bytes uncompressed"):
        read_text_files(archive, limits)


def _corrupted(data: bytes) -> bytes:
    """The compressed stream damaged in its middle."""
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 16]) + data[middle + 16 :]


def _damaged_archives() -> list[object]:
    tar = _tar(_folder(), _file(f"{TOP}/a.py", b"print('a')\n" * 200))
    compressed = gzip.compress(tar)
    return [
        pytest.param(_corrupted(compressed), id="corrupt-gzip"),
        pytest.param(compressed[: len(compressed) // 2], id="truncated-gzip"),
        pytest.param(b"just some text, not an archive\n", id="plain-file"),
        pytest.param(tar, id="tar-without-gzip"),
        pytest.param(gzip.compress(b"not a tar inside" * 64), id="gzip-without-tar"),
        pytest.param(b"", id="empty-file"),
    ]


@pytest.mark.parametrize("data", _damaged_archives())
def test_damaged_or_foreign_archives_are_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(TarballError, match=r"not a readable tar\.gz"):
        read_text_files(_write(tmp_path, data))
