"""Processes a chaos run can kill: a throwaway PostgreSQL (its own data folder and port on
127.0.0.1, stopped, restarted, frozen with SIGSTOP) and Tenon's API and worker as `tenon
serve` and `tenon worker` child processes, each writing its output to a file that is
searched for secrets afterwards.

Never point these at a shared server: stopping and freezing is the point."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.emulator import free_port

POSTGRES_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own in a new temporary folder, trusting local connections;
    `remove()` deletes it. PostgreSQL refuses to run as root, so as root it runs as the
    system user `postgres`."""

    def __init__(self) -> None:
        if not POSTGRES_BINARIES:
            raise RuntimeError("the chaos run needs PostgreSQL's initdb and pg_ctl")
        self._bin = POSTGRES_BINARIES[-1]
        self._user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="tenon-chaos-pg-"))
        if self._user is not None:
            shutil.chown(self.root, self._user)
        self.data = self.root / "pgdata"
        self.port = free_port()
        self._log = self.root / "postgres.log"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._pg_ctl("start", "-o", options, "-l", str(self._log))

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def freeze(self) -> None:
        """Every server process stops in its tracks: connections open, nothing answers."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", *args)

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self._bin / program), *args], check=True, capture_output=True, user=self._user
        )

    def _pids(self) -> list[int]:
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]


@dataclass
class TenonProcess:
    """`tenon <command>` as a child process in `workdir` (so no .env is read), its output
    appended to `<name>.log` there across restarts."""

    name: str
    command: list[str]
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> None:
        tenon = Path(sys.executable).parent / "tenon"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(tenon), *self.command],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts.append(time.monotonic())

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill(signal.SIGTERM)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def tenon_env(**settings: str) -> dict[str, str]:
    """This environment without any TENON_ setting or the dev bypass, plus `settings`."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TENON_") and name != "DEV_AUTH_BYPASS"
    }
    return inherited | settings


async def until_healthy(base_url: str, process: TenonProcess, *, within: float = 60) -> None:
    """Wait for the API to answer /health; fails with its output if it exited or never did."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            assert process.process is not None
            if process.process.poll() is not None:
                break
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{process.name} did not come up:\n{process.output()[-3000:]}")
