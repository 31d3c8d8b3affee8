"""The candidate's service, started once pytest has collected every test, and a client for it.

The service is the candidate's app served by uvicorn in the candidate's checkout, in a
process group of its own; every test talks to it over HTTP. Starting it from a session
fixture (not before pytest) means that files its code writes cannot change which tests run.
If it does not come up, every test fails with the reason.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.1
LOG_TAIL_CHARS = 4000


class ServiceDidNotStart(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(log: Path) -> str:
    text = log.read_text(errors="replace") if log.is_file() else ""
    return text[-LOG_TAIL_CHARS:] or "(the service wrote nothing)"


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceDidNotStart(
                f"the candidate's service exited with code {process.returncode} before "
                f"answering GET /health; its output:\n{_log_tail(log)}"
            )
        try:
            if httpx.get(f"{base_url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(POLL_INTERVAL_SECONDS)
    raise ServiceDidNotStart(
        f"the candidate's service did not answer GET /health with 200 within "
        f"{START_TIMEOUT_SECONDS:.0f} s; its output:\n{_log_tail(log)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
    # Whatever the service started in its group ends with it.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """Start the candidate's service; its URL. A failed start fails every test that uses it."""
    candidate = Path(os.environ["TENON_CANDIDATE_DIR"])
    log = Path(os.environ["TENON_SERVICE_LOG"])
    port = _free_port()
    # The grader's own settings stay out of the candidate's process.
    env = {key: value for key, value in os.environ.items() if not key.startswith("TENON_")}
    if not candidate.is_dir():
        raise ServiceDidNotStart(f"no candidate checkout at {candidate}")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
            + ["--port", str(port)],
            cwd=candidate,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    Path(os.environ["TENON_SERVICE_PIDFILE"]).write_text(str(process.pid))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, url, log)
        yield url
    finally:
        _stop(process)


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        yield http
