"""Webhook secrets and the `Tenon-Signature` header, Stripe's scheme: `t=<unix seconds>`
and one `v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` per secret in force (the new and the
previous one during a rotation's overlap). The key is the whole secret as shown, `whsec_`
prefix included; the timestamp inside the signed text lets receivers refuse replays."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(signing_secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    return ",".join(
        [f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in signing_secrets)]
    )
