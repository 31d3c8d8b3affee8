"""Habits and their check-ins, in memory: every restart starts empty."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


class DuplicateHabit(ValueError):
    """A habit by that name (ignoring case) exists already."""


@dataclass
class HabitRecord:
    id: int
    name: str
    days: set[dt.date] = field(default_factory=set)


class Store:
    def __init__(self) -> None:
        self._habits: dict[int, HabitRecord] = {}

    def create_habit(self, name: str) -> HabitRecord:
        if any(habit.name.casefold() == name.casefold() for habit in self._habits.values()):
            raise DuplicateHabit(f"there is a habit called {name!r} already")
        habit = HabitRecord(id=len(self._habits) + 1, name=name)
        self._habits[habit.id] = habit
        return habit

    def habits(self) -> list[HabitRecord]:
        """Every habit, oldest first."""
        return list(self._habits.values())

    def get(self, habit_id: int) -> HabitRecord:
        """The habit; KeyError when there is none."""
        return self._habits[habit_id]

    def check_in(self, habit_id: int, day: dt.date) -> bool:
        """Record the day; False when it was recorded already (a phone replaying it)."""
        habit = self.get(habit_id)
        if day in habit.days:
            return False
        habit.days.add(day)
        return True

    def undo_check_in(self, habit_id: int, day: dt.date) -> None:
        self.get(habit_id).days.discard(day)
