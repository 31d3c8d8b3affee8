"""Fingerprints of a source tree and the comparison of two trees.

Tokens come from a language-aware lexer with identifiers and literals normalised, so renaming
variables or changing constants does not hide a copy; k-grams of tokens are hashed and
winnowed (Schleimer, Wilkerson and Aiken, 2003), so reordering functions does not either.
Everything here is pure CPU work on text: callers run it in a worker thread.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import struct
import sys
import zlib
from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.similarity import lexing
from app.similarity.regions import Side, matched_runs


@dataclass(frozen=True)
class WinnowParams:
    # Tokens per hashed k-gram: a match shorter than this is noise.
    k: int
    # Consecutive k-grams per window: a match of k + window - 1 tokens is always found.
    window: int


# The values below were measured on tests/fixtures/similarity (a Python and a TypeScript
# task: two honest solutions, a renamed and reordered copy) and on benchmarks/similarity.py
# (200 generated submissions, 19 896 honest pairs; benchmarks/README.md).
#
# 20 normalised tokens are two or three lines: longer than the idioms that solutions written
# apart share (their pairs score 0.00-0.02 on the fixtures), short enough that a copied
# function of a few lines still matches. A window of 6 keeps about 2 k-grams in 7 and
# always finds a shared run of 25 tokens.
DEFAULT_PARAMS = WinnowParams(k=20, window=6)
# A pair is shown for review at or above this score. Honest pairs scored at most 0.02 on the
# fixtures and 0.009 in the benchmark; the fixtures' copies 0.65 and 0.81, and the
# benchmark's planted copies of 100, 75, 50 and 30 % of a submission 0.78, 0.58, 0.43 and
# 0.23. The score is a share of the whole tree, so a smaller copy stays under it.
DEFAULT_THRESHOLD = 0.2
# Below this many shared fingerprints a pair is never reported, whatever its fraction: two
# nearly empty trees would score 1.0 on one obvious five-line function. 20 fingerprints are
# a block of about 70 tokens (the fixtures' eight-line rank_books gives 25); honest fixture
# pairs share at most 3.
MIN_SHARED = 20
# A run of this many tokens that the template also has is the template's code. Shorter than
# k, so a stub's signature left between two filled-in stubs (`def f(self, x: T) -> R:` is 13
# tokens) still counts as the template's; 10 would also claim short idioms the candidates
# write themselves (the fixtures' copies lose 5-10 % of their score).
TEMPLATE_RUN = 14

_FORMAT_VERSION = 1
_HEADER = struct.Struct("<HHII")  # k, window, files, fingerprints; after the version byte
_PATH_LENGTH = struct.Struct("<H")
# The columns' array typecodes: hashes, file indexes, positions, start lines, end lines.
_COLUMN_TYPECODES = ("Q", "I", "I", "I", "I")


@dataclass(frozen=True)
class Span:
    file: str
    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive


@dataclass(frozen=True)
class _FileKgrams:
    """One file's tokens and every k-gram hash before winnowing: what subtracting a template
    token by token needs. Never stored."""

    codes: bytes  # of the tokens, 4 bytes each (`_token_code`)
    hashes: list[int]
    token_start_lines: list[int]
    token_end_lines: list[int]


@dataclass(frozen=True)
class TreeFingerprints:
    """A tree's selected fingerprints: each hash with where it came from. Stored once per
    submission (`to_bytes`), compared many times.

    One fingerprint per index of the parallel columns, ordered by file then position. A tree
    just made by `fingerprint_tree` also holds every k-gram (not stored, not compared), so
    that `without` can take the template out before the tree is stored."""

    files: tuple[str, ...]  # the source files that were fingerprinted, by path
    params: WinnowParams
    hashes: array[int] = field(hash=False)  # 64-bit k-gram hashes
    file_indexes: array[int] = field(hash=False)  # into `files`
    positions: array[int] = field(hash=False)  # the k-gram's first token in its file
    start_lines: array[int] = field(hash=False)  # of the k-gram's first token
    end_lines: array[int] = field(hash=False)  # of its last token
    every_kgram: tuple[_FileKgrams, ...] | None = field(
        default=None, compare=False, hash=False, repr=False
    )

    def __len__(self) -> int:
        return len(self.hashes)

    def without(self, template: TreeFingerprints) -> TreeFingerprints:
        """These fingerprints minus every hash that also occurs in `template`.

        Token by token, not hash by hash: a token inside a run of TEMPLATE_RUN tokens that the
        template also has is the template's, and the k-grams made only of the other tokens
        are winnowed again, each run of them apart. Subtracting hashes would leave the
        k-grams that straddle template code and a small edit, which every candidate who made
        the same edit shares. So both trees must come straight from `fingerprint_tree`, and
        the result is what gets stored."""
        if self.every_kgram is None or template.every_kgram is None:
            raise ValueError("subtract a template from trees just fingerprinted, not stored")
        theirs = _ngrams(template.every_kgram, TEMPLATE_RUN)
        blocked = [_blocked(file.codes, theirs, self.params.k) for file in self.every_kgram]
        return _winnowed(self.files, self.params, self.every_kgram, blocked)

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(self.params.k, self.params.window, len(self.files), len(self))
        paths = b"".join(
            _PATH_LENGTH.pack(len(encoded)) + encoded
            for encoded in (path.encode() for path in self.files)
        )
        columns = b"".join(_little_endian(column) for column in self._columns())
        return bytes([_FORMAT_VERSION]) + zlib.compress(header + paths + columns)

    @classmethod
    def from_bytes(cls, data: bytes) -> TreeFingerprints:
        """The fingerprints `to_bytes` wrote; ValueError for anything else."""
        if not data or data[0] != _FORMAT_VERSION:
            raise ValueError("not fingerprints of a known format version")
        try:
            body = zlib.decompress(data[1:])
            k, window, file_count, count = _HEADER.unpack_from(body)
            offset = _HEADER.size
            files: list[str] = []
            for _ in range(file_count):
                (length,) = _PATH_LENGTH.unpack_from(body, offset)
                offset += _PATH_LENGTH.size
                files.append(body[offset : offset + length].decode())
                offset += length
        except (zlib.error, struct.error, UnicodeDecodeError) as error:
            raise ValueError(f"damaged fingerprints: {error}") from error
        columns = []
        for typecode in _COLUMN_TYPECODES:
            column = array(typecode)
            size = column.itemsize * count
            if offset + size > len(body):
                raise ValueError("damaged fingerprints: truncated")
            column.frombytes(body[offset : offset + size])
            offset += size
            columns.append(_from_little_endian(column))
        if offset != len(body):
            raise ValueError("damaged fingerprints: trailing bytes")
        hashes, file_indexes, positions, start_lines, end_lines = columns
        tree = cls(
            tuple(files),
            WinnowParams(k, window),
            hashes,
            file_indexes,
            positions,
            start_lines,
            end_lines,
        )
        tree._check()
        return tree

    @functools.cached_property
    def _distinct(self) -> frozenset[int]:
        # Cached: a new submission is compared with every earlier one.
        return frozenset(self.hashes)

    def _columns(self) -> tuple[array[int], ...]:
        return (self.hashes, self.file_indexes, self.positions, self.start_lines, self.end_lines)

    def _check(self) -> None:
        if self.params.k < 1 or self.params.window < 1:
            raise ValueError("damaged fingerprints: k and window must be positive")
        if len(set(self.files)) != len(self.files):
            raise ValueError("damaged fingerprints: a file is listed twice")
        if not self.hashes:
            return
        # map() over the columns keeps these checks out of the interpreter's loop: stored
        # fingerprints are read back hundreds of times per submission.
        if (
            max(self.file_indexes) >= len(self.files)
            or min(self.start_lines) < 1
            or not all(map(operator.le, self.start_lines, self.end_lines))
        ):
            raise ValueError("damaged fingerprints: a location is out of range")
        files, positions = self.file_indexes, self.positions
        next_files, next_positions = files[1:], positions[1:]
        new_file = map(operator.ne, files, next_files)
        advancing = map(operator.lt, positions, next_positions)
        if not (
            all(map(operator.le, files, next_files)) and all(map(operator.or_, new_file, advancing))
        ):
            raise ValueError("damaged fingerprints: locations out of order")


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
    params = params or DEFAULT_PARAMS
    if params.k < 1 or params.window < 1:
        raise ValueError("k and window must be positive")
    sources = {}
    for path, text in files:
        language = lexing.language_of(path)
        if language is not None and not lexing.looks_generated(text):
            sources[path] = (text, language)
    paths = tuple(sorted(sources))
    every_kgram = []
    for path in paths:
        stream = lexing.tokens(*sources[path])
        codes = b"".join(map(_token_code, stream.texts))
        hashes = _kgram_hashes(codes, params.k)
        every_kgram.append(_FileKgrams(codes, hashes, stream.start_lines, stream.end_lines))
    return _winnowed(paths, params, tuple(every_kgram), None)


def compare(left: TreeFingerprints, right: TreeFingerprints) -> PairMatch:
    """How much of each tree the other shares, and where."""
    if left.params != right.params:
        raise ValueError("fingerprints made with different parameters cannot be compared")
    left_hashes = left._distinct
    right_hashes = right._distinct
    shared = left_hashes & right_hashes
    if not shared:
        return PairMatch(0, 0.0, 0.0, ())
    # A copied block stays one region across small edits: one changed token hides the k
    # k-grams over it, and winnowing picks one k-gram in every window.
    gap = left.params.k + 2 * left.params.window
    runs = matched_runs(_side(left), _side(right), shared, gap)
    regions = [
        MatchedRegion(
            _span(left, [index for index, _ in run]),
            _span(right, [other for _, other in run]),
            len(run),
        )
        for run in runs
    ]
    regions.sort(key=_largest_first)
    return PairMatch(
        len(shared),
        len(shared) / len(left_hashes),
        len(shared) / len(right_hashes),
        tuple(regions),
    )


def _winnowed(
    paths: tuple[str, ...],
    params: WinnowParams,
    every_kgram: tuple[_FileKgrams, ...],
    blocked: list[bytearray] | None,
) -> TreeFingerprints:
    """The tree's winnowed fingerprints, each file winnowed apart; with `blocked`, only the
    runs of k-grams not blocked are, each apart, so no window spans template code."""
    columns = tuple(array(typecode) for typecode in _COLUMN_TYPECODES)
    hashes, file_indexes, positions, start_lines, end_lines = columns
    for file_index, file in enumerate(every_kgram):
        runs = [(0, len(file.hashes))] if blocked is None else _open_runs(blocked[file_index])
        for start, stop in runs:
            for offset in _winnow(file.hashes[start:stop], params.window):
                position = start + offset
                hashes.append(file.hashes[position])
                file_indexes.append(file_index)
                positions.append(position)
                start_lines.append(file.token_start_lines[position])
                end_lines.append(file.token_end_lines[position + params.k - 1])
    return TreeFingerprints(
        paths,
        params,
        hashes,
        file_indexes,
        positions,
        start_lines,
        end_lines,
        every_kgram if blocked is None else None,
    )


def _ngrams(files: Iterable[_FileKgrams], size: int) -> set[bytes]:
    """Every run of `size` tokens in the files, as their codes."""
    width = 4 * size
    return {
        file.codes[start : start + width]
        for file in files
        for start in range(0, len(file.codes) - width + 1, 4)
    }


def _blocked(codes: bytes, theirs: set[bytes], k: int) -> bytearray:
    """For each k-gram of a file, 1 if one of its tokens is in a run of TEMPLATE_RUN tokens
    that `theirs` holds too."""
    kgrams = max(len(codes) // 4 - k + 1, 0)
    # +1 where a blocked stretch of k-grams starts, -1 after it ends; the running sum marks it.
    edges = [0] * (kgrams + 1)
    width = 4 * TEMPLATE_RUN
    for token in range(len(codes) // 4 - TEMPLATE_RUN + 1):
        if codes[4 * token : 4 * token + width] in theirs:
            edges[min(max(token - k + 1, 0), kgrams)] += 1
            edges[min(token + TEMPLATE_RUN, kgrams)] -= 1
    blocked = bytearray(kgrams)
    depth = 0
    for position in range(kgrams):
        depth += edges[position]
        blocked[position] = depth > 0
    return blocked


def _open_runs(blocked: bytearray) -> list[tuple[int, int]]:
    """The (start, stop) ranges of consecutive k-grams that are not blocked."""
    runs = []
    start = None
    for position, closed in enumerate(blocked):
        if closed and start is not None:
            runs.append((start, position))
            start = None
        elif not closed and start is None:
            start = position
    if start is not None:
        runs.append((start, len(blocked)))
    return runs


def _largest_first(region: MatchedRegion) -> tuple[int, str, int, str, int]:
    left, right = region.left, region.right
    return -region.fingerprints, left.file, left.start_line, right.file, right.start_line


def _side(tree: TreeFingerprints) -> Side:
    return Side(tree.hashes, tree.file_indexes, tree.positions)


def _span(tree: TreeFingerprints, indexes: list[int]) -> Span:
    return Span(
        tree.files[tree.file_indexes[indexes[0]]],
        min(tree.start_lines[index] for index in indexes),
        max(tree.end_lines[index] for index in indexes),
    )


@functools.lru_cache(maxsize=1 << 16)
def _token_code(text: str) -> bytes:
    # A fixed-width stable code per normalised token, so a k-gram is one slice of bytes.
    # Normalised tokens are few (keywords, operators, punctuation); the bound is for odd
    # input, which Pygments passes on as error tokens of any text.
    return hashlib.blake2b(text.encode(), digest_size=4).digest()


def _kgram_hashes(codes: bytes, k: int) -> list[int]:
    """A stable 64-bit hash of each k consecutive tokens (never Python's salted `hash`: stored
    fingerprints are compared across processes and releases)."""
    view = memoryview(codes)
    width = 4 * k
    return [
        int.from_bytes(hashlib.blake2b(view[start : start + width], digest_size=8).digest())
        for start in range(0, len(codes) - width + 1, 4)
    ]


def _winnow(hashes: list[int], window: int) -> list[int]:
    """Positions picked by robust winnowing: in each window the minimum hash; on a tie the
    window's previous pick if it is still inside, else the rightmost minimum. A sequence
    shorter than a window is one window."""
    picked: list[int] = []
    width = min(window, len(hashes))
    candidates: deque[int] = deque()  # positions of increasing hashes; the front is the minimum
    for position, value in enumerate(hashes):
        while candidates and hashes[candidates[-1]] >= value:
            candidates.pop()  # `>=` leaves the rightmost of equal hashes
        candidates.append(position)
        if candidates[0] <= position - width:
            candidates.popleft()
        if position < width - 1:
            continue
        minimum = candidates[0]
        if picked and (
            picked[-1] == minimum
            or (picked[-1] > position - width and hashes[picked[-1]] == hashes[minimum])
        ):
            continue
        picked.append(minimum)
    return picked


def _little_endian(column: array[int]) -> bytes:
    if sys.byteorder == "big":
        column = array(column.typecode, column)
        column.byteswap()
    return column.tobytes()


def _from_little_endian(column: array[int]) -> array[int]:
    if sys.byteorder == "big":
        column.byteswap()
    return column
