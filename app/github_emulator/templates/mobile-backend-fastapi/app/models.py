"""Request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: Literal["ios", "android"]
    # The push token the platform gave the app; registering it again refreshes it.
    push_token: str = Field(min_length=8, max_length=256)


class Device(BaseModel):
    id: int
    platform: Literal["ios", "android"]
    push_token: str
    registered_at: datetime


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=20_000)


class Note(BaseModel):
    id: str
    title: str
    body: str
    # Bumped on every change; a client sends the version it edited as If-Match.
    version: int
    deleted: bool
    updated_at: datetime


class SyncPage(BaseModel):
    """Changes after a cursor, oldest first; `cursor` is where the next sync starts."""

    changes: list[Note]
    cursor: int
    has_more: bool
