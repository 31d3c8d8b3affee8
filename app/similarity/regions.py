"""Matched regions between two fingerprinted trees: runs of shared fingerprints that follow
each other in the same order on both sides, wherever each side put them (a function moved to
another place or file is still one run)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass

# Fewer shared fingerprints in a row are an idiom, not a region worth a reviewer's look.
MIN_RUN = 3
# A hash found this often in the other tree is an idiom of that code: it still counts as
# shared, but pairing it with every occurrence would only make noise, so it seeds no run.
MAX_OCCURRENCES = 16

Pair = tuple[int, int]  # fingerprint indexes: (left, right)


@dataclass(frozen=True)
class Side:
    """One tree's fingerprints as parallel columns, ordered by file then position."""

    hashes: Sequence[int]
    file_indexes: Sequence[int]
    positions: Sequence[int]  # of the k-gram's first token in its file


def matched_runs(left: Side, right: Side, shared: Set[int], gap: int) -> list[list[Pair]]:
    """Runs of pairs with one hash, each step advancing by at most `gap` tokens on both sides,
    largest first; a run that reuses a fingerprint of a larger one is dropped (the same code
    matched again elsewhere)."""
    right_at: dict[int, list[int]] = {}
    for index in _indexes_of(right.hashes, shared):
        right_at.setdefault(right.hashes[index], []).append(index)
    by_files: dict[tuple[int, int], list[Pair]] = {}
    for index in _indexes_of(left.hashes, shared):
        across = right_at[left.hashes[index]]
        if len(across) > MAX_OCCURRENCES:
            continue
        for other in across:
            files = (left.file_indexes[index], right.file_indexes[other])
            by_files.setdefault(files, []).append((index, other))
    runs = [
        run
        for pairs in by_files.values()
        for run in _chain(pairs, left.positions, right.positions, gap)
        if len(run) >= MIN_RUN
    ]
    runs.sort(key=len, reverse=True)  # stable: equal runs keep the left tree's order
    claimed_left: set[int] = set()
    claimed_right: set[int] = set()
    kept = []
    for run in runs:
        if any(index in claimed_left or other in claimed_right for index, other in run):
            continue
        claimed_left.update(index for index, _ in run)
        claimed_right.update(other for _, other in run)
        kept.append(run)
    return kept


def _indexes_of(hashes: Sequence[int], wanted: Set[int]) -> Iterator[int]:
    """Where the wanted hashes are, in order (found at C speed: few hashes are shared)."""
    return itertools.compress(itertools.count(), map(wanted.__contains__, hashes))


def _chain(
    pairs: list[Pair], left_positions: Sequence[int], right_positions: Sequence[int], gap: int
) -> list[list[Pair]]:
    """Chains of the pairs of two files, taken in left order: a pair extends the open chain
    whose last pair it follows within `gap` tokens on both sides, the one whose two sides
    stay most in step; otherwise it starts a chain."""
    finished: list[list[Pair]] = []
    open_chains: list[list[Pair]] = []
    for index, other in pairs:
        left_position = left_positions[index]
        right_position = right_positions[other]
        still_open = []
        for chain in open_chains:
            if left_position - left_positions[chain[-1][0]] > gap:
                finished.append(chain)
            else:
                still_open.append(chain)
        open_chains = still_open
        best: list[Pair] | None = None
        best_skew = 0
        for chain in open_chains:
            left_step = left_position - left_positions[chain[-1][0]]
            right_step = right_position - right_positions[chain[-1][1]]
            if left_step > 0 and 0 < right_step <= gap:
                skew = abs(left_step - right_step)
                if best is None or skew < best_skew:
                    best, best_skew = chain, skew
        if best is None:
            open_chains.append([(index, other)])
        else:
            best.append((index, other))
    return finished + open_chains
