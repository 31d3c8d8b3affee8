"""The HTTP API of the Notes Sync service."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Header, HTTPException, Path, Query, Response, status

from app.models import Device, DeviceIn, Note, NoteIn, SyncPage
from app.store import Store, VersionConflict

NOTE_ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"


def _version(if_match: str | None) -> int | None:
    """The version in an If-Match header such as `"3"`; None when absent."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "If-Match must be a note version")
    return int(value)


def _conflict(exc: VersionConflict) -> HTTPException:
    return HTTPException(
        status.HTTP_412_PRECONDITION_FAILED,
        {
            "message": "the note changed on another device",
            "current": exc.current.model_dump(mode="json"),
        },
    )


def create_app() -> FastAPI:
    app = FastAPI(title="Notes Sync API")
    store = Store()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/devices", status_code=status.HTTP_201_CREATED)
    def register_device(body: DeviceIn, response: Response) -> Device:
        device, created = store.register_device(body.platform, body.push_token)
        if not created:
            response.status_code = status.HTTP_200_OK
        return device

    @app.put("/notes/{note_id}")
    def put_note(
        note_id: Annotated[str, Path(pattern=NOTE_ID_PATTERN)],
        body: NoteIn,
        response: Response,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Note:
        try:
            note, created = store.put_note(
                note_id, body.title, body.body, if_match=_version(if_match)
            )
        except VersionConflict as exc:
            raise _conflict(exc) from None
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "note not found") from None
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        response.headers["ETag"] = f'"{note.version}"'
        return note

    @app.get("/notes/{note_id}")
    def get_note(note_id: str, response: Response) -> Note:
        note = store.notes.get(note_id)
        if note is None or note.deleted:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "note not found")
        response.headers["ETag"] = f'"{note.version}"'
        return note

    @app.delete("/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_note(note_id: str, if_match: Annotated[str, Header()]) -> None:
        note = store.notes.get(note_id)
        if note is None or note.deleted:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "note not found")
        version = _version(if_match)
        assert version is not None
        try:
            store.delete_note(note_id, if_match=version)
        except VersionConflict as exc:
            raise _conflict(exc) from None

    @app.get("/sync")
    def sync(
        cursor: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
    ) -> SyncPage:
        changes, next_cursor, has_more = store.changes_after(cursor, limit)
        return SyncPage(changes=changes, cursor=next_cursor, has_more=has_more)

    return app


app = create_app()
