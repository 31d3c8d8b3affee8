"""Settings: environment parsing and the combinations the service refuses to start with."""

from __future__ import annotations

import os
import shutil
from ipaddress import ip_network
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.settings import (
    LOCAL_ADMIN_API_KEY,
    LOCAL_EMULATOR_TOKEN,
    LOCAL_SECRET_KEY,
    LOCAL_WEBHOOK_SECRET,
    REPO_NAME_PATTERN,
    AppSettings,
    AuthSettings,
    EmailSettings,
    Settings,
    SettingsError,
    load_settings,
)
from app.integrations.github.template_catalog import TEMPLATE_KEYS, catalog_from
from tests.support.cli import DEPLOYED, run_tenon
from tests.support.paths import REPOSITORY_ROOT
from tests.support.settings import documented_env_names

CONFIGURED_AUTH = {"issuer": "https://t.example/", "api_audience": "https://api.example"}


STRONG_KEY = "k" * 40


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no `.env`) and an environment without Tenon settings."""
    for name in os.environ:
        if name.startswith("TENON_") or name in ("DEV_AUTH_BYPASS", "DEBUG_PERF"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _settings(
    env: str,
    *,
    bypass: bool = False,
    secret_key: str = STRONG_KEY,
    email_provider: str = "smtp",
    **auth: str,
) -> Settings:
    return Settings(
        app=AppSettings(
            _env_file=None,
            env=env,
            dev_auth_bypass=bypass,
            secret_key=secret_key,
            public_api_url="https://api.example",
        ),
        auth=AuthSettings(_env_file=None, **auth),
        email=EmailSettings(_env_file=None, email_provider=email_provider),
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
def test_the_console_email_provider_is_refused_outside_local_and_test(env: str) -> None:
    # It prints every email, invite links with their tokens included.
    with pytest.raises(ValidationError, match="TENON_EMAIL_PROVIDER=console") as caught:
        _settings(env, email_provider="console", **CONFIGURED_AUTH)
    assert "TENON_SECRET_KEY" not in str(caught.value)
    assert _settings(env, email_provider="smtp", **CONFIGURED_AUTH).email.email_provider == "smtp"


@pytest.mark.parametrize("env", ["local", "test"])
def test_the_console_email_provider_is_the_local_default(env: str) -> None:
    assert _settings(env, email_provider="console").email.email_provider == "console"
    assert EmailSettings(_env_file=None).email_provider == "console"


def test_load_settings_names_the_console_email_provider_in_production(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TENON_ENV", "production")
    monkeypatch.setenv("TENON_EMAIL_PROVIDER", "console")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == [
        "TENON_EMAIL_PROVIDER=console only prints emails; choose smtp, resend or sendgrid "
        "when TENON_ENV=production"
    ]


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
    workdir: Path, monkeypatch: pytest.MonkeyPatch
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


def test_invalid_proxy_cidr_is_refused(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENON_TRUSTED_PROXY_CIDRS", "10.0.0.0/8,not-an-ip")
    with pytest.raises(SettingsError, match=r"^TENON_TRUSTED_PROXY_CIDRS: 'not-an-ip' does not"):
        load_settings()


def test_template_repositories_can_be_renamed_per_key(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "TENON_GITHUB_TEMPLATE_REPOS",
        '{"go-gin": {"code": "acme-go", "debug": "other-org/acme-go-broken"}}',
    )
    monkeypatch.setenv("TENON_GITHUB_TEMPLATE_OWNER", "acme-templates")
    catalog = catalog_from(load_settings().github)

    go = catalog.get("go-gin")
    assert go is not None
    assert (go.code_repo, go.debug_repo) == ("acme-templates/acme-go", "other-org/acme-go-broken")
    assert catalog.for_repository("Other-Org/acme-go-broken") == go
    # Keys not named keep their default names.
    python = catalog.get("python-fastapi")
    assert python is not None
    assert (python.code_repo, python.debug_repo) == (
        "acme-templates/python-fastapi",
        "acme-templates/python-fastapi-debug",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            '{"cobol": {"code": "c", "debug": "d"}}',
            "TENON_GITHUB_TEMPLATE_REPOS: unknown template keys: cobol (known: "
            + ", ".join(TEMPLATE_KEYS)
            + """) (got '{"cobol": {"code": "c", "debug": "d"}}')""",
        ),
        (
            "go-gin=acme",
            (
                "TENON_GITHUB_TEMPLATE_REPOS: not a JSON object (Expecting value) "
                "(got 'go-gin=acme')"
            ),
        ),
        ('["go-gin"]', "TENON_GITHUB_TEMPLATE_REPOS: Input should be a valid dictionary"),
        (
            '{"go-gin": "acme-go"}',
            "TENON_GITHUB_TEMPLATE_REPOS: go-gin: Input should be a valid dictionary or instance "
            "of TemplateRepos (got 'acme-go')",
        ),
        (
            '{"go-gin": {"code": "acme-go"}}',
            "TENON_GITHUB_TEMPLATE_REPOS: go-gin.debug: Field required",
        ),
        (
            '{"go-gin": {"code": "acme go", "debug": "d"}}',
            "TENON_GITHUB_TEMPLATE_REPOS: go-gin.code: String should match pattern "
            f"'{REPO_NAME_PATTERN}' (got 'acme go')",
        ),
        (
            '{"go-gin": {"code": "c", "debug": "d", "grader": "g"}}',
            "TENON_GITHUB_TEMPLATE_REPOS: go-gin.grader: Extra inputs are not permitted (got 'g')",
        ),
    ],
)
def test_malformed_template_repositories_are_refused_naming_the_variable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("TENON_GITHUB_TEMPLATE_REPOS", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == [problem]


def test_the_env_example_as_copied_is_valid_and_its_empty_values_are_unset(
    workdir: Path,
) -> None:
    shutil.copy(REPOSITORY_ROOT / ".env.example", workdir / ".env")
    settings = load_settings()
    assert settings.app.env == "local"
    assert settings.app.log_json is None
    assert settings.app.secret_key.get_secret_value() == LOCAL_SECRET_KEY
    assert settings.app.admin_api_key is None
    assert settings.app.trusted_proxy_cidrs == []
    assert settings.db.database_url is None
    github = settings.github
    assert (github.token, github.app_id, github.app_private_key) == (None, None, None)
    assert github.app_installation_id is None
    assert github.webhook_secret is None
    # Left unset so that `tenon dev` turns it on.
    assert "dev_auth_bypass" not in settings.app.model_fields_set


def test_empty_environment_variables_are_unset_and_do_not_hide_env_file_values(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / ".env").write_text("TENON_GITHUB_ORG=acme\nTENON_JOBS_CONCURRENCY=7\n")
    for name in (
        "TENON_ADMIN_API_KEY",
        "TENON_LOG_JSON",
        "TENON_DATABASE_URL",
        "TENON_GITHUB_APP_ID",
        "TENON_GITHUB_APP_PRIVATE_KEY",
        "TENON_GITHUB_APP_INSTALLATION_ID",
        "TENON_SMTP_PORT",
        "TENON_GITHUB_ORG",
        "TENON_JOBS_CONCURRENCY",
    ):
        monkeypatch.setenv(name, "")
    settings = load_settings()
    # An empty key used to mount the admin routes and accept requests without X-Admin-Key
    # (docker-compose passes `${TENON_ADMIN_API_KEY:-}`).
    assert settings.app.admin_api_key is None
    assert settings.app.log_json is None
    assert settings.db.database_url is None
    assert settings.github.app_id is None
    assert settings.email.smtp_port == 587
    assert settings.github.org == "acme"
    assert settings.jobs.concurrency == 7


def test_every_problem_is_reported_at_once_by_variable_name_without_pydantic_noise(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENON_LOG_JSON", "sometimes")
    monkeypatch.setenv("DEV_AUTH_BYPASS", "maybe")
    monkeypatch.setenv("TENON_DATABASE_URL", "mysql://tenon:hunter2@db/tenon")
    monkeypatch.setenv("TENON_AUTH0_LEEWAY_SECONDS", "-1")
    monkeypatch.setenv("TENON_JOBS_CONCURRENCY", "0")
    monkeypatch.setenv("TENON_GITHUB_APP_ID", "12")
    monkeypatch.setenv("TENON_SMTP_PORT", "smtp")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    problems = caught.value.problems
    assert problems == [
        "TENON_LOG_JSON: Input should be a valid boolean, unable to interpret input "
        "(got 'sometimes')",
        "DEV_AUTH_BYPASS: Input should be a valid boolean, unable to interpret input (got 'maybe')",
        # A secret's value is never shown.
        "TENON_DATABASE_URL: expected a URL of the form postgresql://user:password@host:5432/db",
        "TENON_AUTH0_LEEWAY_SECONDS: Input should be greater than or equal to 0 (got '-1')",
        "TENON_JOBS_CONCURRENCY: Input should be greater than 0 (got '0')",
        "GitHub App auth needs TENON_GITHUB_APP_ID, TENON_GITHUB_APP_PRIVATE_KEY and "
        "TENON_GITHUB_APP_INSTALLATION_ID together",
        "TENON_SMTP_PORT: Input should be a valid integer, unable to parse string as an integer "
        "(got 'smtp')",
    ]


def test_a_malformed_env_file_line_is_refused_with_file_and_line(workdir: Path) -> None:
    (workdir / ".env").write_text(
        "TENON_ENV=local\n"
        "this is not a setting\n"
        "# a comment\n"
        'TENON_GITHUB_TOKEN="ghp_unterminated\n'
        "TENON_JOBS_CONCURRENCY=0\n"
    )
    with pytest.raises(SettingsError) as caught:
        load_settings()
    env_file = workdir.resolve() / ".env"
    assert caught.value.problems == [
        f"{env_file}:2: cannot parse this line "
        "(expected NAME=value; quote values holding quotes or newlines)",
        f"{env_file}:4: cannot parse this line "
        "(expected NAME=value; quote values holding quotes or newlines)",
        "TENON_JOBS_CONCURRENCY: Input should be greater than 0 (got '0')",
    ]


def test_cli_reports_settings_problems_in_one_list_naming_variables_and_lines(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text('TENON_ENV=local\nTENON_SMTP_PASSWORD="s3cret\n')
    result = run_tenon("migrate", cwd=tmp_path, TENON_JOBS_CONCURRENCY="none")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tenon: refusing to start, invalid settings:",
        f"  {tmp_path.resolve() / '.env'}:2: cannot parse this line "
        "(expected NAME=value; quote values holding quotes or newlines)",
        "  TENON_JOBS_CONCURRENCY: Input should be a valid integer, unable to parse string as "
        "an integer (got 'none')",
    ]


@pytest.mark.parametrize("env", ["staging", "production"])
@pytest.mark.parametrize(
    ("variable", "local_value"),
    [
        ("TENON_ADMIN_API_KEY", LOCAL_ADMIN_API_KEY),
        ("TENON_GITHUB_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET),
        ("TENON_GITHUB_TOKEN", LOCAL_EMULATOR_TOKEN),
    ],
)
def test_a_deployed_service_refuses_each_public_local_value(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, env: str, variable: str, local_value: str
) -> None:
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(variable, local_value)
    monkeypatch.setenv("TENON_ENV", env)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == [
        f"{variable} is {local_value!r}, a public value for local use; "
        f"set a secret of your own when TENON_ENV={env}"
    ]
    monkeypatch.setenv(variable, "a-secret-of-our-own")
    assert load_settings().app.env == env


@pytest.mark.parametrize("env", ["local", "test"])
def test_local_values_are_fine_locally(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setenv("TENON_ENV", env)
    monkeypatch.setenv("TENON_ADMIN_API_KEY", LOCAL_ADMIN_API_KEY)
    monkeypatch.setenv("TENON_GITHUB_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET)
    monkeypatch.setenv("TENON_GITHUB_TOKEN", LOCAL_EMULATOR_TOKEN)
    assert load_settings().app.env == env


def test_json_logs_default_to_off_only_locally() -> None:
    assert AppSettings(_env_file=None, env="local").json_logs is False
    assert AppSettings(_env_file=None, env="production").json_logs is True
    assert AppSettings(_env_file=None, env="production", log_json=False).json_logs is False


def test_cli_refuses_to_start_with_bypass_in_production(tmp_path: Path) -> None:
    result = run_tenon(
        "migrate", cwd=tmp_path, TENON_ENV="production", DEV_AUTH_BYPASS="1", **DEPLOYED
    )
    assert result.returncode == 2
    assert "DEV_AUTH_BYPASS" in result.stderr


def _documented_names() -> set[str]:
    lines = (REPOSITORY_ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert _documented_names() == documented_env_names()
