"""Reading what the real logging pipeline wrote."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any


def json_lines(stream: StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
