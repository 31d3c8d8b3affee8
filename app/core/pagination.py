"""List responses: `{items, total, nextCursor}` with keyset cursors."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query

from app.core.schemas import ApiModel

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]


class Page(ApiModel, Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None
