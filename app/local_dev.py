"""What `tenon dev` (and so scripts/run.sh) adds to the configured settings for local
development: the dev auth bypass and the local admin key unless configured, and, without
GitHub credentials, the GitHub emulator as a child process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from app.core.settings import (
    LOCAL_ADMIN_API_KEY,
    LOCAL_EMULATOR_TOKEN,
    LOCAL_WEBHOOK_SECRET,
    Settings,
)

EMULATOR_START_TIMEOUT_SECONDS = 60
EMULATOR_STOP_TIMEOUT_SECONDS = 10


class EmulatorStartError(Exception):
    """The GitHub emulator exited or did not answer in time."""


def with_local_defaults(settings: Settings) -> Settings:
    """The dev auth bypass on and the local admin key, unless the environment or `.env`
    set them (an explicit `DEV_AUTH_BYPASS=0` stays off)."""
    updates: dict[str, Any] = {}
    if "dev_auth_bypass" not in settings.app.model_fields_set:
        updates["dev_auth_bypass"] = True
    if settings.app.admin_api_key is None:
        updates["admin_api_key"] = SecretStr(LOCAL_ADMIN_API_KEY)
    return settings.model_copy(update={"app": settings.app.model_copy(update=updates)})


@contextmanager
def github_emulator(settings: Settings, *, port: int, webhook_url: str) -> Iterator[Settings]:
    """Run the GitHub emulator on 127.0.0.1:`port` while the block runs (its data under
    TENON_DATA_DIR/github) and yield the settings pointed at it."""
    _refuse_busy(port)
    webhook_secret = settings.github.webhook_secret or SecretStr(LOCAL_WEBHOOK_SECRET)
    command = [
        *(sys.executable, "-m", "app.cli", "github-emulator", "--host", "127.0.0.1"),
        *("--port", str(port), "--data-dir", str(settings.db.data_dir / "github")),
        *("--token", LOCAL_EMULATOR_TOKEN, "--template-owner", settings.github.template_owner),
        *("--webhook-url", webhook_url, "--webhook-secret", webhook_secret.get_secret_value()),
    ]
    process = subprocess.Popen(command)  # noqa: S603 - our own command, no shell
    api_base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(process, api_base)
        github = settings.github.model_copy(
            update={
                "api_base": api_base,
                "token": SecretStr(LOCAL_EMULATOR_TOKEN),
                "webhook_secret": webhook_secret,
            }
        )
        yield settings.model_copy(update={"github": github})
    finally:
        # On Ctrl-C the terminal has already sent it SIGINT; otherwise stop it here.
        process.terminate()
        try:
            process.wait(timeout=EMULATOR_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _refuse_busy(port: int) -> None:
    """Report a busy port here rather than as the child's failure."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise EmulatorStartError(
                f"cannot listen on 127.0.0.1:{port} for the GitHub emulator: {exc.strerror}"
            ) from None


def _wait_until_answering(process: subprocess.Popen[bytes], api_base: str) -> None:
    """Serve only once the emulator answers, so the API's first GitHub calls don't fail."""
    deadline = time.monotonic() + EMULATOR_START_TIMEOUT_SECONDS
    while process.poll() is None:
        try:
            httpx.get(f"{api_base}/_emulator/templates", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise EmulatorStartError(
                    f"the GitHub emulator did not answer on {api_base} "
                    f"within {EMULATOR_START_TIMEOUT_SECONDS} s"
                ) from None
            time.sleep(0.1)
    raise EmulatorStartError(f"the GitHub emulator exited with status {process.returncode}")
