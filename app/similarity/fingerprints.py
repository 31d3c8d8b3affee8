"""Fingerprints of a source tree and the comparison of two trees.

Tokens come from a language-aware lexer with identifiers and literals normalised, so renaming
variables or changing constants does not hide a copy; k-grams of tokens are hashed and
winnowed (Schleimer, Wilkerson and Aiken, 2003), so reordering functions does not either.
Everything here is pure CPU work on text: callers run it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class WinnowParams:
    # Tokens per hashed k-gram: a match shorter than this is noise.
    k: int
    # Consecutive k-grams per window: a match of k + window - 1 tokens is always found.
    window: int


@dataclass(frozen=True)
class Span:
    file: str
    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive


@dataclass(frozen=True)
class TreeFingerprints:
    """A tree's selected fingerprints: each hash with where it came from. Stored once per
    submission (`to_bytes`), compared many times."""

    files: tuple[str, ...]

    def __len__(self) -> int:
        raise NotImplementedError

    def without(self, template: TreeFingerprints) -> TreeFingerprints:
        """These fingerprints minus every hash that also occurs in `template`."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def from_bytes(cls, data: bytes) -> TreeFingerprints:
        raise NotImplementedError


@dataclass(frozen=True)
class MatchedRegion:
    left: Span
    right: Span
    fingerprints: int  # shared fingerprints inside the two spans


@dataclass(frozen=True)
class PairMatch:
    shared: int  # distinct hashes in both trees
    left_fraction: float  # of the left tree's fingerprints, the share found in the right
    right_fraction: float
    regions: tuple[MatchedRegion, ...]  # largest first

    @property
    def score(self) -> float:
        return max(self.left_fraction, self.right_fraction)


def fingerprint_tree(
    files: Iterable[tuple[str, str]], params: WinnowParams | None = None
) -> TreeFingerprints:
    """Fingerprints of (path, text) pairs; files no lexer knows, generated or vendored files
    are left out."""
    raise NotImplementedError


def compare(left: TreeFingerprints, right: TreeFingerprints) -> PairMatch:
    raise NotImplementedError
