"""The engine's round trips: reads run outside a transaction, and a pooled connection is
pinged only after sitting idle (a dead busy one is caught by the statement itself; see
test_database_outage.py for the outage side)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import Database
from app.core.errors import DatabaseUnavailableError
from app.core.settings import DatabaseSettings


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    ping = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        calls.append(1)
        ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    return calls


@pytest.fixture
async def connect(database_url: str) -> AsyncIterator[Callable[[float], Database]]:
    opened: list[Database] = []

    def connect(ping_after_idle_seconds: float) -> Database:
        settings = DatabaseSettings(
            _env_file=None, db_pool_size=1, db_ping_after_idle_seconds=ping_after_idle_seconds
        )
        opened.append(Database.connect(database_url, settings))
        return opened[-1]

    yield connect
    for database in opened:
        await database.dispose()


async def _in_transaction_after_a_read(database: Database, *, reader: bool) -> bool:
    maker = database.read_sessionmaker if reader else database.sessionmaker
    async with maker() as session:
        await session.execute(text("SELECT 1"))
        raw = await (await session.connection()).get_raw_connection()
        in_transaction: bool = raw.driver_connection.is_in_transaction()
        return in_transaction


async def test_a_read_session_sends_no_begin(connect: Callable[[float], Database]) -> None:
    database = connect(10)
    assert await _in_transaction_after_a_read(database, reader=True) is False
    assert await _in_transaction_after_a_read(database, reader=False) is True


async def test_a_connection_back_from_a_recent_request_is_not_pinged(
    connect: Callable[[float], Database], pings: list[int]
) -> None:
    database = connect(10)
    for _ in range(3):
        await database.ping()
    assert pings == []


async def test_a_connection_idle_past_the_limit_is_pinged_before_use(
    connect: Callable[[float], Database], pings: list[int]
) -> None:
    database = connect(0)
    await database.ping()  # a new connection: nothing to check yet
    assert pings == []
    await database.ping()
    await database.ping()
    assert pings == [1, 1]


async def test_a_connection_whose_backend_died_is_replaced_after_one_failure(
    connect: Callable[[float], Database], engine: AsyncEngine
) -> None:
    """Without a ping, the statement on the dead connection fails (503 to its request) and
    the pool is dropped, so the next checkout opens a working connection."""
    database = connect(10)
    async with database.sessionmaker() as session:
        backend = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await session.commit()
    async with engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with pytest.raises(DatabaseUnavailableError):
        await database.ping()
    await database.ping()


async def test_listen_connections_go_to_the_listen_url_when_one_is_set(database_url: str) -> None:
    pooler_in_transaction_mode = "postgresql://tenon@127.0.0.1:6432/tenon"
    direct = Database.connect(database_url, DatabaseSettings(_env_file=None))
    split = Database.connect(
        database_url,
        DatabaseSettings(_env_file=None, database_listen_url=pooler_in_transaction_mode),
    )
    try:
        assert direct.listen_url == direct.engine.url
        assert split.listen_url.render_as_string() == (
            "postgresql+asyncpg://tenon@127.0.0.1:6432/tenon"
        )
        assert split.engine.url == direct.engine.url
    finally:
        await direct.dispose()
        await split.dispose()
