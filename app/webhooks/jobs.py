"""Delivering one event to one endpoint (DELIVER_WEBHOOK): sign the frozen body with the
secrets in force now, POST it through `app.integrations.outbound` (the checked address
pinned, no redirects) within TENON_WEBHOOKS_TIMEOUT_SECONDS, and log the attempt. A 2xx
answer delivers; any other answer or a network error fails the attempt, and the job system
retries it with exponential backoff until the last attempt marks the delivery `failed`. A
target refused at send time (its name now resolves to a private address) fails the delivery
at once: retrying cannot make the address public. A redelivery or a test (`manual`) is one
attempt. Nothing is sent for a deleted or disabled endpoint.

No database session is open while the request is out: the attempt is written afterwards,
under the delivery's row lock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog

from app.core.schemas import ApiModel
from app.core.security import TokenCipher
from app.core.settings import Settings
from app.integrations import outbound
from app.jobs.registry import JobContext, JobType
from app.services import Services
from app.webhooks import repository, signing
from app.webhooks.models import DeliveryAttempt, EndpointDelivery, WebhookEndpoint

log = structlog.get_logger(__name__)

USER_AGENT = "Tenon-Webhooks/1"
# What the log keeps of an endpoint's answer.
RESPONSE_BODY_LIMIT = 1024
ENDPOINT_DISABLED_ERROR = "The endpoint was disabled before this delivery was sent."


class DeliveryRef(ApiModel):
    delivery_id: int
    # A recruiter's redelivery or test: one attempt, no retries.
    manual: bool = False


class AttemptFailedError(Exception):
    """The endpoint did not take the delivery; the job system tries again later."""


def private_targets_allowed(settings: Settings) -> bool:
    """Private, loopback and plain-http endpoint URLs: only on a local server or in the test
    suite, and there only while TENON_WEBHOOKS_ALLOW_PRIVATE_TARGETS is on."""
    return settings.app.env in ("local", "test") and settings.webhooks.allow_private_targets


def signing_secrets(endpoint: WebhookEndpoint, cipher: TokenCipher, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    current = [cipher.decrypt(endpoint.secret_ciphertext)]
    previous = endpoint.previous_secret_ciphertext
    expires = endpoint.previous_secret_expires_at
    if previous is not None and expires is not None and now < expires:
        return [*current, cipher.decrypt(previous)]
    return current


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    response_body: str | None
    duration_ms: int
    # The target was refused before anything was sent: no retry can help.
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL.
    return text.replace("\x00", "\ufffd")


async def _post(
    http: httpx.AsyncClient,
    settings: Settings,
    delivery: EndpointDelivery,
    url: str,
    signature: str,
) -> Outcome:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Tenon-Signature": signature,
        "Tenon-Event": delivery.event_type,
        "Tenon-Delivery": str(delivery.id),
    }
    timeout = settings.webhooks.timeout_seconds
    started = time.monotonic()

    def elapsed_ms() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        async with asyncio.timeout(timeout):
            response = await outbound.send(
                http,
                "POST",
                url,
                allow_private=private_targets_allowed(settings),
                content=delivery.body.encode(),
                headers=headers,
            )
    except outbound.TargetRefusedError as exc:
        return Outcome(None, f"{exc.code}: {exc}", None, elapsed_ms(), refused=True)
    except TimeoutError:
        return Outcome(None, f"TIMEOUT: no answer within {timeout:g} s", None, elapsed_ms())
    except httpx.HTTPError as exc:
        error = _storable(f"NETWORK_ERROR: {type(exc).__name__}: {exc}")
        return Outcome(None, error, None, elapsed_ms())
    body = response.content[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")
    return Outcome(response.status_code, None, _storable(body), elapsed_ms())


async def _deliver(context: JobContext[Services], ref: DeliveryRef) -> None:
    services = context.services
    now = context.clock.now()
    async with context.database.session_scope() as session:
        found = await repository.delivery_with_endpoint(session, ref.delivery_id, for_update=True)
        if found is None:  # its endpoint was deleted, and the log with it
            return
        delivery, endpoint = found
        if delivery.status != "pending" and not ref.manual:
            return  # delivered or given up already
        if not endpoint.enabled:
            if not ref.manual:
                delivery.status, delivery.last_error = "failed", ENDPOINT_DISABLED_ERROR
            log.info("webhooks.delivery.endpoint_disabled", delivery_id=delivery.id)
            return
        secrets = signing_secrets(endpoint, services.token_cipher, now)
        url = endpoint.url
    signature = signing.signature_header(secrets, int(now.timestamp()), delivery.body.encode())
    outcome = await _post(services.http, services.settings, delivery, url, signature)
    last = ref.manual or outcome.refused or context.attempt >= context.max_attempts
    async with context.database.session_scope() as session:
        found = await repository.delivery_with_endpoint(session, ref.delivery_id, for_update=True)
        if found is None:
            return
        delivery = found[0]
        await repository.add_attempt(
            session,
            DeliveryAttempt(
                delivery_id=delivery.id,
                manual=ref.manual,
                attempted_at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                response_body=outcome.response_body,
            ),
        )
        delivery.attempt_count += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.delivered:
            delivery.status = "delivered"
            delivery.delivered_at = delivery.delivered_at or now
        elif last and not ref.manual:
            delivery.status = "failed"
    log.info(
        "webhooks.delivery.attempted",
        delivery_id=ref.delivery_id,
        status_code=outcome.status_code,
        error=outcome.error,
        manual=ref.manual,
        attempt=context.attempt,
    )
    if not outcome.delivered and not last:
        raise AttemptFailedError(outcome.error or f"The endpoint answered {outcome.status_code}.")


# Eight attempts over five to eleven hours: waits of up to 5, 10, 20, … 320 minutes, each
# between half and all of that (jittered), so an endpoint down for an afternoon misses nothing.
DELIVER_WEBHOOK = JobType(
    name="webhooks.deliver",
    payload=DeliveryRef,
    handler=_deliver,
    max_attempts=8,
    backoff_base=timedelta(minutes=5),
    backoff_cap=timedelta(hours=6),
)
