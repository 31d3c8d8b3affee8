"""The local store's signed URLs: a token in the path states what its bearer may do (which
operation on which key, with which size and content type, until when) and carries an
HMAC-SHA256 of that statement under a key derived from `TENON_SECRET_KEY`.

A token is `base64url(JSON statement) "." base64url(MAC)`; nothing in it is secret (the
object key is visible), only unforgeable."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

Operation = Literal["put", "part", "get"]


@dataclass(frozen=True)
class Grant:
    """What a token allows: `put` a whole object of `size` bytes of `content_type`, upload
    part `part` of multipart upload `upload_id`, or `get` the object as `content_type`
    named `filename`."""

    op: Operation
    key: str
    expires: int  # Unix seconds
    size: int | None = None
    content_type: str | None = None
    upload_id: str | None = None
    part: int | None = None
    filename: str | None = None

    def expired(self, now: datetime) -> bool:
        return now.timestamp() >= self.expires

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


class InvalidTokenError(Exception):
    """The token is malformed or its MAC does not match: it was not made by this server."""


class TokenSigner:
    def __init__(self, secret_key: str) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"tenon media urls"
        ).derive(secret_key.encode())

    def sign(self, grant: Grant) -> str:
        statement = json.dumps(
            {name: value for name, value in asdict(grant).items() if value is not None},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        return f"{_encode(statement)}.{_encode(self._mac(statement))}"

    def verify(self, token: str) -> Grant:
        """The grant the token states; `InvalidTokenError` when it was not signed here.
        Whether it has expired is the caller's question (it holds the clock)."""
        encoded, _, mac = token.partition(".")
        try:
            statement = _decode(encoded)
            valid = hmac.compare_digest(_decode(mac), self._mac(statement))
        except (binascii.Error, ValueError):
            raise InvalidTokenError() from None
        if not valid:
            raise InvalidTokenError()
        fields: dict[str, Any] = json.loads(statement)
        return Grant(**fields)

    def _mac(self, statement: bytes) -> bytes:
        return hmac.new(self._key, statement, hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _decode(text: str) -> bytes:
    if not text:
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
