"""The local media store's signed URLs: uploads (PUT) and playback (GET). The token in the
path is the only credential. Mounted always; with an S3 store configured every token is
answered 404 (those URLs point at the bucket, not here).

Outside the OpenAPI document: these URLs are minted by the API and handed out whole, as a
bucket's presigned URLs are, not operations a client builds."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from app.core.middleware import without_request_deadline
from app.core.storable_text import streamed_body
from app.media.local import CHUNK_BYTES, LocalMediaStore, MediaNotFoundError

MEDIA_PATH = "/media"
UPLOADS_PATH = f"{MEDIA_PATH}/uploads"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]")

router = APIRouter(prefix=MEDIA_PATH, include_in_schema=False)


def _local_store(request: Request) -> LocalMediaStore:
    store = getattr(request.app.state.services, "media", None)
    if not isinstance(store, LocalMediaStore):
        raise MediaNotFoundError()
    return store


LocalStore = Annotated[LocalMediaStore, Depends(_local_store)]


@router.put("/uploads/{token}", dependencies=[Depends(without_request_deadline)])
@streamed_body
async def upload_media(token: str, request: Request, store: LocalStore) -> Response:
    """Receive the body of a signed upload (a whole object or a multipart part)."""
    length = request.headers.get("content-length")
    etag = await store.receive(
        token,
        content_type=request.headers.get("content-type"),
        content_length=int(length) if length and length.isascii() and length.isdigit() else None,
        body=request.stream(),
    )
    return Response(status_code=200, headers={"ETag": etag})


@router.get("/{token}")
async def play_media(token: str, request: Request, store: LocalStore) -> StreamingResponse:
    """Stream a signed download, honouring a single byte Range."""
    playback = await asyncio.to_thread(store.playback, token, request.headers.get("range"))
    grant = playback.grant
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(playback.end - playback.start + 1),
        "Content-Disposition": _inline(grant.filename or grant.key.rsplit("/", 1)[-1]),
        "Cache-Control": "private, no-store",
        # The signed type is the one to use: never let a browser guess another.
        "X-Content-Type-Options": "nosniff",
    }
    if playback.partial:
        headers["Content-Range"] = f"bytes {playback.start}-{playback.end}/{playback.size}"
    return StreamingResponse(
        _file_chunks(playback.file, playback.start, playback.end),
        status_code=206 if playback.partial else 200,
        headers=headers,
        media_type=grant.content_type,
    )


def _inline(filename: str) -> str:
    """`inline` with the name twice (RFC 6266): an ASCII stand-in for old clients, and the
    exact name percent-encoded as UTF-8; no quote, backslash or control character gets in."""
    fallback = _UNSAFE_FILENAME.sub("_", filename) or "media"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _file_chunks(file: BinaryIO, start: int, end: int) -> AsyncIterator[bytes]:
    try:
        await asyncio.to_thread(file.seek, start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = await asyncio.to_thread(file.read, min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
