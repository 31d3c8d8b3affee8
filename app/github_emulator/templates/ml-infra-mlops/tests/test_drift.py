from __future__ import annotations

import math

import pytest

from app.drift import psi, severity, shares


def test_identical_distributions_have_no_drift() -> None:
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)


def test_psi_by_hand() -> None:
    expected = (0.7 - 0.5) * math.log(0.7 / 0.5) + (0.3 - 0.5) * math.log(0.3 / 0.5)
    assert psi([50, 50], [70, 30]) == pytest.approx(expected)


def test_psi_is_never_negative_and_symmetric() -> None:
    assert psi([90, 10], [40, 60]) == pytest.approx(psi([40, 60], [90, 10]))
    assert psi([90, 10], [40, 60]) > 0


def test_empty_bins_are_floored_instead_of_infinite() -> None:
    assert shares([0, 10]) == [1e-4, 1.0]
    assert math.isfinite(psi([0, 100], [50, 50]))


def test_mismatched_or_empty_histograms_are_refused() -> None:
    with pytest.raises(ValueError, match="same bins"):
        psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one"):
        psi([0, 0], [1, 1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, "stable"), (0.099, "stable"), (0.1, "moderate"), (0.25, "major"), (1.3, "major")],
)
def test_severity_thresholds(value: float, expected: str) -> None:
    assert severity(value) == expected
