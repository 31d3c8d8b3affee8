"""The streak rules. A day is a calendar date as the user's phone sees it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Set

ONE_DAY = dt.timedelta(days=1)


def current_streak(days: Set[dt.date], today: dt.date) -> int:
    """Consecutive days with a check-in, ending today; a day without one breaks it."""
    day = today
    streak = 0
    while day in days:
        streak += 1
        day -= ONE_DAY
    return streak


def longest_streak(days: Iterable[dt.date]) -> int:
    longest = run = 0
    previous: dt.date | None = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == ONE_DAY else 1
        longest = max(longest, run)
        previous = day
    return longest


def last_days(days: Set[dt.date], today: dt.date, count: int = 7) -> list[bool]:
    """Whether each of the `count` days ending today has a check-in, oldest first."""
    return [today - offset * ONE_DAY in days for offset in reversed(range(count))]
