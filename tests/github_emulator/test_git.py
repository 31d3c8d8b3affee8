"""The emulator's git subprocesses: a cancelled call leaves no child behind."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from app.github_emulator import git
from tests.support.emulator import eventually


async def test_cancelled_git_call_kills_and_reaps_its_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in `git` that records its pid and then blocks, as a slow clone or a large
    # commit would when the emulator shuts down under it.
    pid_file = tmp_path / "pid"
    fake_git = tmp_path / "bin" / "git"
    fake_git.parent.mkdir()
    fake_git.write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep 60\n')
    fake_git.chmod(fake_git.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake_git.parent}{os.pathsep}{os.environ['PATH']}")

    call = asyncio.create_task(git.git(None, "status"))

    async def recorded_pid() -> int | None:
        text = pid_file.read_text().strip() if pid_file.exists() else ""
        return int(text) if text else None

    pid = await eventually(recorded_pid)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    # Reaped, not just killed: a zombie would still answer signal 0.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
