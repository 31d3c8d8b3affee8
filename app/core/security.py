"""Invite tokens: random, shown once, looked up by hash, kept only encrypted.

The session row stores the token's SHA-256 (for look-up) and an AES-GCM ciphertext under
a key derived from `TENON_SECRET_KEY`, so the invite email can be sent (and re-sent) by a
job without the plaintext ever being stored; reading the database alone reveals no token.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_BYTES = 32
_NONCE_BYTES = 12


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenCipher:
    def __init__(self, secret_key: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"tenon invite tokens"
        ).derive(secret_key.encode())
        self._aead = AESGCM(key)

    def encrypt(self, token: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, token.encode(), None)

    def decrypt(self, sealed: bytes) -> str:
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None).decode()
