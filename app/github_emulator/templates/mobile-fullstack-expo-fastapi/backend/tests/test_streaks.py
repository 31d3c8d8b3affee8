from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from app.streaks import longest_streak


def check_in(client: TestClient, habit: int, *days: str) -> None:
    for day in days:
        assert client.put(f"/habits/{habit}/checkins/{day}").status_code == 201


def stats_on(client: TestClient, habit: int, today: str) -> dict[str, object]:
    stats: dict[str, object] = client.get(f"/habits/{habit}", params={"today": today}).json()
    return stats


def test_the_streak_counts_consecutive_days_up_to_today(client: TestClient, habit: int) -> None:
    check_in(client, habit, "2026-03-08", "2026-03-09", "2026-03-10")

    stats = stats_on(client, habit, "2026-03-10")

    assert stats["done_today"] is True
    assert stats["current_streak"] == 3


def test_the_streak_holds_while_today_is_still_open(client: TestClient, habit: int) -> None:
    check_in(client, habit, "2026-03-08", "2026-03-09")

    stats = stats_on(client, habit, "2026-03-10")

    assert stats["done_today"] is False
    assert stats["current_streak"] == 2


def test_a_missed_day_ends_the_streak_but_not_the_record(client: TestClient, habit: int) -> None:
    check_in(client, habit, "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-05")

    stats = stats_on(client, habit, "2026-03-07")

    assert (stats["current_streak"], stats["longest_streak"], stats["total"]) == (0, 3, 4)


def test_the_last_seven_days_end_today_oldest_first(client: TestClient, habit: int) -> None:
    check_in(client, habit, "2026-03-04", "2026-03-09", "2026-03-10")

    stats = stats_on(client, habit, "2026-03-10")

    assert stats["last_7_days"] == [True, False, False, False, False, True, True]


def test_the_longest_streak_runs_across_months_and_years() -> None:
    days = [dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 2, 28), dt.date(2026, 3, 1)]
    assert longest_streak(days) == 2
    assert longest_streak([*days, dt.date(2026, 3, 2)]) == 3
    assert longest_streak([]) == 0
