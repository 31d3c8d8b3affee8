"""List responses: `{items, total, nextCursor}` with keyset cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from fastapi import Query

from app.core.errors import UnprocessableError
from app.core.schemas import ApiModel

T = TypeVar("T")
C = TypeVar("C")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]


class Page(ApiModel, Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None


def encode_cursor(*parts: str) -> str:
    """An opaque cursor over the sort key of the last item of a page."""
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parse: Callable[[list[str]], C]) -> C:
    """The sort key encoded by `encode_cursor`; anything else is a 422 problem."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return parse(base64.urlsafe_b64decode(padded.encode()).decode().split("|"))
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise _invalid_cursor() from exc


def _invalid_cursor() -> UnprocessableError:
    return UnprocessableError(
        "The cursor is not one this API returned.",
        code="CURSOR_INVALID",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}],
    )
