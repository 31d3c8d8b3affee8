"""In-memory task repository."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.models import Task, TaskCreate


def utc_now() -> datetime:
    return datetime.now(UTC)


class TaskStore:
    """Keeps tasks in memory, in creation order. Safe to share between threads."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tasks: dict[int, Task] = {}
        self._next_id = 1

    def list(self, *, page: int, page_size: int) -> tuple[list[Task], int]:
        """One page (1-based) of tasks in creation order, and the total number of tasks."""
        with self._lock:
            tasks = list(self._tasks.values())
        start = page * page_size
        return tasks[start : start + page_size], len(tasks)

    def add(self, data: TaskCreate) -> Task:
        with self._lock:
            task = Task(
                id=self._next_id,
                title=data.title,
                description=data.description,
                priority=data.priority,
                due_date=data.due_date,
                done=False,
                created_at=self._clock(),
                completed_at=None,
            )
            self._tasks[task.id] = task
            self._next_id += 1
            return task

    def get(self, task_id: int) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def update(self, task_id: int, changes: dict[str, Any]) -> Task | None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return None
            updated = task.model_copy(update=changes)
            self._tasks[task_id] = updated
            return updated

    def delete(self, task_id: int) -> bool:
        with self._lock:
            return self._tasks.pop(task_id, None) is not None

    def now(self) -> datetime:
        return self._clock()
