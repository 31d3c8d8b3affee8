"""List responses: `{items, total, nextCursor}` with keyset cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query

from app.core.errors import UnprocessableError
from app.core.openapi import ErrorSpec
from app.core.schemas import MAX_ID, ApiModel

T = TypeVar("T")
R = TypeVar("R")

# Lists are ordered by a timestamp, with the id breaking ties.
SortKey = tuple[datetime, int]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
# What a route that decodes a cursor declares with `@raises`.
INVALID_CURSOR: ErrorSpec = (UnprocessableError, "CURSOR_INVALID")


class Page(ApiModel, Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None


def encode_cursor(key: SortKey) -> str:
    """An opaque cursor over the (timestamp, id) sort key of a page's last item."""
    moment, item_id = key
    raw = f"{moment.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> SortKey | None:
    """The sort key inside a cursor from `encode_cursor`; anything else is a 422 problem."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, item_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        key = datetime.fromisoformat(moment), int(item_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid_cursor() from exc
    if not 0 < key[1] <= MAX_ID:
        raise _invalid_cursor()
    return key


def next_cursor(rows: Sequence[R], limit: int, key: Callable[[R], SortKey]) -> str | None:
    """A cursor after the last row of a full page; None when this page is the last."""
    return encode_cursor(key(rows[-1])) if rows and len(rows) == limit else None


def _invalid_cursor() -> UnprocessableError:
    return UnprocessableError(
        "The cursor is not one this API returned.",
        code="CURSOR_INVALID",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}],
    )
