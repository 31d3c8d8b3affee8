"""Settings: environment parsing and the combinations the service refuses to start with."""

from __future__ import annotations

import subprocess
import sys
from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from app.core.settings import (
    LOCAL_SECRET_KEY,
    AppSettings,
    AuthSettings,
    Settings,
    load_settings,
)
from tests.support.paths import REPOSITORY_ROOT
from tests.support.settings import documented_env_names

CONFIGURED_AUTH = {"issuer": "https://t.example/", "api_audience": "https://api.example"}


STRONG_KEY = "k" * 40


def _settings(
    env: str, *, bypass: bool = False, secret_key: str = STRONG_KEY, **auth: str
) -> Settings:
    return Settings(
        app=AppSettings(_env_file=None, env=env, dev_auth_bypass=bypass, secret_key=secret_key),
        auth=AuthSettings(_env_file=None, **auth),
    )


@pytest.mark.parametrize("env", ["test", "staging", "production"])
def test_dev_bypass_is_refused_outside_local(env: str) -> None:
    with pytest.raises(ValidationError, match="DEV_AUTH_BYPASS"):
        _settings(env, bypass=True, **CONFIGURED_AUTH)


def test_dev_bypass_is_allowed_locally_without_auth0() -> None:
    assert _settings("local", bypass=True).app.dev_auth_bypass is True


@pytest.mark.parametrize("env", ["staging", "production"])
def test_auth0_issuer_and_audience_are_required_outside_local_and_test(env: str) -> None:
    with pytest.raises(ValidationError, match="TENON_AUTH0_API_AUDIENCE"):
        _settings(env)
    with pytest.raises(ValidationError, match="TENON_AUTH0_ISSUER"):
        _settings(env, api_audience="https://api.example")
    assert _settings(env, domain="tenant.auth0.com", api_audience="x").auth.configured


@pytest.mark.parametrize("env", ["staging", "production"])
def test_a_real_secret_key_is_required_outside_local_and_test(env: str) -> None:
    with pytest.raises(ValidationError, match="TENON_SECRET_KEY"):
        _settings(env, secret_key=LOCAL_SECRET_KEY, **CONFIGURED_AUTH)
    with pytest.raises(ValidationError, match="TENON_SECRET_KEY"):
        _settings(env, secret_key="short", **CONFIGURED_AUTH)
    assert _settings(env, **CONFIGURED_AUTH).app.env == env


@pytest.mark.parametrize("env", ["local", "test"])
def test_local_and_test_start_without_auth0(env: str) -> None:
    assert _settings(env).auth.configured is False


def test_issuer_and_jwks_url_derive_from_domain() -> None:
    auth = AuthSettings(_env_file=None, domain="tenant.eu.auth0.com")
    assert auth.effective_issuer == "https://tenant.eu.auth0.com/"
    assert auth.effective_jwks_url == "https://tenant.eu.auth0.com/.well-known/jwks.json"


def test_environment_variables_are_read_with_their_documented_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TENON_ENV", "local")
    monkeypatch.setenv("DEV_AUTH_BYPASS", "1")
    monkeypatch.setenv("DEBUG_PERF", "true")
    monkeypatch.setenv("TENON_TRUSTED_PROXY_CIDRS", "10.0.0.0/8, 192.168.1.1")
    monkeypatch.setenv("TENON_CORS_ALLOW_ORIGINS", "https://app.example,https://b.example")
    monkeypatch.setenv("TENON_API_PREFIX", "v1/")
    monkeypatch.setenv("TENON_ADMIN_API_KEY", "k")
    monkeypatch.setenv("TENON_AUTH0_API_AUDIENCE", "aud")
    settings = load_settings()
    assert settings.app.dev_auth_bypass is True
    assert settings.app.debug_perf is True
    assert settings.app.trusted_proxy_cidrs == [
        ip_network("10.0.0.0/8"),
        ip_network("192.168.1.1/32"),
    ]
    assert settings.app.cors_allow_origins == ["https://app.example", "https://b.example"]
    assert settings.app.api_prefix == "/v1"
    assert settings.app.admin_api_key is not None
    assert "k" not in repr(settings.app.admin_api_key)
    assert settings.auth.api_audience == "aud"


def test_invalid_proxy_cidr_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENON_TRUSTED_PROXY_CIDRS", "10.0.0.0/8,not-an-ip")
    with pytest.raises(ValidationError):
        load_settings()


def test_json_logs_default_to_off_only_locally() -> None:
    assert AppSettings(_env_file=None, env="local").json_logs is False
    assert AppSettings(_env_file=None, env="production").json_logs is True
    assert AppSettings(_env_file=None, env="production", log_json=False).json_logs is False


def test_cli_refuses_to_start_with_bypass_in_production() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        env={"TENON_ENV": "production", "DEV_AUTH_BYPASS": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPOSITORY_ROOT,
    )
    assert result.returncode == 2
    assert "DEV_AUTH_BYPASS" in result.stderr


def _documented_names() -> set[str]:
    lines = (REPOSITORY_ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert _documented_names() == documented_env_names()
