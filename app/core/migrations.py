"""Running Alembic from code (CLI, tests) and finding the database a command should use.

The migrations ship inside the package: `app/migrations` is a link to the repository's
top-level `alembic/` folder (where `alembic.ini` and the `alembic` command expect them), so a
checkout, an editable install and a wheel all find them as the resource `app:migrations`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config

from app.core.embedded_postgres import EmbeddedPostgres
from app.core.settings import DatabaseSettings

SCRIPT_LOCATION = "app:migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


@contextmanager
def database_url_for_cli(settings: DatabaseSettings | None = None) -> Iterator[str]:
    """The configured database URL, or an embedded PostgreSQL held for the duration."""
    settings = settings or DatabaseSettings()
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    url = embedded.start()
    try:
        yield url
    finally:
        embedded.stop()
