"""Reading a repository tarball (`GET /repos/{o}/{r}/tarball/{ref}`) safely: GitHub wraps the
tree in one top folder (`owner-repo-sha7/`); the text files come out with that folder removed,
under entry, per-file and total size caps, and nothing is ever written to disk.

The archive is read as a stream (`r|gz`), member by member, so memory holds one file at a
time plus the text kept. GitHub's pax global header (it carries the commit id) is consumed by
`tarfile` itself and never shows up as a member.
"""

from __future__ import annotations

import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TarballLimits:
    # Every member counts: files, folders, links, skipped ones alike.
    max_entries: int = 20_000
    max_file_bytes: int = 512 * 1024  # larger files are skipped (data, bundles), not fatal
    max_total_bytes: int = 64 * 1024 * 1024  # of the text files kept, uncompressed
    # Of every member's content, skipped ones included: a small tar.gz can inflate a
    # thousandfold, and even a skipped file must be decompressed to get past it.
    max_archive_bytes: int = 1024 * 1024 * 1024


@dataclass(frozen=True)
class TreeFile:
    path: str  # relative to the tree's root, "/"-separated
    text: str


class TarballError(Exception):
    """The archive is damaged, not a tarball, or over a cap (the message says which)."""


def read_text_files(archive: Path, limits: TarballLimits | None = None) -> list[TreeFile]:
    """The archive's regular UTF-8 text files, sorted by path, the top folder removed from
    their paths.

    Skipped: folders, symlinks, hardlinks, devices and fifos; files over `max_file_bytes`;
    files that are not UTF-8 or contain NUL (binaries); names that are not UTF-8.
    `TarballError`: a damaged or non-gzip archive; more than `max_entries` members or
    `max_archive_bytes` of content; more than `max_total_bytes` of text kept; a member
    outside one common top folder, an absolute path or a `..` component (GitHub never
    makes those, so the archive is not one of its tarballs; nothing of it is used).
    Blocking: run it in a worker thread."""
    limits = limits or TarballLimits()
    with archive.open("rb") as raw:
        try:
            with tarfile.open(fileobj=raw, mode="r|gz", encoding="utf-8") as tar:
                texts = _read(tar, limits)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise TarballError(f"{archive.name} is not a readable tar.gz: {exc}") from exc
    return [TreeFile(path, texts[path]) for path in sorted(texts)]


def _read(tar: tarfile.TarFile, limits: TarballLimits) -> dict[str, str]:
    top: str | None = None
    entries = content_bytes = text_bytes = 0
    # By path: a name repeated in a tar stands for its last copy, as extraction would leave.
    texts: dict[str, str] = {}
    for member in tar:
        entries += 1
        if entries > limits.max_entries:
            raise TarballError(f"The archive has more than {limits.max_entries} entries")
        content_bytes += member.size
        if content_bytes > limits.max_archive_bytes:
            raise TarballError(
                f"The archive's content exceeds {limits.max_archive_bytes} bytes uncompressed"
            )
        parts = _parts(member)
        if not parts:
            continue
        if top is None:
            top = parts[0]
        elif parts[0] != top:
            raise TarballError(f"{member.name!r} is outside the top folder {top!r}")
        if len(parts) == 1 and not member.isdir():
            raise TarballError(f"{member.name!r} is outside any top folder")
        path = "/".join(parts[1:])
        if not member.isreg() or member.size > limits.max_file_bytes or not _utf8(path):
            continue
        text = _text(tar, member)
        if text is None:
            continue
        text_bytes += member.size
        if text_bytes > limits.max_total_bytes:
            raise TarballError(f"The text files exceed {limits.max_total_bytes} bytes")
        texts[path] = text
    return texts


def _parts(member: tarfile.TarInfo) -> list[str]:
    """The member's path components (empty and `.` ones dropped); unsafe paths refused."""
    name = member.name
    if name.startswith("/") or ".." in name.split("/"):
        raise TarballError(f"The archive holds an unsafe path: {name!r}")
    return [part for part in name.split("/") if part not in ("", ".")]


def _utf8(path: str) -> bool:
    # Names that are not UTF-8 come out of tarfile with surrogate escapes.
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str | None:
    """The member's content as text, or None for a binary (NUL bytes, not UTF-8)."""
    stream = tar.extractfile(member)
    if stream is None:
        return None
    data = stream.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
