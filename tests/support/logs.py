"""Reading what the logging pipeline wrote."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import structlog
from structlog.testing import capture_logs
from structlog.typing import EventDict


def json_lines(stream: StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@contextmanager
def capture_every_level() -> Iterator[list[EventDict]]:
    """structlog's `capture_logs`, debug events included: once an app in the same worker
    has configured logging at INFO, its filtering bound logger drops debug calls before
    any processor runs, and `capture_logs` only swaps the processors."""
    wrapper = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET))
    try:
        with capture_logs() as logs:
            yield logs
    finally:
        structlog.configure(wrapper_class=wrapper)
