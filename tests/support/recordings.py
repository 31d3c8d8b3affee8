"""The Day 4 recording flow: a Tenon app with the store under test, a recruiting world on
it, and a candidate whose current task is the handoff. The signed URLs are used over real
HTTP: the S3 store's go to the moto server, the local store's to a Tenon served by uvicorn
on 127.0.0.1 with the same folder and key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.settings import (
    RecordingSettings,
    Settings,
    StorageSettings,
    TranscriptionSettings,
)
from app.integrations.transcription.provider import Transcriber
from app.media.store import MediaStore
from app.services import Services
from tests.support import media_samples
from tests.support.app import client_for, make_settings, running_app
from tests.support.identity import IdentityProvider
from tests.support.media import served_local_store
from tests.support.recruiting import World, invite_candidate, new_simulation, recruiting_world

HANDOFF_FIRST = [
    {"dayIndex": 1, "type": "handoff", "title": "Handoff", "description": "Hand it over."},
    {"dayIndex": 2, "type": "design", "title": "Design", "description": "Design it."},
]


@dataclass
class Stage:
    app: FastAPI
    world: World
    # Plain HTTP, no credentials: what a browser sends to signed URLs.
    http: httpx.AsyncClient
    database: Database

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def store(self) -> MediaStore:
        return self.services.media

    def use_transcriber(self, transcriber: Transcriber | None) -> None:
        """The transcription service the app hands its routes (a test double or a client
        of the fake OpenAI-compatible server)."""
        self.app.state.services = replace(self.services, transcriber=transcriber)


@asynccontextmanager
async def _settings(
    storage: StorageSettings, database_url: str, idp: IdentityProvider, database: Database
) -> AsyncIterator[Settings]:
    """Settings with this storage. The local store's signed URLs are answered over real HTTP
    by a Tenon served on 127.0.0.1 with the same folder and key (uvicorn runs it on a loop
    of its own, so the app under test, sharing the test's connection, stays on the test's)."""
    if storage.url is not None:
        yield make_settings(database_url, idp.jwks_url, storage=storage)
        return
    async with served_local_store(storage, database_url, idp.jwks_url, database) as (
        settings,
        _,
    ):
        yield settings


@asynccontextmanager
async def staged(
    storage: StorageSettings,
    database_url: str,
    idp: IdentityProvider,
    database: Database,
    db_session: AsyncSession,
    *,
    recording: RecordingSettings | None = None,
    transcription: TranscriptionSettings | None = None,
) -> AsyncIterator[Stage]:
    async with _settings(storage, database_url, idp, database) as settings:
        groups = {"recording": recording, "transcription": transcription}
        settings = settings.model_copy(
            update={name: group for name, group in groups.items() if group is not None}
        )
        async with (
            running_app(settings, database) as app,
            client_for(app) as client,
            httpx.AsyncClient(timeout=30) as http,
        ):
            world = await recruiting_world(client, idp, db_session)
            yield Stage(app=app, world=world, http=http, database=database)


@dataclass
class Candidate:
    stage: Stage
    cs_id: int
    task_ids: list[int]
    headers: dict[str, str]

    @property
    def task_id(self) -> int:
        return self.task_ids[0]

    def url(self, action: str = "", task_id: int | None = None) -> str:
        return f"/api/tasks/{task_id or self.task_id}/recording{action}"

    async def init(self, path: Path, **overrides: Any) -> httpx.Response:
        body = declared(path) | overrides
        return await self.stage.world.client.post(
            self.url("/init"), json=body, headers=self.headers
        )

    async def complete(self, recording_id: int, **overrides: Any) -> httpx.Response:
        consent = await self.stage.world.client.get("/api/recording-consent")
        body = {"recordingId": recording_id, "consentVersion": consent.json()["version"]}
        return await self.stage.world.client.post(
            self.url("/complete"), json=body | overrides, headers=self.headers
        )

    async def upload(self, path: Path, **init: Any) -> dict[str, Any]:
        """init, then the PUT (or the part PUTs) of the file; the init's answer, with the
        parts' ETags under `uploadedParts` for a multipart upload."""
        started = await self.init(path, **init)
        assert started.status_code == 200, started.text
        body: dict[str, Any] = started.json()
        data = await asyncio.to_thread(path.read_bytes)
        upload = body["upload"]
        if upload["kind"] == "single":
            await put(self.stage.http, upload["request"], data)
        else:
            size = upload["partSizeBytes"]
            body["uploadedParts"] = [
                {
                    "partNumber": part["partNumber"],
                    "etag": await put(
                        self.stage.http,
                        part,
                        data[(part["partNumber"] - 1) * size : part["partNumber"] * size],
                    ),
                }
                for part in upload["parts"]
            ]
        return body

    async def submit(self, text: str = "Handed over.") -> int:
        submitted = await self.stage.world.client.post(
            f"/api/tasks/{self.task_id}/submit", json={"contentText": text}, headers=self.headers
        )
        assert submitted.status_code == 201, submitted.text
        submission_id: int = submitted.json()["submissionId"]
        return submission_id


async def put(http: httpx.AsyncClient, signed: dict[str, Any], data: bytes) -> str:
    """Send a signed request as a browser would; the answer's ETag."""
    answer = await http.request(
        signed["method"], signed["url"], headers=signed["headers"], content=data
    )
    assert answer.status_code in (200, 201, 204), answer.text
    return answer.headers["etag"]


# A short name of each kind of file a candidate may upload, and what it is.
KINDS = {
    "wav": media_samples.WAV,
    "mp3": media_samples.MP3,
    "m4a": media_samples.MP4_AAC,
    "mp4": media_samples.MP4_VIDEO,
    "mov": media_samples.MOV_VIDEO,
    "webm": media_samples.WEBM_VIDEO,
}


def make_media(directory: Path, kind: str, seconds: float, *, name: str = "clip") -> Path:
    return media_samples.write_media(directory, KINDS[kind], seconds=seconds, name=name)


CONTENT_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}


def declared(path: Path) -> dict[str, Any]:
    """What a browser declares of the file at init."""
    return {
        "filename": path.name,
        "contentType": CONTENT_TYPES[path.suffix],
        "sizeBytes": path.stat().st_size,
    }


async def claimed(
    stage: Stage, tasks: list[dict[str, Any]] = HANDOFF_FIRST, *, world: World | None = None
) -> Candidate:
    """A session of a new simulation with these tasks, claimed by the world's candidate."""
    world = world or stage.world
    simulation = await new_simulation(world, tasks=tasks)
    invite = (await invite_candidate(world, simulation["id"])).json()
    opened = await world.client.get(
        f"/api/candidate/session/{invite['token']}", headers=world.candidate
    )
    assert opened.status_code == 200, opened.text
    cs_id = invite["candidateSessionId"]
    return Candidate(
        stage=stage,
        cs_id=cs_id,
        task_ids=[task["id"] for task in simulation["tasks"]],
        headers=world.candidate | {"x-candidate-session-id": str(cs_id)},
    )
