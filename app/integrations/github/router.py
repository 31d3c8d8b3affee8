"""The GitHub webhook endpoint: verify, record, acknowledge; processing happens in a job."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, Security, status
from fastapi.security import APIKeyHeader
from pydantic import ConfigDict, SecretStr

from app.core.db import DbSession
from app.core.errors import BadRequestError, ServiceUnavailableError, UnauthorizedError
from app.core.openapi import raises
from app.core.schemas import ApiModel
from app.integrations.github.webhooks import (
    DeliveryOutcome,
    WebhookServices,
    receive_delivery,
    verify_signature,
)

router = APIRouter(prefix="/github", tags=["github"])


class WebhookAck(ApiModel):
    # deliveryId is left out of the answer, not null, unless the delivery was queued.
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    status: DeliveryOutcome
    delivery_id: str | None = None


# A security scheme in the OpenAPI document, so the header is documented where clients
# look for credentials; `verify_signature` does the checking.
github_signature = APIKeyHeader(
    name="X-Hub-Signature-256",
    scheme_name="githubSignature",
    description="`sha256=` and the hex HMAC-SHA256 of the raw body under the webhook secret.",
    auto_error=False,
)

_ACK_STATUS = {
    DeliveryOutcome.PONG: status.HTTP_200_OK,
    DeliveryOutcome.DUPLICATE: status.HTTP_200_OK,
    DeliveryOutcome.QUEUED: status.HTTP_202_ACCEPTED,
    DeliveryOutcome.IGNORED: status.HTTP_202_ACCEPTED,
}


def _webhook_services(request: Request) -> WebhookServices:
    # The application's services (`app.services`), seen as what the intake needs of them:
    # which events the domains registered handlers for.
    services: WebhookServices = request.app.state.services
    return services


def _webhook_secret(request: Request) -> bytes:
    secret: SecretStr | None = request.app.state.settings.github.webhook_secret
    if secret is None:
        # Never accept unsigned deliveries: without a secret nothing can be verified.
        raise ServiceUnavailableError(
            "GitHub webhooks are not configured.", code="WEBHOOKS_NOT_CONFIGURED"
        )
    return secret.get_secret_value().encode()


def _parse_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise BadRequestError(
            "The payload must be a JSON object (content type application/json).",
            code="WEBHOOK_PAYLOAD_INVALID",
        )
    return payload


@router.post(
    "/webhooks",
    response_model=WebhookAck,
    response_model_exclude_none=True,
    responses={
        200: {"description": "A ping answered, or a redelivery already recorded."},
        202: {"model": WebhookAck, "description": "Recorded: queued for processing or ignored."},
    },
)
@raises(
    (BadRequestError, "WEBHOOK_HEADERS_MISSING"),
    (BadRequestError, "WEBHOOK_PAYLOAD_INVALID"),
    (UnauthorizedError, "WEBHOOK_SIGNATURE_MISSING"),
    (UnauthorizedError, "WEBHOOK_SIGNATURE_INVALID"),
    (ServiceUnavailableError, "WEBHOOKS_NOT_CONFIGURED"),
)
async def receive_github_webhook(
    request: Request,
    response: Response,
    session: DbSession,
    services: Annotated[WebhookServices, Depends(_webhook_services)],
    x_hub_signature_256: Annotated[str | None, Security(github_signature)],
    x_github_event: Annotated[
        str | None, Header(description="The event, e.g. workflow_run; required.")
    ] = None,
    x_github_delivery: Annotated[
        str | None, Header(description="The delivery's unique id; required.")
    ] = None,
) -> WebhookAck:
    """Receive a GitHub webhook delivery."""
    body = await request.body()
    verify_signature(_webhook_secret(request), body, x_hub_signature_256)
    if not x_github_event or not x_github_delivery:
        raise BadRequestError(
            "X-GitHub-Event and X-GitHub-Delivery are required.", code="WEBHOOK_HEADERS_MISSING"
        )
    outcome = await receive_delivery(
        session,
        delivery_id=x_github_delivery,
        event=x_github_event,
        body_json=_parse_object(body),
        handled=services.webhook_handlers,
    )
    response.status_code = _ACK_STATUS[outcome]
    delivery_id = x_github_delivery if outcome is DeliveryOutcome.QUEUED else None
    return WebhookAck(status=outcome, delivery_id=delivery_id)
