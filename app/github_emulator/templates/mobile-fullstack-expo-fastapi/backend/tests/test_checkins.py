from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient


def test_a_replayed_check_in_is_recorded_once(client: TestClient, habit: int) -> None:
    # A phone that lost its connection sends the same check-in again.
    first = client.put(f"/habits/{habit}/checkins/2026-03-01")
    replay = client.put(f"/habits/{habit}/checkins/2026-03-01")

    assert first.status_code == 201
    assert first.json() == {"habit_id": habit, "day": "2026-03-01"}
    assert replay.status_code == 200
    assert client.get(f"/habits/{habit}", params={"today": "2026-03-01"}).json()["total"] == 1


def test_undoing_a_check_in_can_be_replayed_too(client: TestClient, habit: int) -> None:
    client.put(f"/habits/{habit}/checkins/2026-03-01")

    assert client.delete(f"/habits/{habit}/checkins/2026-03-01").status_code == 204
    assert client.delete(f"/habits/{habit}/checkins/2026-03-01").status_code == 204
    stats = client.get(f"/habits/{habit}", params={"today": "2026-03-01"}).json()
    assert (stats["done_today"], stats["total"]) == (False, 0)


@pytest.mark.parametrize("day", ["2026-02-30", "yesterday", "2026-3-1"])
def test_a_check_in_is_for_a_real_date(client: TestClient, habit: int, day: str) -> None:
    assert client.put(f"/habits/{habit}/checkins/{day}").status_code == 422


def test_no_check_in_for_a_day_that_has_not_started_anywhere(
    client: TestClient, habit: int
) -> None:
    utc_today = dt.datetime.now(dt.UTC).date()
    tomorrow, after = utc_today + dt.timedelta(days=1), utc_today + dt.timedelta(days=2)

    assert client.put(f"/habits/{habit}/checkins/{tomorrow}").status_code == 201
    assert client.put(f"/habits/{habit}/checkins/{after}").status_code == 422
