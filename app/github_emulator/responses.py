"""GitHub-shaped responses: error bodies, JSON with ETags and 304s, pagination, bodies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import Response

DOCS_URL = "https://docs.github.com/rest"


class RequestBody(BaseModel):
    """A JSON request body; unknown fields are ignored, as GitHub ignores them."""

    model_config = ConfigDict(extra="ignore")


M = TypeVar("M", bound=RequestBody)


class GitHubError(Exception):
    """An answer GitHub gives as `{message, documentation_url, status[, errors]}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        documentation_url: str = DOCS_URL,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})
        self.documentation_url = documentation_url

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        body["status"] = str(self.status)
        return json_bytes_response(_dumps(body), self.status, self.headers)


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def validation_failed(
    message: str = "Validation Failed", *, error: dict[str, Any] | None = None
) -> GitHubError:
    return GitHubError(422, message, errors=[error] if error else None)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_bytes_response(body: bytes, status: int, headers: Mapping[str, str]) -> Response:
    return Response(
        body, status, headers=dict(headers), media_type="application/json; charset=utf-8"
    )


def json_response(
    request: Request, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """JSON; a successful GET gets a weak ETag and answers `If-None-Match` with a 304."""
    body = _dumps(data)
    extra = dict(headers or {})
    if request.method == "GET" and status == 200:
        etag = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
        extra["etag"] = etag
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=extra)
    return json_bytes_response(body, status, extra)


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {candidate.strip() for candidate in header.split(",")}
    bare = etag.removeprefix("W/")
    return "*" in candidates or etag in candidates or bare in candidates


def empty_response(status: int = 204) -> Response:
    return Response(status_code=status)


def page_params(request: Request, *, default: int = 30, maximum: int = 100) -> tuple[int, int]:
    """(page, per_page); like GitHub, values that are not numbers fall back to defaults."""
    page = _int_param(request, "page", 1)
    per_page = _int_param(request, "per_page", default)
    return max(page, 1), min(max(per_page, 1), maximum)


def _int_param(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def link_header(
    request: Request, base_url: str, *, page: int, per_page: int, total: int
) -> dict[str, str]:
    """`Link` with next/last/first/prev relations, as GitHub paginates."""
    last = max((total + per_page - 1) // per_page, 1)
    query = [(key, value) for key, value in parse_qsl(request.url.query) if key != "page"]
    if not any(key == "per_page" for key, _ in query):
        query.append(("per_page", str(per_page)))

    def url(number: int) -> str:
        return f"{base_url}{request.url.path}?{urlencode([*query, ('page', str(number))])}"

    links: list[str] = []
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(min(page - 1, last))}>; rel="prev"']
    return {"link": ", ".join(links)} if links else {}


async def read_body(request: Request, model: type[M]) -> M:
    """The request body as `model`: 400 when it is not JSON, 422 when it does not fit."""
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GitHubError(400, "Problems parsing JSON") from exc
    if not isinstance(data, dict):
        raise GitHubError(400, "Problems parsing JSON")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(part) for part in first["loc"]) or "body"
        raise GitHubError(
            422, f"Invalid request.\n\nFor 'properties/{where}', {first['msg'].lower()}."
        ) from exc
