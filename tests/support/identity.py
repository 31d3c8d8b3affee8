"""A stand-in Auth0 tenant for tests: real RSA keys, a JWKS document served over real HTTP
on loopback, and RS256 access tokens signed like Auth0 signs them."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

ISSUER = "https://tenon-test.eu.auth0.example/"
AUDIENCE = "https://api.tenon.test"
NAMESPACE = "https://tenon.dev/"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }


class IdentityProvider:
    def __init__(self) -> None:
        self.keys = [SigningKey("key-1")]
        self.spare_key = SigningKey("key-2")  # not published until a test rotates it in
        self.status = 200
        self.fetches = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def jwks_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"

    def document(self) -> bytes:
        return json.dumps({"keys": [key.jwk for key in self.keys]}).encode()

    def rotate_in_spare_key(self) -> SigningKey:
        self.keys.append(self.spare_key)
        return self.spare_key

    def reset(self) -> None:
        self.keys = self.keys[:1]
        self.status = 200
        self.fetches = 0

    def token(
        self,
        *,
        subject: str = "auth0|user-1",
        permissions: tuple[str, ...] = ("recruiter:access",),
        email: str | None = "recruiter@example.com",
        email_verified: bool = True,
        key: SigningKey | None = None,
        claims: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """An RS256 access token; `claims` and keyword overrides replace defaults (None drops)."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": [AUDIENCE, f"{ISSUER}userinfo"],
            "sub": subject,
            "iat": now,
            "exp": now + 3600,
            "permissions": list(permissions),
        }
        if email is not None:
            payload[f"{NAMESPACE}email"] = email
            payload[f"{NAMESPACE}email_verified"] = email_verified
        payload.update(claims or {})
        payload.update(overrides)
        payload = {name: value for name, value in payload.items() if value is not None}
        signer = key or self.keys[0]
        # The key itself, not its PEM: loading a PEM checks the RSA key again, about 50 ms of
        # CPU for every token.
        return jwt.encode(payload, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    @contextmanager
    def serving(self) -> Iterator[IdentityProvider]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                body = provider.document() if provider.status == 200 else b'{"error":"down"}'
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
