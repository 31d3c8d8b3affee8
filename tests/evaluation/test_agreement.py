"""Krippendorff's alpha: hand-computed values for each metric, the published example, the
`krippendorff` package on random reliability data with missing values, and the edge cases
where alpha is undefined."""

from __future__ import annotations

import math
import random

import krippendorff
import numpy as np
import pytest

from app.evaluation.agreement import Agreement, Metric, krippendorff_alpha

METRICS: tuple[Metric, ...] = ("nominal", "ordinal", "interval")

# Two coders, three units: u1 = (1, 1), u2 = (2, 3), u3 = (3, 3).
SMALL = [{"A": 1, "B": 1}, {"A": 2, "B": 3}, {"A": 3, "B": 3}]


def test_small_example_by_hand() -> None:
    # Every unit has m = 2 values, so each ordered pair counts 1 / (m - 1) = 1.
    # Coincidences: o11 = 2 (u1: A-B and B-A), o23 = o32 = 1 (u2), o33 = 2 (u3).
    # Totals: n1 = 2, n2 = 1, n3 = 3, n = 6.
    # alpha = 1 - (n - 1) * sum(o_ck d2_ck) / sum(n_c n_k d2_ck), both sums over all c, k.
    #
    # Nominal: d2 = 1 for c != k. Observed: o23 + o32 = 2.
    #   Expected: 2 * (n1 n2 + n1 n3 + n2 n3) = 2 * (2 + 6 + 3) = 22.
    #   alpha = 1 - 5 * 2 / 22 = 12 / 22.
    assert krippendorff_alpha(SMALL, "nominal").alpha == pytest.approx(12 / 22)
    # Interval: d2 = (c - k)^2: d2_12 = 1, d2_13 = 4, d2_23 = 1. Observed: 1 + 1 = 2.
    #   Expected: 2 * (2 * 1 + 6 * 4 + 3 * 1) = 58. alpha = 1 - 5 * 2 / 58 = 48 / 58.
    assert krippendorff_alpha(SMALL, "interval").alpha == pytest.approx(48 / 58)
    # Ordinal: d2_ck = (n_c + ... + n_k - (n_c + n_k) / 2)^2:
    #   d2_12 = (3 - 1.5)^2 = 2.25, d2_23 = (4 - 2)^2 = 4, d2_13 = (6 - 2.5)^2 = 12.25.
    #   Observed: o23 d2_23 + o32 d2_32 = 4 + 4 = 8.
    #   Expected: 2 * (2 * 2.25 + 6 * 12.25 + 3 * 4) = 2 * 90 = 180.
    #   alpha = 1 - 5 * 8 / 180 = 140 / 180.
    assert krippendorff_alpha(SMALL, "ordinal") == Agreement(
        alpha=pytest.approx(140 / 180), units=3, coders=2
    )


def test_a_unit_with_three_values_weighs_each_pair_by_one_half() -> None:
    # u1 = (1, 1, 2): m = 2 + 1 = 3, weight 1 / (m - 1) = 1/2. Ordered pairs: (1,1) twice,
    # (1,2) twice, (2,1) twice -> o11 = 1, o12 = o21 = 1. u2 = (2, 2): o22 = 2.
    # Totals: n1 = 2, n2 = 3, n = 5. Nominal: observed = o12 + o21 = 2;
    # expected = 2 * n1 n2 = 12; alpha = 1 - 4 * 2 / 12 = 1/3.
    units = [{"A": 1, "B": 1, "C": 2}, {"A": 2, "C": 2}]
    assert krippendorff_alpha(units, "nominal") == Agreement(
        alpha=pytest.approx(1 / 3), units=2, coders=3
    )


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with
# four observers, twelve units and missing values, and the values the paper gives.
PUBLISHED = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _units(matrix: list[list[int | None]]) -> list[dict[int, int]]:
    """Reliability data as coders x units -> one coder-to-value mapping per unit."""
    return [
        {coder: row[unit] for coder, row in enumerate(matrix) if row[unit] is not None}
        for unit in range(len(matrix[0]))
    ]


@pytest.mark.parametrize(
    ("metric", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_the_published_example(metric: Metric, published: float) -> None:
    agreement = krippendorff_alpha(_units(PUBLISHED), metric)
    assert agreement.alpha is not None
    assert round(agreement.alpha, 3) == published
    # The twelfth unit has one value: it is not pairable.
    assert (agreement.units, agreement.coders) == (11, 4)


def _random_matrix(rng: random.Random) -> list[list[int | None]]:
    coders, units = rng.randint(2, 6), rng.randint(2, 30)
    missing = rng.uniform(0.0, 0.5)
    return [
        [None if rng.random() < missing else rng.randint(1, 4) for _ in range(units)]
        for _ in range(coders)
    ]


def _defined(matrix: list[list[int | None]]) -> bool:
    pairable = [unit for unit in _units(matrix) if len(unit) >= 2]
    return len({value for unit in pairable for value in unit.values()}) >= 2


@pytest.mark.parametrize("seed", range(40))
def test_agrees_with_the_krippendorff_package_on_random_data(seed: int) -> None:
    rng = random.Random(seed)
    matrix = _random_matrix(rng)
    while not _defined(matrix):
        matrix = _random_matrix(rng)
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    for metric in METRICS:
        ours = krippendorff_alpha(_units(matrix), metric).alpha
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=metric)
        assert ours is not None
        assert ours == pytest.approx(theirs, abs=1e-9), (metric, matrix)


@pytest.mark.parametrize("metric", METRICS)
def test_perfect_agreement_with_variation_is_one(metric: Metric) -> None:
    units = [{"A": 1, "B": 1}, {"A": 4, "B": 4, "C": 4}, {"B": 2, "C": 2}]
    assert krippendorff_alpha(units, metric) == Agreement(alpha=1.0, units=3, coders=3)


@pytest.mark.parametrize("metric", METRICS)
def test_one_coder_leaves_alpha_undefined(metric: Metric) -> None:
    # No unit has two values: nothing to compare.
    units = [{"A": 1}, {"A": 3}, {"A": 4}]
    assert krippendorff_alpha(units, metric) == Agreement(alpha=None, units=0, coders=0)
    assert krippendorff_alpha([], metric) == Agreement(alpha=None, units=0, coders=0)


@pytest.mark.parametrize("metric", METRICS)
def test_all_values_equal_leaves_alpha_undefined(metric: Metric) -> None:
    # No variation: the disagreement expected by chance is 0, and alpha = 1 - 0/0. The
    # answer is None, with the units and coders it would rest on.
    units = [{"A": 3, "B": 3}, {"A": 3, "B": 3, "C": 3}]
    assert krippendorff_alpha(units, metric) == Agreement(alpha=None, units=2, coders=3)


def test_units_with_one_value_take_no_part() -> None:
    with_singles = [*SMALL, {"A": 4}, {"C": 1}]
    assert krippendorff_alpha(with_singles, "ordinal") == krippendorff_alpha(SMALL, "ordinal")


def test_ordinal_alpha_depends_on_the_order_of_levels_only() -> None:
    # An order-preserving relabelling (1, 2, 3 -> 1, 3, 4) changes interval alpha, not ordinal.
    relabel = {1: 1, 2: 3, 3: 4}
    moved = [{coder: relabel[value] for coder, value in unit.items()} for unit in SMALL]
    assert krippendorff_alpha(moved, "ordinal") == krippendorff_alpha(SMALL, "ordinal")
    interval = krippendorff_alpha(moved, "interval").alpha
    assert interval is not None
    assert not math.isclose(interval, 48 / 58)
