"""Reading a repository tarball (`GET /repos/{o}/{r}/tarball/{ref}`) safely: GitHub wraps the
tree in one top folder (`owner-repo-sha7/`); the text files come out with that folder removed,
under entry, per-file and total size caps, and nothing is ever written to disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TarballLimits:
    max_entries: int = 20_000
    max_file_bytes: int = 512 * 1024  # larger files are skipped (data, bundles), not fatal
    max_total_bytes: int = 64 * 1024 * 1024  # of the text files kept, uncompressed


@dataclass(frozen=True)
class TreeFile:
    path: str  # relative to the tree's root, "/"-separated
    text: str


class TarballError(Exception):
    """The archive is damaged, not a tarball, or over a cap (the message says which)."""


def read_text_files(archive: Path, limits: TarballLimits | None = None) -> list[TreeFile]:
    """The archive's regular UTF-8 text files, sorted by path. Links, devices, binaries and
    files over `max_file_bytes` are skipped; too many entries or too many bytes in all raise
    `TarballError`. Blocking: run it in a worker thread."""
    raise NotImplementedError
