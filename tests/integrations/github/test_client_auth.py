"""GitHub client authentication: the App's JWT, installation tokens fetched, cached,
refreshed and invalidated on a 401, the choice of credentials, and no token in logs or
errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from pydantic import SecretStr

from app.core.settings import GitHubSettings
from app.integrations.github.auth import AppAuth, TokenAuth, build_auth
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubTokenInvalidError
from tests.support.github_client import (
    API,
    APP_ID,
    INSTALLATION_ID,
    INSTALLATION_TOKEN,
    REPO,
    SECONDARY_MESSAGE,
    START,
    TOKEN,
    FakeTime,
    make_client,
    make_settings,
    repo_url,
    repository,
)
from tests.support.logs import capture_every_level


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def app_settings(rsa_key: rsa.RSAPrivateKey) -> GitHubSettings:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return make_settings(
        token=None,
        app_id=APP_ID,
        app_private_key=SecretStr(pem),
        app_installation_id=INSTALLATION_ID,
    )


def public_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def decode_jwt(token: str, rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    # The fake clock is in the past; signature and algorithm are what is checked here.
    claims: dict[str, Any] = jwt.decode(
        token,
        public_pem(rsa_key),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    return claims


def token_body(fake_time: FakeTime, value: str = INSTALLATION_TOKEN) -> dict[str, Any]:
    expires_at = fake_time.now() + timedelta(hours=1)
    return {
        "token": value,
        "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
        "permissions": {"contents": "write"},
    }


def token_route(api: respx.MockRouter) -> respx.Route:
    return api.post(f"{API}/app/installations/{INSTALLATION_ID}/access_tokens")


@pytest.fixture
def app_auth(http: httpx.AsyncClient, app_settings: GitHubSettings, fake_time: FakeTime) -> AppAuth:
    return AppAuth(http, app_settings, clock=fake_time)


@pytest.fixture
def app_github(
    http: httpx.AsyncClient, fake_time: FakeTime, app_settings: GitHubSettings, app_auth: AppAuth
) -> GitHubClient:
    """A client that authenticates as the App's installation."""
    return make_client(http, fake_time, app_settings, app_auth)


def test_app_jwt_is_rs256_with_backdated_iat_and_short_exp(
    app_auth: AppAuth, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = app_auth.app_jwt()

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = decode_jwt(token, rsa_key)
    assert claims["iss"] == APP_ID
    assert claims["iat"] == int(START) - 60
    assert claims["exp"] <= int(START) + 600
    assert claims["exp"] > int(START)


async def test_installation_token_is_fetched_with_the_jwt_and_cached(
    api: respx.MockRouter,
    app_github: GitHubClient,
    fake_time: FakeTime,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    tokens = token_route(api).respond(201, json=token_body(fake_time))
    repo = api.get(repo_url()).respond(200, json=repository())

    await app_github.get_repository(REPO)
    await app_github.get_repository(REPO)

    assert tokens.call_count == 1
    scheme, app_jwt = tokens.calls.last.request.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert decode_jwt(app_jwt, rsa_key)["iss"] == APP_ID
    assert tokens.calls.last.request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert repo.calls.last.request.headers["Authorization"] == f"Bearer {INSTALLATION_TOKEN}"


async def test_installation_token_is_refreshed_within_five_minutes_of_expiry(
    api: respx.MockRouter, app_auth: AppAuth, fake_time: FakeTime
) -> None:
    tokens = token_route(api).mock(
        side_effect=[
            httpx.Response(201, json=token_body(fake_time, "ghs_first")),
            httpx.Response(201, json=token_body(fake_time, "ghs_second")),
        ]
    )

    assert await app_auth.authorization() == "Bearer ghs_first"
    fake_time.advance(54 * 60)
    assert await app_auth.authorization() == "Bearer ghs_first"
    fake_time.advance(2 * 60)
    assert await app_auth.authorization() == "Bearer ghs_second"
    assert tokens.call_count == 2


async def test_concurrent_first_calls_fetch_one_installation_token(
    app_settings: GitHubSettings, fake_time: FakeTime
) -> None:
    token_requests = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal token_requests
        token_requests += 1
        await asyncio.sleep(0.01)
        return httpx.Response(201, json=token_body(fake_time))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as token_http:
        auth = AppAuth(token_http, app_settings, clock=fake_time)
        headers = await asyncio.gather(*(auth.authorization() for _ in range(20)))

    assert token_requests == 1
    assert set(headers) == {f"Bearer {INSTALLATION_TOKEN}"}


async def test_401_invalidates_the_installation_token_and_retries_once(
    api: respx.MockRouter, app_github: GitHubClient, fake_time: FakeTime
) -> None:
    tokens = token_route(api).mock(
        side_effect=[
            httpx.Response(201, json=token_body(fake_time, "ghs_revoked")),
            httpx.Response(201, json=token_body(fake_time, "ghs_fresh")),
        ]
    )
    repo = api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(401, json={"message": "Bad credentials"}),
            httpx.Response(200, json=repository()),
        ]
    )

    await app_github.get_repository(REPO)

    assert tokens.call_count == 2
    assert [call.request.headers["Authorization"] for call in repo.calls] == [
        "Bearer ghs_revoked",
        "Bearer ghs_fresh",
    ]


async def test_rejected_app_jwt_is_token_invalid(api: respx.MockRouter, app_auth: AppAuth) -> None:
    token_route(api).respond(401, json={"message": "A JSON web token could not be decoded"})

    with pytest.raises(GitHubTokenInvalidError):
        await app_auth.authorization()


async def test_repo_installation_is_read_with_the_app_jwt(
    api: respx.MockRouter,
    app_github: GitHubClient,
    fake_time: FakeTime,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    tokens = token_route(api).respond(201, json=token_body(fake_time))
    route = api.get(repo_url("/installation")).respond(
        200, json={"id": INSTALLATION_ID, "account": {"login": "tenon-workspaces"}}
    )

    installation = await app_github.get_repo_installation(REPO)

    assert installation.id == INSTALLATION_ID
    assert installation.account.login == "tenon-workspaces"
    assert tokens.call_count == 0
    app_jwt = route.calls.last.request.headers["Authorization"].removeprefix("Bearer ")
    assert decode_jwt(app_jwt, rsa_key)["iss"] == APP_ID


def test_build_auth_prefers_the_app_then_the_token(
    http: httpx.AsyncClient, app_settings: GitHubSettings
) -> None:
    assert build_auth(http, make_settings(token=None)) is None
    assert isinstance(build_auth(http, make_settings()), TokenAuth)
    with_both = app_settings.model_copy(update={"token": SecretStr(TOKEN)})
    assert isinstance(build_auth(http, with_both), AppAuth)


class CountingAuth:
    def __init__(self) -> None:
        self.invalidations = 0

    async def authorization(self) -> str:
        return f"Bearer {TOKEN}"

    def invalidate(self) -> None:
        self.invalidations += 1


async def test_second_401_is_token_invalid(
    api: respx.MockRouter, http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    auth = CountingAuth()
    github = make_client(http, fake_time, auth=auth)
    route = api.get(repo_url()).respond(401, json={"message": "Bad credentials"})

    with pytest.raises(GitHubTokenInvalidError) as caught:
        await github.get_repository(REPO)

    assert route.call_count == 2
    assert auth.invalidations == 1
    assert caught.value.code == "GITHUB_TOKEN_INVALID"
    assert caught.value.status == 502
    assert caught.value.retryable is False
    assert caught.value.github_status == 401


# Secrets


async def test_tokens_never_appear_in_logs_or_errors(
    api: respx.MockRouter, http: httpx.AsyncClient, app_github: GitHubClient, fake_time: FakeTime
) -> None:
    token_route(api).mock(
        side_effect=[
            httpx.Response(201, json=token_body(fake_time)),
            httpx.Response(201, json=token_body(fake_time)),
        ]
    )
    api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(502),
            httpx.Response(403, json={"message": SECONDARY_MESSAGE}, headers={"retry-after": "1"}),
            httpx.Response(401, json={"message": "Bad credentials"}),
            httpx.Response(401, json={"message": "Bad credentials"}),
        ]
    )
    token_github = make_client(http, fake_time)
    api.get(f"{API}/users/octocat").mock(side_effect=httpx.ConnectError)
    raised: list[Exception] = []

    with capture_every_level() as logs:
        for call in (app_github.get_repository(REPO), token_github.get_user("octocat")):
            try:
                await call
            except GitHubError as exc:
                raised.append(exc)

    assert len(raised) == 2
    assert {entry["event"] for entry in logs} >= {
        "github.request",
        "github.request.retry",
        "github.rate_limited",
    }
    text = repr(logs) + " ".join(f"{exc} {exc!r} {exc.__dict__}" for exc in raised)
    for secret in (TOKEN, INSTALLATION_TOKEN, "eyJ"):
        assert secret not in text
