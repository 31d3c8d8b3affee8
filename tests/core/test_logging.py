from __future__ import annotations

import logging
from io import StringIO
from typing import Any

import pytest
import structlog

from app.core.logging import REDACTED, configure_logging, redact_event
from tests.support.logs import json_lines

GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
GHS = "ghs_" + "Z9y8X7w6V5u4T3s2R1q0P9o8"
PAT = "github_pat_" + "11ABCDEFG0_abcdefghijklmnopqrstuvwxyz"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHwxMjMifQ.c2lnbmF0dXJlLXBhcnQ"
SESSION_ID = "9223372036854775807"  # the longest id there is
INVITE_TOKEN = "Zq3_xK9-vT2mPq8LwR4nYb7cDe1FgH5jKl0MnOp6QrS"  # shaped like token_urlsafe(32)


def redact(**event: Any) -> dict[str, Any]:
    return dict(redact_event(None, "info", event))


def test_sensitive_keys_are_redacted_case_insensitively() -> None:
    event = redact(
        event="x",
        Authorization="Bearer abc",
        cookie="a=b",
        **{"Set-Cookie": "s=1", "X-Admin-Key": "k", "X-Hub-Signature-256": "sha256=00"},
        access_token="t",
        client_secret="s",
        password="p",
        api_key="k",
        private_key="-----BEGIN",
        invite_token="it",
    )
    assert event["event"] == "x"
    for key, value in event.items():
        if key != "event":
            assert value == REDACTED, key


def test_nested_structures_are_walked() -> None:
    event = redact(
        event="github.request",
        headers={"Authorization": "Bearer x", "Accept": "application/json"},
        items=[{"webhook_secret": "w"}, ("keep", GHP)],
    )
    assert event["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert event["items"] == [{"webhook_secret": REDACTED}, ("keep", REDACTED)]


def test_booleans_under_sensitive_keys_stay_readable() -> None:
    assert redact(event="x", has_token=True, token=None) == {
        "event": "x",
        "has_token": True,
        "token": None,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"cloning with {GHP} now", f"cloning with {REDACTED} now"),
        (f"installation {GHS}", f"installation {REDACTED}"),
        (f"pat={PAT}", f"pat={REDACTED}"),
        (f"got {JWT} from auth0", f"got {REDACTED} from auth0"),
        ("header Bearer abc.def-ghi rejected", f"header Bearer {REDACTED} rejected"),
        ("header BEARER abc.def-ghi rejected", f"header BEARER {REDACTED} rejected"),
        (
            "https://x-access-token:secretvalue@github.com/o/r.git",
            f"https://x-access-token:{REDACTED}@github.com/o/r.git",
        ),
        ("GET /cb?code=1&state_token=abc&x=1", f"GET /cb?code=1&state_token={REDACTED}&x=1"),
        ("GET /cb?Client_SECRET=abc", f"GET /cb?Client_SECRET={REDACTED}"),
        (f"/invite/{INVITE_TOKEN}", f"/invite/{REDACTED}"),
        (f"/api/candidate/session/{INVITE_TOKEN}", f"/api/candidate/session/{REDACTED}"),
        (
            f"/api/candidate/session/{INVITE_TOKEN}/claim",
            f"/api/candidate/session/{REDACTED}/claim",
        ),
        # Route words after /invite/ are not tokens.
        (
            "/api/simulations/s/candidates/c/invite/resend",
            "/api/simulations/s/candidates/c/invite/resend",
        ),
        (
            f"/api/candidate/session/{SESSION_ID}/current_task",
            f"/api/candidate/session/{SESSION_ID}/current_task",
        ),
        ("ghp_short is not a token", "ghp_short is not a token"),
    ],
)
def test_string_patterns_are_redacted(text: str, expected: str) -> None:
    assert redact(event=text)["event"] == expected


async def test_json_output_is_redacted_end_to_end(log_stream: StringIO) -> None:
    log = structlog.get_logger("tenon.test")
    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        log.info(
            "github.request",
            headers={"Authorization": f"token {GHP}"},
            url=f"https://api.github.com/x?access_token={GHS}",
            path=f"/api/candidate/session/{INVITE_TOKEN}/claim",
            session_path=f"/api/candidate/session/{SESSION_ID}/current_task",
            jwt=JWT,
        )
        logging.getLogger("sqlalchemy.engine").warning("connect with %s", PAT)

    output = log_stream.getvalue()
    for secret in (GHP, GHS, PAT, JWT, INVITE_TOKEN):
        assert secret not in output
    first, second = json_lines(log_stream)
    assert first["event"] == "github.request"
    assert first["request_id"] == "req-1"
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert first["headers"] == {"Authorization": REDACTED}
    assert first["path"] == f"/api/candidate/session/{REDACTED}/claim"
    assert first["session_path"] == f"/api/candidate/session/{SESSION_ID}/current_task"
    assert second["event"] == f"connect with {REDACTED}"
    assert second["logger"] == "sqlalchemy.engine"
    assert second["request_id"] == "req-1"


async def test_tracebacks_are_redacted(log_stream: StringIO) -> None:
    try:
        raise RuntimeError(f"bad credentials {GHP}")
    except RuntimeError:
        structlog.get_logger("tenon.test").exception("github.failed")
    (line,) = json_lines(log_stream)
    assert "RuntimeError" in line["exception"]
    assert GHP not in line["exception"]


def test_configure_logging_is_idempotent(log_stream: StringIO) -> None:
    configure_logging(json=True, level="INFO", stream=log_stream)
    configure_logging(json=True, level="WARNING", stream=log_stream)
    structlog.get_logger("tenon.test").info("dropped.below.level")
    structlog.get_logger("tenon.test").warning("kept")
    assert [line["event"] for line in json_lines(log_stream)] == ["kept"]
    tenon_handlers = [
        h for h in logging.getLogger().handlers if getattr(h, "stream", None) is log_stream
    ]
    assert len(tenon_handlers) == 1


def test_console_output_is_redacted(log_stream: StringIO) -> None:
    stream = StringIO()
    configure_logging(json=False, level="INFO", stream=stream)
    structlog.get_logger("tenon.test").info("auth.failed", authorization=f"Bearer {JWT}")
    assert log_stream.getvalue() == ""
    output = stream.getvalue()
    assert "auth.failed" in output
    assert JWT not in output
    assert REDACTED in output
