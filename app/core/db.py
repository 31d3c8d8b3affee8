"""Async engine, sessions and the declarative base.

One transaction per request: `get_db_session` commits when the endpoint returns and rolls
back when it raises, before the response is sent. Background work opens `session_scope()`.

A database that is down or stopped answering surfaces as one error, `DatabaseUnavailableError`
(503, retryable): every wait on it is bounded (connect, pool checkout, each command), a
connection that failed is dropped rather than reused, and the pool reconnects by itself once
the server is back. A connection that sat idle in the pool is pinged before use; a busy one
is not (a ping is one more round trip per request): if it turns out dead, the request fails
once with 503 and every pooled connection is dropped with it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

import structlog
from fastapi import Depends, Request
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    DateTime,
    Executable,
    Identity,
    MetaData,
    TextClause,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import URL, Dialect, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from app.core.errors import DatabaseUnavailableError
from app.core.openapi import raises
from app.core.settings import DatabaseSettings

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Every table's primary key: a positive BIGINT the database assigns (SPEC §4: ids are
# positive integers). Columns referring to one are `BigInteger` too.
IdPrimaryKey = Annotated[int, mapped_column(BigInteger, Identity(), primary_key=True)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class TimestampMixin:
    # Async sessions can't lazy-load a server-generated value, so fetch them on flush.
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


_POSTGRESQL = PGDialect()  # type: ignore[no-untyped-call]


def literal_predicate(clause: ColumnElement[bool]) -> TextClause:
    """A WHERE clause with its values inlined. ON CONFLICT names a partial unique index by
    its predicate, and PostgreSQL cannot match a predicate whose values are parameters
    once the statement is prepared and reused."""
    compiled = clause.compile(dialect=_POSTGRESQL, compile_kwargs={"literal_binds": True})
    return text(str(compiled))


async def execute_core(
    session: AsyncSession, statement: Executable, values: dict[str, Any] | None = None
) -> CursorResult[Any]:
    """Run a statement of columns (no ORM entities) on the session's connection: it skips
    the ORM's execution steps, a fifth of a hot read's CPU when it went through
    `session.execute`."""
    connection = await session.connection()
    return await connection.execute(statement, values)


def async_url(url: str) -> URL:
    """Normalise any PostgreSQL URL to the asyncpg driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"Tenon needs PostgreSQL, got {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+asyncpg")


# Long enough for a slow network, short enough that a wrong host is reported promptly.
CONNECT_CHECK_TIMEOUT_SECONDS = 10.0


class DatabaseUnreachableError(Exception):
    """No connection could be opened. `address` is host:port, never the credentials."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"cannot connect to PostgreSQL at {address}: {reason}")
        self.address = address
        self.reason = reason


async def check_connection(url: str) -> None:
    """Open and close one connection, so a command fails with one clear line instead of
    deep inside a migration or a worker loop."""
    parsed = async_url(url)
    engine = create_async_engine(parsed, connect_args={"timeout": CONNECT_CHECK_TIMEOUT_SECONDS})
    try:
        async with engine.connect():
            pass
    except (OSError, DBAPIError) as exc:
        host = parsed.host or "the default host"
        address = f"[{host}]" if ":" in host else host
        raise DatabaseUnreachableError(f"{address}:{parsed.port or 5432}", _reason(exc)) from None
    finally:
        await engine.dispose()


def _reason(exc: OSError | DBAPIError) -> str:
    if isinstance(exc, DBAPIError):
        # The server's own words, e.g. 'password authentication failed for user "tenon"'.
        return str(exc.orig)
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_CHECK_TIMEOUT_SECONDS:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is PostgreSQL running and listening there?)"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    return exc.strerror or str(exc)


# SQLSTATEs a server answers with when it cannot serve any statement: class 08 (connection
# exceptions), shutting down or starting up (57P01-57P03), out of connections (53300).
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _is_connection_failure(error: BaseException) -> bool:
    """Whether `error` means the server is gone or not answering, rather than refusing one
    statement. OSError covers refused and reset connections and asyncpg's timeouts."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    if isinstance(error, OSError):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and (
        sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
    )


def _unavailable(error: BaseException) -> DatabaseUnavailableError:
    # One line, no traceback: the cause is outside this process.
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    # A DBAPIError's own text would carry the statement's parameters; the cause's does not.
    reason = f"{type(cause).__name__}: {cause}".rstrip(": ")
    log.warning("db.unavailable", reason=reason[:300])
    return DatabaseUnavailableError()


def _connect_or_unavailable(
    dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any
) -> Any:
    """Open a connection; any failure (refused, timed out, rejected) means no database."""
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as exc:
        raise _unavailable(exc) from exc


_IDLE_SINCE = "idle_since"


def _mark_idle(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _pinger(
    ping_after_idle_seconds: float,
) -> Callable[[Any, ConnectionPoolEntry, PoolProxiedConnection], None]:
    def ping_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        """Ping a connection that was idle long enough for the server to have gone away.
        Unlike `pool_pre_ping`, which lets a ping that times out escape as it is, a failed
        ping makes the pool open a fresh connection (whose failure is a
        DatabaseUnavailableError), and drops the pool's other connections: after a restart
        they are all dead, and on a frozen server all would hang."""
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < ping_after_idle_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise InvalidatePoolError(f"a pooled connection failed its ping: {exc!r}") from exc

    return ping_if_idle


def _translate_connection_failure(context: ExceptionContext) -> None:
    """A statement failed because the connection did: drop the connection (the pool's
    others are reopened at their next checkout) and raise DatabaseUnavailableError instead.
    Cancellation stays cancellation."""
    error = context.original_exception
    if not isinstance(error, Exception):
        return
    if context.is_disconnect or _is_connection_failure(error):
        context.is_disconnect = True
        raise _unavailable(error)


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Sessions on autocommit connections, for routes that only read: each statement is one
    # round trip, with no BEGIN and COMMIT around it.
    read_sessionmaker: async_sessionmaker[AsyncSession]
    # Where LISTEN connections go: the server itself, or a pooler in session mode.
    listen_url: URL

    @classmethod
    def connect(cls, url: str, settings: DatabaseSettings) -> Database:
        engine = create_async_engine(
            async_url(url),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            pool_recycle=settings.db_pool_recycle_seconds,
            connect_args={
                "timeout": settings.db_connect_timeout_seconds,
                "command_timeout": settings.db_command_timeout_seconds,
                "server_settings": {
                    "statement_timeout": str(settings.db_statement_timeout_ms),
                    "application_name": "tenon",
                },
            },
        )
        event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
        event.listen(engine.sync_engine, "checkin", _mark_idle)
        event.listen(engine.sync_engine, "checkout", _pinger(settings.db_ping_after_idle_seconds))
        event.listen(engine.sync_engine, "handle_error", _translate_connection_failure)
        reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        listen = settings.database_listen_url
        return cls(
            engine,
            async_sessionmaker(engine, expire_on_commit=False),
            async_sessionmaker(reader, expire_on_commit=False),
            engine.url if listen is None else async_url(listen.get_secret_value()),
        )

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        """A session for background work: commit on success, roll back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        async with self.sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@raises(DatabaseUnavailableError)
async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).session_scope() as session:
        yield session


@raises(DatabaseUnavailableError)
async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).read_sessionmaker() as session:
        yield session


# A session for a route that never writes: no transaction, so nothing to commit.
DbReader = Annotated[AsyncSession, Depends(get_read_session)]


# "function" scope: the commit happens before the response leaves, so a client never sees
# success for a transaction that then failed to commit.
DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
