"""Running the `tenon` command as users do: the installed entry point, in a working directory
of the test's own (so no developer's `.env` leaks in), with only the settings given."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

TENON = str(Path(sys.executable).with_name("tenon"))

# A configuration a deployed service accepts; tests add the one thing they refuse.
DEPLOYED = {
    "TENON_SECRET_KEY": "s" * 40,
    "TENON_AUTH0_ISSUER": "https://tenant.example/",
    "TENON_AUTH0_API_AUDIENCE": "https://api.example",
    "TENON_EMAIL_PROVIDER": "smtp",
    "TENON_PUBLIC_API_URL": "https://api.example",
}


def command_env(**settings: str) -> dict[str, str]:
    """The test run's environment without any Tenon setting, then `settings`."""
    unrelated = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TENON_") and key not in ("DEV_AUTH_BYPASS", "DEBUG_PERF")
    }
    return unrelated | settings


def run_tenon(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TENON, *args],
        env=command_env(**settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def is_migrated(database_url: str) -> bool:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(text("SELECT to_regclass('alembic_version')"))
    finally:
        await engine.dispose()
    return found is not None


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGTERM, as a supervisor stops a process; SIGKILL if it is still there 15 s later."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
