"""Run status changes, pushed across API instances through PostgreSQL LISTEN/NOTIFY.

Whoever changes a run calls `notify_run_changed` in the same transaction; every instance's
hub hears it at commit and wakes the SSE streams watching that run.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.metrics import Metrics
from app.core.pg_listen import PgListener

RUN_EVENTS_CHANNEL = "tenon_run_events"


async def notify_run_changed(session: AsyncSession, run_id: int) -> None:
    await session.execute(select(func.pg_notify(RUN_EVENTS_CHANNEL, str(run_id))))


class RunEventHub:
    def __init__(self, url: URL, metrics: Metrics) -> None:
        self._listener = PgListener(url, RUN_EVENTS_CHANNEL, self._deliver)
        self._watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        # Each watch is one open event stream.
        self._open_streams = metrics.sse_connections

    def _deliver(self, payload: str) -> None:
        for changed in self._watchers.get(payload, ()):
            changed.set()

    @asynccontextmanager
    async def watch(self, run_id: int) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the run changes (clear it after reading the run)."""
        await self._listener.ensure()
        changed = asyncio.Event()
        key = str(run_id)
        self._watchers[key].add(changed)
        try:
            with self._open_streams.track_inprogress():
                yield changed
        finally:
            self._watchers[key].discard(changed)
            if not self._watchers[key]:
                del self._watchers[key]

    @property
    def watched_runs(self) -> int:
        return len(self._watchers)

    async def close(self) -> None:
        await self._listener.close()
