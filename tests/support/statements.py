"""Counting the SQL a request runs, for the tests of the hot reads' round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def recorded_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` meanwhile, savepoints (the test's own rolled-back
    transaction) left out."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement: str = args[2]
        if "SAVEPOINT" not in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
