"""Population stability index (PSI): how far a feature's live distribution moved from the
one the model was trained on. Common reading: < 0.1 stable, 0.1–0.25 moderate, > 0.25 major."""

from __future__ import annotations

import math

# Empty bins would make the logarithm infinite; they count as this share instead.
EPSILON = 1e-4
MODERATE, MAJOR = 0.1, 0.25


def shares(counts: list[int]) -> list[float]:
    total = sum(counts)
    if total == 0:
        raise ValueError("a histogram needs at least one observation")
    return [max(count / total, EPSILON) for count in counts]


def psi(reference: list[int], current: list[int]) -> float:
    """Σ (current − reference) · ln(current / reference) over the bins' shares."""
    if len(reference) != len(current):
        raise ValueError("both histograms need the same bins")
    return sum(
        (cur - ref) * math.log(cur / ref)
        for ref, cur in zip(shares(reference), shares(current), strict=True)
    )


def severity(value: float) -> str:
    if value >= MAJOR:
        return "major"
    if value >= MODERATE:
        return "moderate"
    return "stable"
