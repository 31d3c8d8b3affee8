"""LISTEN on a PostgreSQL channel over a dedicated connection, reconnecting after loss.

NOTIFY is delivered at commit, so a listener hears only about committed changes. The
connection is outside the pool: a LISTEN must stay on one connection for its lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg
import structlog
from sqlalchemy.engine import URL

log = structlog.get_logger(__name__)

RECONNECT_INTERVAL_SECONDS = 5.0
# A server that accepts the connection but does not answer (frozen) must not hold up the
# caller's loop for asyncpg's default of a minute.
CONNECT_TIMEOUT_SECONDS = 5.0


class PgListener:
    def __init__(self, url: URL, channel: str, on_notify: Callable[[str], None]) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._channel = channel
        self._on_notify = on_notify
        self._connection: asyncpg.Connection | None = None
        self._attempted_at = float("-inf")

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def ensure(self) -> bool:
        """Listen if not already; after a failure, try again at most every few seconds."""
        if self.listening:
            return True
        if time.monotonic() - self._attempted_at < RECONNECT_INTERVAL_SECONDS:
            return False
        self._attempted_at = time.monotonic()
        try:
            connection = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            await connection.add_listener(self._channel, self._deliver)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("db.listen_failed", channel=self._channel, error=type(exc).__name__)
            return False
        self._connection = connection
        return True

    def _deliver(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        self._on_notify(str(payload))

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
