"""Alembic environment: async engine on asyncpg, metadata from every domain's models."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import async_url
from app.core.migrations import database_url_for_cli
from app.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
    url = config.attributes.get("database_url")
    if url is not None:
        asyncio.run(_run_online(url))
        return
    with database_url_for_cli() as cli_url:
        asyncio.run(_run_online(cli_url))


main()
