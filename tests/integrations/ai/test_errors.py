"""Reading Retry-After, in the forms the providers send it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.integrations.ai.errors import retry_after


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "30"}, 30.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_seconds_and_milliseconds(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds


def test_an_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    seconds = retry_after({"retry-after": format_datetime(when, usegmt=True)})
    assert seconds is not None
    assert 115 <= seconds <= 120
