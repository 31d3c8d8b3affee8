"""Request and response models of the Streaks API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class HabitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class Habit(BaseModel):
    """A habit and where the user stands with it on `today` (the phone's date)."""

    id: int
    name: str
    done_today: bool
    current_streak: int
    longest_streak: int
    total: int
    # Whether each of the last seven days has a check-in, oldest first, ending today.
    last_7_days: list[bool]


class CheckIn(BaseModel):
    habit_id: int
    day: dt.date
