"""A `tenon worker`'s heartbeat file, touched on every turn of the worker's loop, so a
container health check (`tenon worker --check`) can tell a working worker from one that
is stuck (its loop no longer turns) or gone (the file is removed when it stops)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Heartbeat:
    path: Path | None

    def beat(self) -> None:
        if self.path is not None:
            self.path.touch()

    def stop(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def heartbeat_problem(path: Path, max_age_seconds: float) -> str | None:
    """Why the worker writing `path` does not look alive, or None if it does."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path}: the worker is not running"
    if age > max_age_seconds:
        return (
            f"the heartbeat at {path} is {age:.0f} s old (limit {max_age_seconds:.0f} s): "
            "the worker is stuck"
        )
    return None
