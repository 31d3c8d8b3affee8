"""Auth0 access-token verification: RS256 only, against the tenant's JWKS.

A verified token is remembered until it expires: a client sends the same token with every
request, and the token's signature makes the string itself unforgeable, so the same string
needs no second verification.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from app.auth.jwks import ALGORITHM, JwksCache
from app.auth.principals import Principal
from app.core.errors import UnauthorizedError
from app.core.settings import AuthSettings

# Bounds the memory of remembered tokens; past it the oldest are forgotten first.
VERIFIED_TOKENS_KEPT = 10_000


def _invalid(detail: str) -> UnauthorizedError:
    return UnauthorizedError(detail, code="AUTH_TOKEN_INVALID")


def _expired() -> UnauthorizedError:
    return UnauthorizedError("The token has expired.", code="AUTH_TOKEN_EXPIRED")


class TokenVerifier:
    def __init__(
        self, jwks: JwksCache, settings: AuthSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        issuer, audience = settings.effective_issuer, settings.api_audience
        if not issuer or not audience:
            raise ValueError("Token verification needs an Auth0 issuer and audience")
        self._jwks = jwks
        self._issuer = issuer
        self._audience = audience
        self._settings = settings
        self._clock = clock
        # token -> (its principal, the epoch second after which it is refused)
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, refused_after = remembered
            if self._clock() <= refused_after:
                return principal
            del self._verified[token]
            raise _expired()
        principal, expires_at = await self._verify_signed(token)
        self._remember(token, principal, expires_at + self._settings.leeway_seconds)
        return principal

    def _remember(self, token: str, principal: Principal, refused_after: float) -> None:
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, refused_after)

    async def _verify_signed(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise _invalid("The token is malformed.") from exc
        # Checked before any key lookup: `none`, HS256 with the public key as secret and
        # every other algorithm are refused outright.
        if header.get("alg") != ALGORITHM:
            raise _invalid("The token must be signed with RS256.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _invalid("The token has no key id.")
        key = await self._jwks.key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"leeway": self._settings.leeway_seconds, "require_exp": True},
            )
        except ExpiredSignatureError as exc:
            raise _expired() from exc
        except JWTClaimsError as exc:
            raise _invalid(f"The token was rejected: {exc}.") from exc
        except JWTError as exc:
            raise _invalid("The token signature is invalid.") from exc
        # require_exp made decode check that `exp` is a number.
        return self._principal(claims), float(claims["exp"])

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise _invalid("The token has no subject.")
        namespace = self._settings.claim_namespace
        email = claims.get(f"{namespace}email", claims.get("email"))
        verified = claims.get(f"{namespace}email_verified", claims.get("email_verified"))
        return Principal(
            subject=subject,
            email=email if isinstance(email, str) and email else None,
            email_verified=verified is True,
            permissions=self._permissions(claims),
            source="auth0",
        )

    def _permissions(self, claims: Mapping[str, Any]) -> frozenset[str]:
        granted = _strings(claims.get(self._settings.permissions_claim))
        if self._settings.roles_claim:
            roles = _strings(claims.get(self._settings.roles_claim))
            granted |= {f"{role.lower()}:access" for role in roles}
        return frozenset(granted)


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()
