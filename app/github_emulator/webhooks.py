"""Signed webhook deliveries, in the background, in order per run, retried with backoff.

A delivery keeps its `X-GitHub-Delivery` id across retries, as GitHub's redeliveries do.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import structlog

from app.github_emulator.config import EmulatorConfig

log = structlog.get_logger(__name__)

USER_AGENT = "GitHub-Hookshot/emulator"
HOOK_ID = "1"


def signature_256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None
        # The last delivery task per ordering key: each new one waits for it.
        self._chains: dict[str, asyncio.Task[None]] = {}
        self.delivered = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return self._config.webhook_url is not None

    async def start(self) -> None:
        if self.enabled:
            self._client = httpx.AsyncClient(timeout=self._config.webhook_timeout_seconds)

    async def close(self, grace_seconds: float = 5.0) -> None:
        pending = list(self._chains.values())
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=grace_seconds)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def send(self, key: str, event: str, payload: dict[str, Any]) -> None:
        """Queue a delivery after every earlier one with the same `key`."""
        if self._client is None:
            return
        previous = self._chains.get(key)
        task = asyncio.create_task(self._deliver_after(previous, event, payload))
        self._chains[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        if self._chains.get(key) is task:
            del self._chains[key]

    async def _deliver_after(
        self, previous: asyncio.Task[None] | None, event: str, payload: dict[str, Any]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        await self._deliver(event, payload)

    async def _deliver(self, event: str, payload: dict[str, Any]) -> None:
        assert self._client is not None
        assert self._config.webhook_url is not None
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-GitHub-Hook-ID": HOOK_ID,
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(self._config.installation_id),
        }
        if self._config.webhook_secret is not None:
            headers["X-Hub-Signature-256"] = signature_256(self._config.webhook_secret, body)
        fields = {"event_name": event, "action": payload.get("action"), "delivery_id": delivery}
        for attempt in range(1, self._config.webhook_attempts + 1):
            try:
                response = await self._client.post(
                    self._config.webhook_url, content=body, headers=headers
                )
                if response.is_success:
                    self.delivered += 1
                    log.info("emulator.webhook.delivered", attempt=attempt, **fields)
                    return
                problem = f"status {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            log.warning("emulator.webhook.attempt_failed", attempt=attempt, error=problem, **fields)
            if attempt < self._config.webhook_attempts:
                await asyncio.sleep(self._config.webhook_backoff_seconds * 2 ** (attempt - 1))
        self.failed += 1
        log.error("emulator.webhook.failed", attempts=self._config.webhook_attempts, **fields)
