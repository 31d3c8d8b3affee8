"""Only text PostgreSQL can store gets past the request boundary.

PostgreSQL's `text` and `jsonb` cannot hold U+0000, and UTF-8 cannot encode a lone
surrogate (U+D800 to U+DFFF, which `json.loads` makes of `"\\ud800"`). A request carrying
either in a path parameter, the query, a header or anywhere in a JSON body (keys included)
is refused with the usual 422 problem, one issue per place, named as validation names it:
`["body", "tasks", "0", "title"]`, `["query", "cursor"]`, `["path", "token"]`.

The check is one application-wide dependency, so every route, today's and tomorrow's, has
it without its models or parameters saying so; it runs before the endpoint and before any
query, and it only reads the request (a JSON body is parsed once, FastAPI caches it). An
endpoint marked `streamed_body` (an upload written to disk as bytes) keeps its body to
itself: reading it here would hold it whole in memory, and bytes on disk are no text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import Request

from app.core.errors import UnprocessableError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Enough to say what is wrong; a body made of thousands of bad strings gets a short answer.
_MAX_ISSUES = 20
ISSUE_TYPE = "string_unstorable"
ISSUE_MESSAGE = "Text must not contain U+0000 (NUL) or an unpaired surrogate."

Location = tuple[str, ...]
CallableT = TypeVar("CallableT", bound=Callable[..., Any])
_STREAMED_BODY = "__tenon_streamed_body__"


def streamed_body(endpoint: CallableT) -> CallableT:
    """Mark an endpoint that reads its request body as a stream of bytes."""
    setattr(endpoint, _STREAMED_BODY, True)
    return endpoint


async def reject_unstorable_text(request: Request) -> None:
    """Refuse the request with a 422 naming every input that holds unstorable text."""
    route = request.scope.get("route")
    streamed = getattr(getattr(route, "endpoint", None), _STREAMED_BODY, False)
    body = None if streamed else await _json_body(request)
    places = [*_parameters(request), *_body_places(body)]
    if not places:
        return
    named = ", ".join(".".join(loc) for loc in places[:3])
    more = f" (and {len(places) - 3} more)" if len(places) > 3 else ""
    raise UnprocessableError(
        f"The request is invalid: {named}{more}: {ISSUE_MESSAGE}",
        errors=[
            {"loc": list(loc), "msg": ISSUE_MESSAGE, "type": ISSUE_TYPE}
            for loc in places[:_MAX_ISSUES]
        ],
    )


def _unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def _parameters(request: Request) -> Iterator[Location]:
    for name, value in request.path_params.items():
        if isinstance(value, str) and _unstorable(value):
            yield "path", name
    for name, value in request.query_params.multi_items():
        if _unstorable(name) or _unstorable(value):
            yield "query", name
    for name, value in request.headers.items():
        if _unstorable(value):
            yield "header", name


async def _json_body(request: Request) -> Any:
    """The body as JSON; None when there is none or it is not JSON (then nothing from it
    can be stored, and the route's own validation answers)."""
    if not await request.body():
        return None
    try:
        return await request.json()
    except (ValueError, RecursionError):
        return None


def _body_places(body: Any) -> Iterator[Location]:
    # Iterative, so a deeply nested body cannot exhaust the interpreter's stack.
    pending: list[tuple[Location, Any]] = [(("body",), body)]
    while pending:
        loc, value = pending.pop()
        if isinstance(value, str):
            if _unstorable(value):
                yield loc
        elif isinstance(value, dict):
            for key, member in reversed(value.items()):
                if _unstorable(key):
                    yield (*loc, key)
                pending.append(((*loc, key), member))
        elif isinstance(value, list):
            indexed = [((*loc, str(index)), item) for index, item in enumerate(value)]
            pending.extend(reversed(indexed))
