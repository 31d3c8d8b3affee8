"""In-memory devices and notes, with a change log that sync reads from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.models import Device, Note


class VersionConflict(Exception):
    def __init__(self, current: Note) -> None:
        super().__init__(f"note {current.id} is at version {current.version}")
        self.current = current


@dataclass
class Store:
    devices: dict[int, Device] = field(default_factory=dict)
    notes: dict[str, Note] = field(default_factory=dict)
    # (sequence, note id): every change gets the next sequence number.
    changes: list[tuple[int, str]] = field(default_factory=list)
    sequence: int = 0

    def register_device(self, platform: str, push_token: str) -> tuple[Device, bool]:
        """The device with this token (refreshed), or a new one; True when new."""
        now = datetime.now(UTC)
        for device in self.devices.values():
            if device.push_token == push_token:
                device.platform, device.registered_at = platform, now  # type: ignore[assignment]
                return device, False
        device = Device(
            id=len(self.devices) + 1, platform=platform, push_token=push_token, registered_at=now
        )
        self.devices[device.id] = device
        return device, True

    def put_note(
        self, note_id: str, title: str, body: str, *, if_match: int | None
    ) -> tuple[Note, bool]:
        """Create the note (if_match None) or update it from the version the client edited."""
        current = self.notes.get(note_id)
        if current is not None and if_match != current.version:
            raise VersionConflict(current)
        if current is None and if_match is not None:
            raise KeyError(note_id)
        version = 1 if current is None else current.version + 1
        note = Note(
            id=note_id,
            title=title,
            body=body,
            version=version,
            deleted=False,
            updated_at=datetime.now(UTC),
        )
        self._record(note)
        return note, current is None

    def delete_note(self, note_id: str, *, if_match: int) -> Note:
        current = self.notes[note_id]
        if if_match != current.version:
            raise VersionConflict(current)
        # A tombstone: devices that synced the note must learn it is gone.
        changed = {"deleted": True, "version": current.version + 1, "updated_at": datetime.now(UTC)}
        note = current.model_copy(update=changed)
        self._record(note)
        return note

    def changes_after(self, cursor: int, limit: int) -> tuple[list[Note], int, bool]:
        """The latest state of every note changed after `cursor`, in change order."""
        latest: dict[str, int] = {}
        for sequence, note_id in self.changes:
            if sequence > cursor:
                latest[note_id] = sequence
        ordered = sorted(latest.items(), key=lambda item: item[1])
        page = ordered[:limit]
        next_cursor = page[-1][1] if page else cursor
        return [self.notes[note_id] for note_id, _ in page], next_cursor, len(ordered) > limit

    def _record(self, note: Note) -> None:
        self.sequence += 1
        self.notes[note.id] = note
        self.changes.append((self.sequence, note.id))
