"""The Greenhouse adapter (Assessment Partner API, grnhse/greenhouse-api-docs
`source/includes/assessment/`): its HTTP Basic authentication with a partner key as the
user name, reading its send_test request into an order, wording an order's report as its
test_status answer, and the callback PATCH it accepts at the URL it gave.

Greenhouse's callback URL is an address a customer's request hands us, so it is checked on
receipt and again at every send: its host must be on TENON_GREENHOUSE_CALLBACK_HOSTS, and
outside local/test it must be https on public addresses only (app.integrations.outbound).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import Depends, Request, Security
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.requests import HTTPConnection

from app.ats import service
from app.ats.models import AssessmentOrder, PartnerKey
from app.ats.schemas import GreenhousePartnerStatus, GreenhouseSendTest, GreenhouseTestStatus
from app.ats.service import OrderReport, OrderRequest
from app.candidate_sessions.models import SessionStatus
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.errors import UnauthorizedError, UnprocessableError
from app.core.openapi import raises
from app.core.settings import Settings
from app.integrations import outbound
from app.integrations.outbound import TargetRefusedError

CALLBACK_REFUSED = (UnprocessableError, "ATS_CALLBACK_URL_REFUSED")
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Tenon Greenhouse"'}

PARTNER_STATUS: dict[SessionStatus, GreenhousePartnerStatus] = {
    "invited": "pending",
    "in_progress": "in_progress",
    "completed": "complete",
    "expired": "expired",
    "revoked": "cancelled",
}


class _BasicScheme(HTTPBasic):
    """Declares the scheme in the OpenAPI document only: `greenhouse_key` reads the header
    itself, so a malformed one gets this API's own 401 problem."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        return None


greenhouse_basic = _BasicScheme(
    scheme_name="greenhouseKey",
    description="HTTP Basic: a Greenhouse partner key as the user name, the password empty.",
    auto_error=False,
)


def _supplied_key(request: Request) -> str | None:
    scheme, _, param = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(param.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, _ = decoded.partition(":")
    return user or None


@raises(
    (UnauthorizedError, "GREENHOUSE_KEY_MISSING"), (UnauthorizedError, "GREENHOUSE_KEY_INVALID")
)
async def greenhouse_key(
    request: Request,
    session: DbSession,
    clock: CurrentClock,
    _credentials: Annotated[HTTPBasicCredentials | None, Security(greenhouse_basic)],
) -> PartnerKey:
    if "Authorization" not in request.headers:
        raise UnauthorizedError(
            "Send the partner key as the HTTP Basic user name.",
            code="GREENHOUSE_KEY_MISSING",
            headers=_CHALLENGE,
        )
    supplied = _supplied_key(request)
    key = (
        await service.authenticate(session, "greenhouse", supplied, now=clock.now())
        if supplied
        else None
    )
    if key is None:
        raise UnauthorizedError(
            "The partner key is not valid (unknown, revoked, or not sent as HTTP Basic).",
            code="GREENHOUSE_KEY_INVALID",
            headers=_CHALLENGE,
        )
    return key


GreenhouseKey = Annotated[PartnerKey, Depends(greenhouse_key)]


def allow_private(settings: Settings) -> bool:
    """Private and loopback callback targets: only in local development and the tests."""
    return settings.app.env in ("local", "test")


def check_callback_url(url: str, settings: Settings) -> None:
    """Raise `TargetRefusedError` unless `url` is one Tenon may PATCH (DNS is checked at
    send time, by `outbound.send`)."""
    parsed = outbound.check_url(url, allow_private=allow_private(settings))
    host = parsed.host.lower()
    if not any(_host_matches(host, allowed) for allowed in settings.greenhouse.callback_hosts):
        raise TargetRefusedError(
            f"{host} is not a Greenhouse callback host (TENON_GREENHOUSE_CALLBACK_HOSTS)."
        )


def _host_matches(host: str, allowed: str) -> bool:
    if allowed.startswith("*."):
        return host.endswith(allowed[1:])
    return host == allowed


def order_request(body: GreenhouseSendTest, settings: Settings) -> OrderRequest:
    """Greenhouse's send_test as an order; its callback URL refused is a 422."""
    try:
        check_callback_url(body.url, settings)
    except TargetRefusedError as exc:
        raise UnprocessableError(
            f"The callback url is refused: {exc}", code=CALLBACK_REFUSED[1]
        ) from exc
    candidate = body.candidate
    person, application = _profile_ids(candidate.greenhouse_profile_url)
    return OrderRequest(
        system="greenhouse",
        external_id=body.url,
        external_test_id=body.partner_test_id,
        external_candidate_id=person,
        external_application_id=application,
        candidate_name=candidate.full_name,
        candidate_email=str(candidate.email),
        sent_by=body.sent_by,
        callback_url=body.url,
    )


def _profile_ids(url: str | None) -> tuple[str | None, str | None]:
    """(person id, application id) from `…/people/{id}?application_id={id}`, as far as the
    URL has them."""
    if not url:
        return None, None
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket: a URL with neither id
        return None, None
    segments = parts.path.strip("/").split("/")
    person = None
    if len(segments) >= 2 and segments[-2] == "people" and _is_id(segments[-1]):
        person = segments[-1]
    application = parse_qs(parts.query).get("application_id", [None])[0]
    return person, application if application and _is_id(application) else None


def _is_id(text: str) -> bool:
    # ASCII digits only: str.isdigit also takes "²" and other scripts' digits.
    return text.isascii() and text.isdigit()


def profile_url(order: AssessmentOrder, settings: Settings) -> str:
    """The recruiter's page of the candidate in the front end."""
    path = settings.greenhouse.profile_path.format(
        simulation_id=order.simulation_id, candidate_session_id=order.candidate_session_id
    )
    return settings.app.candidate_portal_base_url.rstrip("/") + path


def status_of(
    order: AssessmentOrder, report: OrderReport, settings: Settings
) -> GreenhouseTestStatus:
    """The order as Greenhouse's test_status (and the callback) describes it: metadata is
    flat, every value a string."""
    metadata = {"Tenon Status": report.status, "Invited At": report.invited_at.isoformat()}
    if report.started_at is not None:
        metadata["Started At"] = report.started_at.isoformat()
    if report.completed_at is not None:
        metadata["Completed At"] = report.completed_at.isoformat()
    if report.scorecards:
        metadata["Scorecards Submitted"] = str(report.scorecards)
    if report.hidden_tests is not None:
        metadata["Hidden Tests Passed"] = f"{report.hidden_tests[0]}/{report.hidden_tests[1]}"
    if report.score_basis is not None:
        metadata["Score Basis"] = report.score_basis
    return GreenhouseTestStatus(
        partner_status=PARTNER_STATUS[report.status],
        partner_profile_url=profile_url(order, settings),
        partner_score=report.score,
        metadata=metadata,
    )


async def patch_callback(
    http: httpx.AsyncClient,
    callback_url: str,
    body: GreenhouseTestStatus,
    *,
    key: str,
    settings: Settings,
) -> outbound.OutboundResponse:
    """PATCH an order's callback URL (checked again here: the settings may have changed
    since it was received). Greenhouse's docs send no parameters and authenticate with the
    partner key; Tenon also sends the test_status body, so a receiver need not call back.
    Raises `TargetRefusedError` or `httpx.HTTPError`."""
    check_callback_url(callback_url, settings)
    credentials = base64.b64encode(f"{key}:".encode()).decode()
    return await outbound.send(
        http,
        "PATCH",
        callback_url,
        allow_private=allow_private(settings),
        content=json.dumps(body.model_dump(mode="json")).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {credentials}"},
    )
