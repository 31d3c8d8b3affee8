"""The HTTP API of Streaks, a habit tracker whose phones keep working offline."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI, HTTPException, Response, status

from app import streaks
from app.models import CheckIn, Habit, HabitIn
from app.store import DuplicateHabit, HabitRecord, Store


def _latest_possible_day() -> dt.date:
    # The first time zones to start a day are 14 hours ahead of UTC: no phone's calendar
    # can be past tomorrow in UTC.
    return dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)


def _habit(record: HabitRecord, today: dt.date) -> Habit:
    return Habit(
        id=record.id,
        name=record.name,
        done_today=today in record.days,
        current_streak=streaks.current_streak(record.days, today),
        longest_streak=streaks.longest_streak(record.days),
        total=len(record.days),
        last_7_days=streaks.last_days(record.days, today),
    )


def create_app() -> FastAPI:
    app = FastAPI(title="Streaks API")
    store = Store()

    def record_of(habit_id: int) -> HabitRecord:
        try:
            return store.get(habit_id)
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "habit not found") from None

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/habits", status_code=status.HTTP_201_CREATED)
    def create_habit(body: HabitIn) -> Habit:
        try:
            record = store.create_habit(body.name)
        except DuplicateHabit as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        return _habit(record, dt.date.today())

    @app.get("/habits")
    def list_habits(today: dt.date | None = None) -> list[Habit]:
        day = today or dt.date.today()
        return [_habit(record, day) for record in store.habits()]

    @app.get("/habits/{habit_id}")
    def get_habit(habit_id: int, today: dt.date | None = None) -> Habit:
        return _habit(record_of(habit_id), today or dt.date.today())

    @app.put("/habits/{habit_id}/checkins/{day}")
    def check_in(habit_id: int, day: dt.date, response: Response) -> CheckIn:
        record_of(habit_id)
        if day > _latest_possible_day():
            raise HTTPException(422, "that day has not started anywhere yet")
        created = store.check_in(habit_id, day)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return CheckIn(habit_id=habit_id, day=day)

    @app.delete("/habits/{habit_id}/checkins/{day}", status_code=status.HTTP_204_NO_CONTENT)
    def undo_check_in(habit_id: int, day: dt.date) -> None:
        record_of(habit_id)
        store.undo_check_in(habit_id, day)

    return app


app = create_app()
