"""List responses: `{items, total, nextCursor}` with keyset cursors.

Some lists are also served as a bare JSON array when the request names no paging
parameter (the original front end reads arrays there): the array is capped at
`MAX_LIMIT`, and the total and the next page travel in `X-Total-Count` and `Link`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request, Response

from app.core.errors import UnprocessableError
from app.core.openapi import ErrorSpec
from app.core.schemas import MAX_ID, ApiModel, in_utc

T = TypeVar("T")
R = TypeVar("R")

# Lists are ordered by a timestamp, with the id breaking ties.
SortKey = tuple[datetime, int]
# Or ranked by a score in [0, 1], highest first, the id breaking ties.
ScoreKey = tuple[float, int]

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
    return _encoded(f"{moment.isoformat()}|{item_id}")


def decode_cursor(cursor: str | None) -> SortKey | None:
    """The sort key inside a cursor from `encode_cursor`; anything else, including an id or a
    moment the columns cannot hold, is a 422 problem."""
    if cursor is None:
        return None
    try:
        moment_text, id_text = _decoded(cursor).split("|")
        moment, item_id = datetime.fromisoformat(moment_text), int(id_text)
        if moment.tzinfo is None or not 0 < item_id <= MAX_ID:
            raise ValueError("not a sort key this API encodes")
        # In UTC, as PostgreSQL compares it: an offset can carry a moment past year 9999.
        return in_utc(moment), item_id
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise _invalid_cursor() from exc


def encode_score_cursor(key: ScoreKey) -> str:
    """An opaque cursor over the (score, id) rank of a page's last item; `repr` keeps the
    float exact, so the next page starts exactly after it."""
    score, item_id = key
    return _encoded(f"{score!r}|{item_id}")


def decode_score_cursor(cursor: str | None) -> ScoreKey | None:
    """The rank inside a cursor from `encode_score_cursor`; anything else is a 422 problem."""
    if cursor is None:
        return None
    try:
        score_text, id_text = _decoded(cursor).split("|")
        score, item_id = float(score_text), int(id_text)
        if not 0 <= score <= 1 or not 0 < item_id <= MAX_ID:
            raise ValueError("not a rank this API encodes")
        return score, item_id
    except ValueError as exc:
        raise _invalid_cursor() from exc


def _encoded(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decoded(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode()


def next_cursor(rows: Sequence[R], limit: int, key: Callable[[R], SortKey]) -> str | None:
    """A cursor after the last row of a full page; None when this page is the last."""
    return encode_cursor(key(rows[-1])) if rows and len(rows) == limit else None


def _invalid_cursor() -> UnprocessableError:
    return UnprocessableError(
        "The cursor is not one this API returned.",
        code="CURSOR_INVALID",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}],
    )


PAGING_PARAMETERS = ("limit", "cursor")
BARE_LIST_DESCRIPTION = (
    "Without `limit` or `cursor`: a bare array of at most "
    f"{MAX_LIMIT} items, the total in `X-Total-Count` and the next page in `Link`. "
    "With either: a page `{items, total, nextCursor}`."
)
BARE_LIST_HEADERS = {
    "X-Total-Count": {"description": "Items in the whole list.", "schema": {"type": "integer"}},
    "Link": {
        "description": 'The next page, as `<url>; rel="next"`, when there is one.',
        "schema": {"type": "string"},
    },
}


def wants_page(request: Request) -> bool:
    return any(name in request.query_params for name in PAGING_PARAMETERS)


def bare_limit(request: Request, limit: int) -> int:
    """The page size to fetch: the cap for a bare array, else what was asked."""
    return limit if wants_page(request) else MAX_LIMIT


def page_or_bare(page: Page[T], request: Request, response: Response) -> Page[T] | list[T]:
    """The page as asked for: a page, or its items with the paging in headers."""
    if wants_page(request):
        return page
    response.headers["X-Total-Count"] = str(page.total)
    # A bare array is always the first page, so the total tells whether more follow.
    if page.next_cursor is not None and page.total > len(page.items):
        url = request.url.include_query_params(limit=MAX_LIMIT, cursor=page.next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return page.items
