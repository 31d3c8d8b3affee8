"""A fake AI provider API on 127.0.0.1: it answers each request with the next queued reply
and keeps the raw bytes of every request, so tests assert on what the SDKs really send."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.core.settings import AiSettings
from app.integrations.ai.provider import AiProvider, AiRequest
from app.integrations.ai.providers import build_ai_provider

API_KEY = "sk-test-0123456789abcdef"

REQUEST = AiRequest(
    system="You draft a scorecard.",
    prompt="Score the submission.",
    schema_name="scorecard",
    json_schema={
        "type": "object",
        "properties": {"level": {"type": "integer"}, "note": {"type": "string"}},
        "required": ["level", "note"],
        "additionalProperties": False,
    },
    max_output_tokens=800,
)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Captured:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeApi:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Captured] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                api.requests.append(
                    Captured(
                        self.path,
                        {name.lower(): value for name, value in self.headers.items()},
                        self.rfile.read(length),
                    )
                )
                reply = api.replies.pop(0)
                time.sleep(reply.delay)
                payload = (
                    reply.body.encode()
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    headers = {"content-type": "application/json", **reply.headers}
                    self.send_header("content-length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def reply(self, body: Any, status: int = 200, **options: Any) -> None:
        self.replies.append(Reply(status=status, body=body, **options))

    @property
    def last(self) -> Captured:
        return self.requests[-1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    yield api
    api.close()


def make_provider(name: str, base_url: str, *, timeout: float = 5.0, **settings: Any) -> AiProvider:
    provider = build_ai_provider(
        AiSettings(
            _env_file=None,
            provider=name,
            api_key=API_KEY,
            base_url=base_url,
            timeout_seconds=timeout,
            **settings,
        )
    )
    assert provider is not None
    return provider
