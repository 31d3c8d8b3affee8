"""Inter-rater agreement: Krippendorff's alpha over reliability data with missing values,
computed from the coincidence matrix (K. Krippendorff, "Computing Krippendorff's
Alpha-Reliability", 2011).

alpha = 1 - D_o / D_e, with D_o = sum_ck o_ck d2(c, k) / n (the observed disagreement) and
D_e = sum_ck n_c n_k d2(c, k) / (n (n - 1)) (the disagreement expected by chance), where
o_ck counts the ordered pairs of values (c, k) that different coders gave one unit, each
unit's pairs weighted 1 / (m_u - 1) for its m_u values, n_c = sum_k o_ck and n = sum_c n_c.
Only units with at least two values (pairable units) take part."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from typing_extensions import TypeAliasType

Metric = TypeAliasType("Metric", Literal["nominal", "ordinal", "interval"])
_Distance = Callable[[float, float], float]
Coder = TypeVar("Coder", bound=Hashable)


@dataclass(frozen=True)
class Agreement:
    """`alpha` is None when it is undefined: no unit has two values (one coder, or coders
    who never rated the same unit), or every pairable value is the same, so there is no
    variation to tell agreement from chance with (D_e = 0). `units` and `coders` say what it
    rests on: the pairable units and the coders who gave a value to one of them."""

    alpha: float | None
    units: int
    coders: int


def krippendorff_alpha(
    units: Iterable[Mapping[Coder, float]], metric: Metric = "ordinal"
) -> Agreement:
    """Alpha over `units`, each a mapping of coder to value (a missing value is a coder
    absent from the mapping). Ordinal and interval values must be numbers; nominal values
    are only compared for equality."""
    pairable = [unit for unit in units if len(unit) >= 2]
    coincidences: defaultdict[tuple[float, float], float] = defaultdict(float)
    for unit in pairable:
        counts = Counter(unit.values())
        pairs = len(unit) - 1
        for c, n_uc in counts.items():
            for k, n_uk in counts.items():
                ordered_pairs = n_uc * n_uk - (n_uc if c == k else 0)
                if ordered_pairs:
                    coincidences[c, k] += ordered_pairs / pairs
    totals: defaultdict[float, float] = defaultdict(float)
    for (c, _), count in coincidences.items():
        totals[c] += count
    n = sum(totals.values())
    coders = len({coder for unit in pairable for coder in unit})
    distance = _squared_distance(metric, totals)
    observed = sum(count * distance(c, k) for (c, k), count in coincidences.items())
    expected = (
        sum(n_c * n_k * distance(c, k) for c, n_c in totals.items() for k, n_k in totals.items())
        / (n - 1)
        if n > 1
        else 0.0
    )
    alpha = None if expected == 0 else 1 - observed / expected
    return Agreement(alpha=alpha, units=len(pairable), coders=coders)


def _squared_distance(metric: Metric, totals: Mapping[float, float]) -> _Distance:
    if metric == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if metric == "interval":
        return lambda c, k: float(c - k) ** 2
    # Ordinal: the distance between two ranks is how many values lie between them, counting
    # half of each end's own values.
    domain = sorted(totals)
    cumulative: dict[float, float] = {}
    running = 0.0
    for value in domain:
        cumulative[value] = running
        running += totals[value]

    def ordinal(c: float, k: float) -> float:
        low, high = (c, k) if c <= k else (k, c)
        between = cumulative[high] + totals[high] - cumulative[low]
        return (between - (totals[low] + totals[high]) / 2) ** 2

    return ordinal
