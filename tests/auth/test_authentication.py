"""Auth0 verification end to end: real RS256 keys, a JWKS document served over HTTP, the API
answering through the ASGI app."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import tokens
from app.auth.dependencies import CandidateUser, RecruiterUser
from app.auth.jwks import AuthProviderUnavailableError, JwksCache
from app.auth.tokens import TokenVerifier
from app.companies.models import User
from app.core.db import Database
from app.core.errors import UnauthorizedError
from tests.support.api import assert_problem, bearer
from tests.support.app import make_settings, serving
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import AUDIENCE, ISSUER, IdentityProvider


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned_token(header: dict[str, object], claims: dict[str, object]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "auth0|forger",
        "iat": now,
        "exp": now + 600,
        "permissions": ["recruiter:access"],
    } | overrides


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/auth/me", headers=bearer(token))


async def test_valid_token_gives_principal_with_permissions_and_email(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    token = idp.token(
        subject="auth0|abc", permissions=("candidate:access",), email="Cand@Example.com"
    )
    response = await _me(client, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == "auth0|abc"
    assert body["email"] == "Cand@Example.com"
    assert body["emailVerified"] is True
    assert body["permissions"] == ["candidate:access"]
    assert body["roles"] == ["candidate"]
    assert body["recruiter"] is None


async def test_plain_email_claims_are_used_when_namespaced_ones_are_absent(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    token = idp.token(email=None, claims={"email": "plain@example.com", "email_verified": False})
    body = (await _me(client, token)).json()
    assert body["email"] == "plain@example.com"
    assert body["emailVerified"] is False


async def test_registered_recruiter_sees_company_and_subject_is_bound(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    company = await create_company(db_session, name="Acme")
    user = await create_recruiter(db_session, company, email="Jane@Acme.example")
    token = idp.token(subject="auth0|jane", email="jane@acme.example")
    response = await _me(client, token)
    assert response.status_code == 200, response.text
    assert response.json()["recruiter"]["company"] == {"id": company.id, "name": "Acme"}
    await db_session.refresh(user)
    assert user.auth0_sub == "auth0|jane"


async def test_unverified_email_does_not_match_a_recruiter(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    company = await create_company(db_session, name="Acme")
    await create_recruiter(db_session, company, email="jane@acme.example")
    token = idp.token(subject="auth0|impostor", email="jane@acme.example", email_verified=False)
    assert (await _me(client, token)).json()["recruiter"] is None


async def test_expired_token_is_401(client: httpx.AsyncClient, idp: IdentityProvider) -> None:
    past = int(time.time()) - 3600
    response = await _me(client, idp.token(iat=past - 600, exp=past))
    assert_problem(response, 401, "AUTH_TOKEN_EXPIRED")


async def test_token_expired_within_leeway_is_accepted(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    response = await _me(client, idp.token(exp=int(time.time()) - 10))
    assert response.status_code == 200


async def test_token_not_yet_valid_is_401(client: httpx.AsyncClient, idp: IdentityProvider) -> None:
    response = await _me(client, idp.token(nbf=int(time.time()) + 3600))
    assert_problem(response, 401, "AUTH_TOKEN_INVALID")


async def test_token_without_exp_is_401(client: httpx.AsyncClient, idp: IdentityProvider) -> None:
    response = await _me(client, idp.token(exp=None))
    assert_problem(response, 401, "AUTH_TOKEN_INVALID")


async def test_wrong_issuer_is_401(client: httpx.AsyncClient, idp: IdentityProvider) -> None:
    response = await _me(client, idp.token(iss="https://evil.example/"))
    assert_problem(response, 401, "AUTH_TOKEN_INVALID")


async def test_wrong_audience_is_401(client: httpx.AsyncClient, idp: IdentityProvider) -> None:
    response = await _me(client, idp.token(aud="https://another-api.example"))
    assert_problem(response, 401, "AUTH_TOKEN_INVALID")


async def test_alg_none_is_401(client: httpx.AsyncClient, idp: IdentityProvider) -> None:
    token = _unsigned_token({"alg": "none", "typ": "JWT", "kid": "key-1"}, _claims()) + "."
    assert_problem(await _me(client, token), 401, "AUTH_TOKEN_INVALID")


async def test_hs256_signed_with_the_public_key_is_401(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    signing_input = _unsigned_token({"alg": "HS256", "typ": "JWT", "kid": "key-1"}, _claims())
    mac = hmac.new(idp.keys[0].public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(mac)}"
    assert_problem(await _me(client, token), 401, "AUTH_TOKEN_INVALID")


async def test_token_signed_by_another_key_with_a_known_kid_is_401(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    forged = idp.token()
    header, payload, _ = forged.split(".")
    other = idp.token(key=idp.spare_key).split(".")[2]
    assert_problem(await _me(client, f"{header}.{payload}.{other}"), 401, "AUTH_TOKEN_INVALID")


async def test_garbage_and_missing_tokens_are_401(client: httpx.AsyncClient) -> None:
    assert_problem(await _me(client, "not-a-jwt"), 401, "AUTH_TOKEN_INVALID")
    missing = await client.get("/api/auth/me")
    assert_problem(missing, 401, "AUTH_TOKEN_MISSING")
    assert missing.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_kid_triggers_one_refetch_and_then_verifies(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    assert (await _me(client, idp.token())).status_code == 200
    assert idp.fetches == 1
    rotated = idp.rotate_in_spare_key()
    response = await _me(client, idp.token(key=rotated))
    assert response.status_code == 200, response.text
    assert idp.fetches == 2


async def test_unknown_kid_refetches_at_most_once_a_minute(idp: IdentityProvider) -> None:
    clock = [1000.0]
    async with httpx.AsyncClient() as http:
        cache = JwksCache(
            http,
            idp.jwks_url,
            ttl_seconds=3600,
            min_refetch_interval_seconds=60,
            timeout_seconds=2,
            monotonic=lambda: clock[0],
        )
        await cache.key_for("key-1")
        for _ in range(5):
            with pytest.raises(UnauthorizedError):
                await cache.key_for("forged-kid")
        assert idp.fetches == 2  # the first load and a single refetch for the unknown kid
        clock[0] += 61
        with pytest.raises(UnauthorizedError):
            await cache.key_for("forged-kid")
        assert idp.fetches == 3


async def test_concurrent_first_requests_fetch_the_key_set_once(idp: IdentityProvider) -> None:
    async with httpx.AsyncClient() as http:
        cache = JwksCache(
            http,
            idp.jwks_url,
            ttl_seconds=3600,
            min_refetch_interval_seconds=60,
            timeout_seconds=2,
        )
        keys = await asyncio.gather(*(cache.key_for("key-1") for _ in range(20)))
    assert len({id(key) for key in keys}) == 1  # one key object, built once
    assert idp.fetches == 1


async def test_expired_cache_refreshes_and_keeps_stale_keys_when_provider_is_down(
    idp: IdentityProvider,
) -> None:
    clock = [0.0]
    async with httpx.AsyncClient() as http:
        cache = JwksCache(
            http,
            idp.jwks_url,
            ttl_seconds=10,
            min_refetch_interval_seconds=60,
            timeout_seconds=2,
            monotonic=lambda: clock[0],
        )
        first = await cache.key_for("key-1")
        idp.status = 500
        clock[0] += 11
        assert await cache.key_for("key-1") == first
        assert idp.fetches == 2
        clock[0] += 30
        assert await cache.key_for("key-1") == first
        assert idp.fetches == 2  # no retry within the minute
        idp.status = 200
        clock[0] += 31
        await cache.key_for("key-1")
        assert idp.fetches == 3


async def test_jwks_down_is_503_not_401(
    database_url: str, database: Database, idp: IdentityProvider
) -> None:
    idp.status = 503
    async with serving(make_settings(database_url, idp.jwks_url), database) as client:
        response = await _me(client, idp.token())
    assert_problem(response, 503, "AUTH_PROVIDER_UNAVAILABLE")
    assert response.json()["retryable"] is True


async def test_jwks_unreachable_is_503(
    database_url: str, database: Database, idp: IdentityProvider
) -> None:
    closed_port_url = "http://127.0.0.1:9/.well-known/jwks.json"
    async with serving(make_settings(database_url, closed_port_url), database) as client:
        response = await _me(client, idp.token())
    assert_problem(response, 503, "AUTH_PROVIDER_UNAVAILABLE")


async def test_direct_cache_with_no_keys_raises_unavailable(idp: IdentityProvider) -> None:
    idp.status = 500
    async with httpx.AsyncClient() as http:
        cache = JwksCache(
            http, idp.jwks_url, ttl_seconds=10, min_refetch_interval_seconds=0, timeout_seconds=2
        )
        with pytest.raises(AuthProviderUnavailableError):
            await cache.key_for("key-1")


def _add_probe_routes(app: FastAPI) -> None:
    @app.get("/probe/recruiter")
    async def recruiter_probe(recruiter: RecruiterUser) -> dict[str, str]:
        return {"company": recruiter.company.name}

    @app.get("/probe/candidate")
    async def candidate_probe(candidate: CandidateUser) -> dict[str, str]:
        return {"subject": candidate.subject}


async def test_recruiter_and_candidate_gates(
    app: FastAPI, client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    _add_probe_routes(app)
    company = await create_company(db_session, name="Gatekeepers")
    await create_recruiter(db_session, company, email="boss@gate.example")
    candidate = idp.token(permissions=("candidate:access",), email="boss@gate.example")
    stranger = idp.token(subject="auth0|stranger", email="stranger@gate.example")
    registered = idp.token(subject="auth0|boss", email="boss@gate.example")

    assert_problem(
        await client.get("/probe/recruiter", headers=bearer(candidate)), 403, "PERMISSION_DENIED"
    )
    assert_problem(
        await client.get("/probe/recruiter", headers=bearer(stranger)),
        403,
        "RECRUITER_NOT_REGISTERED",
    )
    ok = await client.get("/probe/recruiter", headers=bearer(registered))
    assert ok.json() == {"company": "Gatekeepers"}
    assert_problem(
        await client.get("/probe/candidate", headers=bearer(registered)), 403, "PERMISSION_DENIED"
    )
    assert (await client.get("/probe/candidate", headers=bearer(candidate))).status_code == 200


async def test_recruiter_bound_to_another_subject_is_not_matched_by_email(
    app: FastAPI, client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    _add_probe_routes(app)
    company = await create_company(db_session, name="Bound")
    await create_recruiter(db_session, company, email="pat@bound.example", auth0_sub="auth0|pat")
    other = idp.token(subject="auth0|other", email="pat@bound.example")
    assert_problem(
        await client.get("/probe/recruiter", headers=bearer(other)),
        403,
        "RECRUITER_NOT_REGISTERED",
    )


async def test_roles_claim_grants_access_when_configured(
    database_url: str, database: Database, idp: IdentityProvider
) -> None:
    roles_claim = "https://tenon.dev/roles"
    settings = make_settings(database_url, idp.jwks_url, roles_claim=roles_claim)
    async with serving(settings, database) as client:
        token = idp.token(permissions=(), claims={roles_claim: ["Recruiter"]})
        body = (await _me(client, token)).json()
    assert body["permissions"] == ["recruiter:access"]


async def test_logout_is_204_with_a_valid_token_and_401_without(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    response = await client.post("/api/auth/logout", headers=bearer(idp.token()))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.post("/api/auth/logout"), 401, "AUTH_TOKEN_MISSING")


async def test_dev_bypass_is_absent_outside_local(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/auth/me", headers=bearer("recruiter:dev@example.com"))
    assert_problem(response, 401, "AUTH_TOKEN_INVALID")
    response = await client.get("/api/auth/me", headers={"x-dev-user-email": "dev@example.com"})
    assert_problem(response, 401, "AUTH_TOKEN_MISSING")


async def test_dev_bypass_in_local_accepts_role_prefixed_bearer_and_header(
    database_url: str, database: Database, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    company = await create_company(db_session, name="Local Co")
    await create_recruiter(db_session, company, email="dev@example.com")
    settings = make_settings(
        database_url, idp.jwks_url, app={"env": "local", "dev_auth_bypass": True}
    )
    async with serving(settings, database) as client:
        as_candidate = await client.get(
            "/api/auth/me", headers=bearer("candidate:Cand@example.com")
        )
        as_recruiter = await client.get(
            "/api/auth/me", headers={"x-dev-user-email": "dev@example.com"}
        )
        real_token = await _me(client, idp.token(subject="auth0|real"))
    assert as_candidate.json()["roles"] == ["candidate"]
    assert as_candidate.json()["email"] == "cand@example.com"
    recruiter = as_recruiter.json()["recruiter"]
    assert recruiter["company"]["name"] == "Local Co"
    # Real tokens still work next to the bypass.
    assert real_token.json()["subject"] == "auth0|real"
    # Dev identities never bind the recruiter's Auth0 subject.
    user = await db_session.get(User, recruiter["id"])
    assert user is not None
    assert user.auth0_sub is None


def _verifier(http: httpx.AsyncClient, idp: IdentityProvider, clock: list[float]) -> TokenVerifier:
    jwks = JwksCache(
        http, idp.jwks_url, ttl_seconds=3600, min_refetch_interval_seconds=60, timeout_seconds=2
    )
    settings = make_settings("postgresql://unused/db", idp.jwks_url).auth
    return TokenVerifier(jwks, settings, clock=lambda: clock[0])


async def test_a_verified_token_is_not_verified_again_until_it_expires(
    idp: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[str] = []
    decode = tokens.jwt.decode

    def counting_decode(token: str, *args: object, **kwargs: object) -> dict[str, object]:
        decoded.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tokens.jwt, "decode", counting_decode)
    now = time.time()
    clock = [now]
    token = idp.token(subject="auth0|cached", exp=int(now) + 600)
    async with httpx.AsyncClient() as http:
        verifier = _verifier(http, idp, clock)
        first = await verifier.verify(token)
        assert await verifier.verify(token) is first
        assert decoded == [token]
        # Within the leeway (60 s) after `exp` it is still accepted, past it refused.
        clock[0] = now + 600 + 59
        assert (await verifier.verify(token)).subject == "auth0|cached"
        clock[0] = now + 600 + 61
        with pytest.raises(UnauthorizedError) as refused:
            await verifier.verify(token)
        assert refused.value.code == "AUTH_TOKEN_EXPIRED"
    assert decoded == [token]


async def test_a_rejected_token_is_not_remembered(idp: IdentityProvider) -> None:
    clock = [time.time()]
    wrong_audience = idp.token(aud="https://another.example")
    async with httpx.AsyncClient() as http:
        verifier = _verifier(http, idp, clock)
        for _ in range(2):
            with pytest.raises(UnauthorizedError) as rejected:
                await verifier.verify(wrong_audience)
            assert rejected.value.code == "AUTH_TOKEN_INVALID"


async def test_remembered_tokens_are_bounded_oldest_first(
    idp: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 2)
    clock = [time.time()]
    first, second, third = (idp.token(subject=f"auth0|u{n}") for n in range(3))
    async with httpx.AsyncClient() as http:
        verifier = _verifier(http, idp, clock)
        for token in (first, second, third):
            await verifier.verify(token)
        decoded: list[str] = []
        decode = tokens.jwt.decode

        def counting_decode(token: str, *args: object, **kwargs: object) -> dict[str, object]:
            decoded.append(token)
            return decode(token, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(tokens.jwt, "decode", counting_decode)
        await verifier.verify(third)
        await verifier.verify(first)
    assert decoded == [first]
