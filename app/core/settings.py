"""Settings, one class per concern, read from `TENON_*` environment variables and `.env`.

`Settings` composes the groups and refuses dangerous combinations at start-up;
`load_settings` reports every problem at once, each naming its environment variable.
An empty value means unset, in the environment and in `.env` alike.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import Annotated, Literal, Self, get_args
from urllib.parse import urlsplit

from dotenv.parser import parse_stream
from fastapi import Depends, Request
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.integrations.ai.prices import model_and_price
from app.integrations.github.template_catalog import TEMPLATE_KEYS

Environment = Literal["local", "test", "staging", "production"]
Network = IPv4Network | IPv6Network
# Read from the working directory; the environment wins over it.
ENV_FILE = Path(".env")

# The local development values (`tenon dev`, scripts/run.sh, the GitHub emulator). They are
# public, so staging and production refuse them.
LOCAL_SECRET_KEY = "tenon-local-development-secret-key-not-for-production"  # noqa: S105
LOCAL_ADMIN_API_KEY = "local-admin-key"
LOCAL_WEBHOOK_SECRET = "local-webhook-secret"  # noqa: S105
LOCAL_EMULATOR_TOKEN = "local-emulator-token"  # noqa: S105
LOCAL_PUBLIC_API_URL = "http://localhost:8000"


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=ENV_FILE,
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
    )


_HTTP_URL = re.compile(r"^https?://[^/?#\s]+(/[^?#\s]*)?\Z")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class AppSettings(BaseSettings):
    model_config = _config("TENON_")

    env: Environment = "local"
    api_prefix: str = "/api"
    candidate_portal_base_url: str = "http://localhost:3000"
    # Where browsers reach this API: the local media store's signed URLs start with it.
    public_api_url: str = LOCAL_PUBLIC_API_URL
    # Where the portal serves an invite; `{token}` is replaced by the invite's token.
    invite_path: str = "/candidate/session/{token}"
    # How long an invite stays open; recruiters can extend a session.
    invite_ttl_days: int = Field(default=14, gt=0)
    # Encrypts invite tokens at rest; required outside local/test (the default is public).
    secret_key: SecretStr = SecretStr(LOCAL_SECRET_KEY)
    max_request_body_bytes: int = Field(default=1_048_576, gt=0)
    # A text task's draft; at most the submission's limit (MAX_CONTENT_LENGTH in
    # app/submissions/schemas.py), so any saved draft can be submitted as it is.
    draft_max_chars: int = Field(default=100_000, gt=0, le=100_000)
    # A request that has not started its answer by then gets 503 REQUEST_TIMEOUT and its work
    # is cancelled; streams run on once started.
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    trusted_proxy_cidrs: Annotated[list[Network], NoDecode] = []
    cors_allow_origins: Annotated[list[str], NoDecode] = []
    admin_api_key: SecretStr | None = None
    # Bearer token a Prometheus scraper sends to /metrics; when unset /metrics does not exist.
    metrics_token: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # None means: JSON everywhere except local.
    log_json: bool | None = None
    debug_perf: bool = Field(
        default=False, validation_alias=AliasChoices("DEBUG_PERF", "TENON_DEBUG_PERF")
    )
    dev_auth_bypass: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "DEV_AUTH_BYPASS", "TENON_DEV_AUTH_BYPASS", "dev_auth_bypass"
        ),
    )

    @field_validator("trusted_proxy_cidrs", mode="before")
    @classmethod
    def _parse_cidrs(cls, value: object) -> object:
        items = _split_csv(value)
        if isinstance(items, list):
            return [ip_network(str(item), strict=False) for item in items]
        return items

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("invite_path")
    @classmethod
    def _check_invite_path(cls, value: str) -> str:
        if not value.startswith("/") or value.count("{token}") != 1:
            raise ValueError("must start with / and contain {token} once")
        if value.replace("{token}", "").count("{") or value.count("}") != 1:
            raise ValueError("may hold no placeholder but {token}")
        return value

    @field_validator("public_api_url")
    @classmethod
    def _check_public_api_url(cls, value: str) -> str:
        if not _HTTP_URL.match(value):
            raise ValueError("expected an absolute http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("api_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        return "/" + value.strip("/") if value.strip("/") else ""

    @property
    def json_logs(self) -> bool:
        return self.env != "local" if self.log_json is None else self.log_json

    @property
    def deployed(self) -> bool:
        """Staging and production: reachable by others, so no public local values."""
        return self.env in ("staging", "production")


class DatabaseSettings(BaseSettings):
    model_config = _config("TENON_")

    # Unset means: start an embedded PostgreSQL under `data_dir`.
    database_url: SecretStr | None = None
    # Where the LISTEN connections go when TENON_DATABASE_URL points at a pooler in
    # transaction mode (a LISTEN needs a session of its own). Unset: TENON_DATABASE_URL.
    database_listen_url: SecretStr | None = None
    data_dir: Path = Path(".data")
    # Connections one process may open: pool size + overflow (README "Connection budget").
    # No overflow by default: the pool closes an overflow connection as it comes back, so
    # under steady load above the pool size every request would open a new connection.
    db_pool_size: int = Field(default=20, gt=0)
    db_max_overflow: int = Field(default=0, ge=0)
    # A pooled connection idle at least this long is pinged before use (the server may have
    # restarted meanwhile, or a proxy closed it); a busier one is used as it is, and a
    # failure on it drops every pooled connection.
    db_ping_after_idle_seconds: float = Field(default=10.0, ge=0)
    # Connections older than this are replaced (a proxy's or firewall's idle limits).
    db_pool_recycle_seconds: int = Field(default=1800, gt=0)
    # PostgreSQL cancels a statement running longer than this.
    db_statement_timeout_ms: int = Field(default=10_000, gt=0)
    # The client's own limit on one command: it catches a server that stopped answering, so
    # it must exceed the statement timeout (a live server ends a slow statement first).
    db_command_timeout_seconds: float = Field(default=15.0, gt=0)
    # Longest wait to open a connection, and for a free pooled one.
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _command_outlasts_statement(self) -> Self:
        if self.db_command_timeout_seconds * 1000 <= self.db_statement_timeout_ms:
            raise ValueError(
                "TENON_DB_COMMAND_TIMEOUT_SECONDS must exceed TENON_DB_STATEMENT_TIMEOUT_MS "
                f"({self.db_command_timeout_seconds:g} s is not above "
                f"{self.db_statement_timeout_ms} ms)"
            )
        return self

    @field_validator("database_url", "database_listen_url")
    @classmethod
    def _is_postgresql(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        try:
            backend = make_url(value.get_secret_value()).get_backend_name()
        except ArgumentError:
            backend = None
        if backend != "postgresql":
            # The value may hold a password: never echo it.
            raise ValueError("expected a URL of the form postgresql://user:password@host:5432/db")
        return value


class AuthSettings(BaseSettings):
    model_config = _config("TENON_AUTH0_")

    domain: str | None = None
    issuer: str | None = None
    jwks_url: str | None = None
    api_audience: str | None = None
    claim_namespace: str = "https://tenon.dev/"
    permissions_claim: str = "permissions"
    # Optional namespaced claim listing role names ("recruiter", "candidate");
    # each grants the matching `<role>:access` permission.
    roles_claim: str | None = None
    leeway_seconds: int = Field(default=60, ge=0)
    jwks_cache_ttl_seconds: int = Field(default=3600, gt=0)
    jwks_refetch_min_interval_seconds: int = Field(default=60, ge=0)
    jwks_timeout_seconds: float = Field(default=5.0, gt=0)

    @property
    def effective_issuer(self) -> str | None:
        if self.issuer:
            return self.issuer
        return f"https://{self.domain}/" if self.domain else None

    @property
    def effective_jwks_url(self) -> str | None:
        if self.jwks_url:
            return self.jwks_url
        issuer = self.effective_issuer
        return f"{issuer.rstrip('/')}/.well-known/jwks.json" if issuer else None

    @property
    def configured(self) -> bool:
        return bool(self.effective_issuer and self.api_audience)


class JobSettings(BaseSettings):
    model_config = _config("TENON_JOBS_")

    # Run a worker inside each API process; turn off when `tenon worker` processes run.
    in_process: bool = True
    concurrency: int = Field(default=4, gt=0)
    # Fallback when no LISTEN/NOTIFY wake-up arrives.
    poll_interval_seconds: float = Field(default=2.0, gt=0)
    # A job whose worker stops renewing this lease is claimed again by another worker.
    lease_seconds: float = Field(default=60.0, gt=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Touched on every turn of a `tenon worker`'s loop; `tenon worker --check` reads it.
    heartbeat_file: Path | None = None


# A repository name as GitHub allows it, optionally after its owner.
REPO_NAME_PATTERN = r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/)?[A-Za-z0-9._-]{1,100}$"


class TemplateRepos(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=REPO_NAME_PATTERN)]
    debug: Annotated[str, StringConstraints(pattern=REPO_NAME_PATTERN)]


class GitHubSettings(BaseSettings):
    model_config = _config("TENON_GITHUB_")

    api_base: str = "https://api.github.com"
    # Auth: a token, or a GitHub App (id + PEM private key + installation id).
    token: SecretStr | None = None
    app_id: str | None = None
    app_private_key: SecretStr | None = None
    app_installation_id: int | None = None
    # Where candidate workspaces are generated, and their name prefix.
    org: str = "tenon-workspaces"
    repo_prefix: str = "tenon-"
    request_timeout_seconds: float = Field(default=15.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    max_concurrent_requests: int = Field(default=10, gt=0)
    # Longest wait for a rate limit inside one call; beyond it GITHUB_RATE_LIMITED surfaces
    # (retryable) and the job system retries later.
    rate_limit_max_wait_seconds: float = Field(default=30.0, ge=0)
    # GitHub asks for at least a second between content-creating requests (per installation).
    mutation_interval_seconds: float = Field(default=1.0, ge=0)
    artifact_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # A repository's tar.gz at one commit (similarity reads submissions' trees from it).
    tarball_max_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    # Generate candidates' repositories at invite time (throttled), not at their first init.
    preprovision: bool = False
    # Days after a session ends before its repositories are archived (or deleted, with
    # cleanup enabled).
    retention_days: int = Field(default=30, ge=0)
    cleanup_enabled: bool = False
    # First wait before polling a dispatched run that webhooks have not reported on; later
    # polls back off up to four times as long.
    run_poll_seconds: float = Field(default=15.0, gt=0)
    webhook_secret: SecretStr | None = None
    # Owner of the template repositories named in the template catalog.
    template_owner: str = "tenon-templates"
    # Renames some templates' repositories: a JSON object of template key →
    # {"code": name, "debug": name}; a name is bare (under template_owner) or owner/name.
    # Unnamed keys keep `<key>` and `<key>-debug`.
    template_repos: Annotated[dict[str, TemplateRepos], NoDecode] = {}
    # Workflow that runs a workspace's tests (must declare workflow_dispatch).
    actions_workflow_file: str = "tenon-ci.yml"
    # Workflow in each grader repository that grades a submission at its cutoff commit.
    grading_workflow_file: str = "tenon-grade.yml"

    @field_validator("template_repos", mode="before")
    @classmethod
    def _parse_template_repos(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON object ({exc.msg})") from None

    @field_validator("template_repos")
    @classmethod
    def _known_template_keys(cls, value: dict[str, TemplateRepos]) -> dict[str, TemplateRepos]:
        unknown = sorted(set(value) - set(TEMPLATE_KEYS))
        if unknown:
            raise ValueError(
                f"unknown template keys: {', '.join(unknown)} (known: {', '.join(TEMPLATE_KEYS)})"
            )
        return value

    @model_validator(mode="after")
    def _app_auth_is_complete(self) -> Self:
        app_fields = (self.app_id, self.app_private_key, self.app_installation_id)
        if any(value is not None for value in app_fields) and None in app_fields:
            raise ValueError(
                "GitHub App auth needs TENON_GITHUB_APP_ID, TENON_GITHUB_APP_PRIVATE_KEY and "
                "TENON_GITHUB_APP_INSTALLATION_ID together"
            )
        return self

    @property
    def credentials_configured(self) -> bool:
        return self.token is not None or self.app_id is not None


class EmailSettings(BaseSettings):
    model_config = _config("TENON_")

    email_provider: Literal["console", "smtp", "resend", "sendgrid"] = "console"
    email_from: str = "Tenon <no-reply@tenon.local>"
    email_timeout_seconds: float = Field(default=10.0, gt=0)
    resend_api_key: SecretStr | None = None
    resend_api_base: str = "https://api.resend.com"
    sendgrid_api_key: SecretStr | None = None
    sendgrid_api_base: str = "https://api.sendgrid.com"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # "starttls" upgrades a plain connection; "tls" connects with TLS (port 465); "none"
    # only for a relay on a trusted network.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"

    @model_validator(mode="after")
    def _provider_has_credentials(self) -> Self:
        if self.email_provider == "resend" and self.resend_api_key is None:
            raise ValueError("TENON_RESEND_API_KEY is required with TENON_EMAIL_PROVIDER=resend")
        if self.email_provider == "sendgrid" and self.sendgrid_api_key is None:
            raise ValueError(
                "TENON_SENDGRID_API_KEY is required with TENON_EMAIL_PROVIDER=sendgrid"
            )
        return self


class RateLimitSettings(BaseSettings):
    model_config = _config("TENON_RATE_LIMIT_")

    enabled: bool = True
    # `memory://` (per process) or `redis://host:6379/0` (shared by every instance).
    storage_uri: str = "memory://"
    invite: str = "30/minute"
    resend: str = "5/hour"
    claim: str = "10/minute"
    run: str = "30/minute"
    submit: str = "30/minute"
    # Draft autosaves per candidate session: an editor saving every few seconds stays under.
    draft: str = "120/minute"


AiProviderName = Literal["none", "anthropic", "openai"]


class AiSettings(BaseSettings):
    """The optional AI drafts (SPEC §11.2). `none` keeps everything offline."""

    model_config = _config("TENON_AI_")

    provider: AiProviderName = "none"
    api_key: SecretStr | None = None
    # An OpenAI-compatible server's base URL (with `openai`), or a proxy for Anthropic's API.
    base_url: str | None = None
    # None: the provider's default model (see app.integrations.ai.providers).
    model: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)
    # What a company may spend in a calendar month (UTC) unless its own limit says otherwise.
    monthly_budget_usd: Decimal = Field(default=Decimal("50"), ge=0)
    # Prices in USD per million tokens, for a model the built-in price table does not know.
    input_price_per_mtok: Decimal | None = Field(default=None, ge=0)
    output_price_per_mtok: Decimal | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _provider_is_usable(self) -> Self:
        if self.provider == "none":
            return self
        if self.api_key is None:
            raise ValueError(f"TENON_AI_API_KEY is required with TENON_AI_PROVIDER={self.provider}")
        # Every call's cost is recorded and budgeted: a model without a price cannot run.
        model_and_price(
            self.provider, self.model, self.input_price_per_mtok, self.output_price_per_mtok
        )
        return self


# The recording types Tenon can check (app.recordings.probe knows each one's container).
RECORDING_TYPES = (
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mp4",
    "audio/x-m4a",
    "audio/webm",
    "audio/mpeg",
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
)
MIB = 1024 * 1024


class RecordingSettings(BaseSettings):
    """The Day 4 recording (SPEC §11.3): upload limits, the consent notice, retention."""

    model_config = _config("TENON_RECORDING_")

    # Declared types a candidate may upload (mp4, webm, mov, m4a, mp3, wav by default).
    allowed_types: Annotated[list[str], NoDecode] = list(RECORDING_TYPES)
    max_bytes: int = Field(default=500 * MIB, gt=0)
    max_duration_seconds: float = Field(default=1800.0, gt=0)
    # Files above this go up in parts of part_size_bytes (S3 needs 5 MiB but for the last).
    multipart_threshold_bytes: int = Field(default=64 * MIB, ge=5 * MIB)
    part_size_bytes: int = Field(default=16 * MIB, ge=5 * MIB)
    consent_version: str = Field(default="2026-12-01", min_length=1)
    consent_text: str = Field(
        default=(
            "Your recording and its transcript are shared with the recruiters of the company "
            "that invited you, for evaluating this simulation only. You can delete the "
            "recording at any time; it is deleted automatically after the retention period."
        ),
        min_length=1,
    )
    # Uploads never completed are removed after this many hours.
    abandoned_after_hours: int = Field(default=24, gt=0)
    # Recordings and transcripts are purged this many days after their upload completed.
    retention_days: int = Field(
        default=180,
        gt=0,
        validation_alias=AliasChoices("TENON_MEDIA_RETENTION_DAYS", "retention_days"),
    )

    @field_validator("allowed_types", mode="before")
    @classmethod
    def _parse_types(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("allowed_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        types = [item.lower() for item in value]
        unknown = sorted(set(types) - set(RECORDING_TYPES))
        if unknown:
            raise ValueError(
                f"unknown types: {', '.join(unknown)} (known: {', '.join(RECORDING_TYPES)})"
            )
        if not types:
            raise ValueError("name at least one type")
        return types


# `s3://bucket` or `s3://bucket/key/prefix`; bucket names as S3 allows them.
_S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?\Z")
_S3_KEY_PREFIX = re.compile(r"[A-Za-z0-9_.=-]+")
# An S3 presigned URL lives at most a week.
_MAX_URL_SECONDS = 7 * 24 * 3600


class StorageSettings(BaseSettings):
    """Where media objects (Day 4 recordings) live: unset `url` keeps them on the local
    filesystem; `s3://bucket[/key-prefix]` puts them in an S3-compatible store."""

    model_config = _config("TENON_STORAGE_")

    url: str | None = None
    # An S3-compatible service other than AWS (MinIO, Cloudflare R2); unset: AWS S3.
    endpoint_url: str | None = None
    region: str = "us-east-1"
    # Unset (both): botocore's own chain (AWS_* variables, an instance or task role).
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    # bucket in the path (http://host/bucket/key), which MinIO needs, instead of the host.
    path_style: bool = False
    # The local store's folder; unset: {TENON_DATA_DIR}/media.
    local_dir: Path | None = None
    # How long a signed upload (PUT) and a signed playback (GET) URL stay valid.
    upload_url_ttl_seconds: int = Field(default=3600, gt=0, le=_MAX_URL_SECONDS)
    download_url_ttl_seconds: int = Field(default=900, gt=0, le=_MAX_URL_SECONDS)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = _S3_URL.match(value)
        if match is None:
            raise ValueError("expected s3://bucket or s3://bucket/key-prefix")
        prefix = match["prefix"]
        segments = prefix.strip("/").split("/") if prefix else []
        if any(not _S3_KEY_PREFIX.fullmatch(part) or part in (".", "..") for part in segments):
            raise ValueError(
                "the key prefix may hold /-separated names of letters, digits, _ . = - "
                "(not . or ..)"
            )
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not _HTTP_URL.match(value):
            raise ValueError("expected an absolute http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _s3_settings_are_coherent(self) -> Self:
        problems = []
        s3_only = {
            "TENON_STORAGE_ENDPOINT_URL": self.endpoint_url,
            "TENON_STORAGE_ACCESS_KEY_ID": self.access_key_id,
            "TENON_STORAGE_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.url is None:
            problems += [
                f"{name} is set but TENON_STORAGE_URL is not (s3://bucket selects S3; "
                "unset, media stay on the local disk)"
                for name, value in s3_only.items()
                if value is not None
            ]
        elif (self.access_key_id is None) != (self.secret_access_key is None):
            problems.append(
                "TENON_STORAGE_ACCESS_KEY_ID and TENON_STORAGE_SECRET_ACCESS_KEY go together"
            )
        elif self.endpoint_url is not None and self.access_key_id is None:
            # Only AWS hands credentials to its machines; MinIO and R2 need keys.
            problems.append(
                "TENON_STORAGE_ACCESS_KEY_ID and TENON_STORAGE_SECRET_ACCESS_KEY are required "
                "with TENON_STORAGE_ENDPOINT_URL"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def bucket(self) -> str | None:
        match = _S3_URL.match(self.url) if self.url else None
        return match["bucket"] if match else None

    @property
    def key_prefix(self) -> str:
        """Prepended to every key in the bucket: empty, or ending in `/`."""
        match = _S3_URL.match(self.url) if self.url else None
        prefix = (match["prefix"] or "").strip("/") if match else ""
        return f"{prefix}/" if prefix else ""


class SimilaritySettings(BaseSettings):
    """Similarity across candidates (SPEC §11.4): each code submission's cutoff tree is
    fingerprinted by a job and compared with the simulation's other submissions of the same
    template. The tarball's download cap is TENON_GITHUB_TARBALL_MAX_BYTES; the caps below
    apply to what is read out of it, each of the submission's tree and the template's."""

    model_config = _config("TENON_SIMILARITY_")

    # Off: code submissions queue no fingerprinting (those queued before still run).
    enabled: bool = True
    # A pair is stored for review at or above this score (the share of one submission's
    # fingerprints found in the other). The default is app.similarity.fingerprints'
    # DEFAULT_THRESHOLD, whose comment has the measurements behind it.
    threshold: float = Field(default=0.2, gt=0, le=1)
    # Entries of the archive (files, folders, links) at most; more skips the submission.
    max_entries: int = Field(default=20_000, gt=0)
    # Larger files are left out (data, bundles), the rest of the tree still compared.
    max_file_bytes: int = Field(default=512 * 1024, gt=0)
    # Of the text files kept, uncompressed; more skips the submission. Every source file is
    # lexed, about 0.1 s per 1 000 lines.
    max_text_bytes: int = Field(default=8 * MIB, gt=0)


class GreenhouseSettings(BaseSettings):
    """The Greenhouse Assessment Partner API (SPEC §11.5, docs/ats.md). Greenhouse calls
    Tenon with a company's partner key; Tenon PATCHes the callback URL Greenhouse gave with
    each send_test, only on a host this list allows (and on a public address outside
    local/test: app.integrations.outbound)."""

    model_config = _config("TENON_GREENHOUSE_")

    # Host names, or `*.` and a domain for any of its subdomains; Greenhouse's callback URLs
    # are on app.greenhouse.io (app.eu.greenhouse.io for its EU data centre).
    callback_hosts: Annotated[list[str], NoDecode] = ["*.greenhouse.io"]
    # The recruiter's page of a candidate's submissions in the front end (under
    # TENON_CANDIDATE_PORTAL_BASE_URL; tenon-frontend's route
    # `(recruiter)/dashboard/simulations/[id]/candidates/[candidateSessionId]`), sent to
    # Greenhouse as `partner_profile_url`.
    profile_path: str = "/dashboard/simulations/{simulation_id}/candidates/{candidate_session_id}"

    @field_validator("callback_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: object) -> object:
        items = _split_csv(value)
        if isinstance(items, list):
            return [str(item).lower() for item in items]
        return items

    @field_validator("profile_path")
    @classmethod
    def _check_profile_path(cls, value: str) -> str:
        try:
            value.format(simulation_id=1, candidate_session_id=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                "may hold no placeholder but {simulation_id} and {candidate_session_id}"
            ) from exc
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


class WebhookSettings(BaseSettings):
    """Signed webhooks to customers' own endpoints (SPEC §11.5; docs/webhooks.md)."""

    model_config = _config("TENON_WEBHOOKS_")

    # One delivery attempt's request, connection included; a slower endpoint is a failed
    # attempt, retried with backoff.
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # How long the previous secret still signs deliveries (a second `v1=`) after a rotation.
    rotation_overlap_hours: float = Field(default=24.0, ge=0, le=24 * 7)
    # Private, loopback and plain-http targets (a receiver on this machine). Honoured only
    # with TENON_ENV=local or test; staging and production always refuse them.
    allow_private_targets: bool = True


TranscriptionProviderName = Literal["none", "openai"]
# Hosts that need no API key: a transcription server on this machine, the private network
# or the compose network (a single-label name such as `whisper`).
_LOCAL_HOSTS = ("localhost",)


class TranscriptionSettings(BaseSettings):
    """The Day 4 recordings' transcripts (SPEC §11.3). `none` keeps everything offline: the
    recordings are kept and reviewable, without a transcript."""

    model_config = _config("TENON_TRANSCRIPTION_")

    # `openai`: any server speaking OpenAI's `POST /audio/transcriptions` (OpenAI, Groq,
    # a self-hosted faster-whisper server).
    provider: TranscriptionProviderName = "none"
    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    model: str = "whisper-1"
    # ISO-639-1 (e.g. `en`); None lets the model detect it.
    language: str | None = None
    # Vocabulary the model should expect (names, jargon), sent with every chunk.
    prompt: str | None = None
    # The provider's upload limit (OpenAI and Groq: 25 MiB); longer audio is sent in chunks.
    # A chunk must hold a few seconds of audio.
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=16 * 1024)
    # Some models accept only so many seconds per request (gpt-4o-transcribe: 1,500).
    max_chunk_seconds: int = Field(default=1200, ge=10)
    # One chunk's upload and transcription.
    timeout_seconds: float = Field(default=300.0, gt=0)
    # Per chunk, for 429, 5xx, timeouts and connection errors; then the job retries later.
    max_attempts: int = Field(default=4, ge=1)
    # The first wait between attempts, doubled each time, capped with any Retry-After.
    retry_backoff_seconds: float = Field(default=2.0, ge=0)
    retry_max_wait_seconds: float = Field(default=60.0, ge=0)

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("must be an http(s) URL such as https://api.openai.com/v1")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _provider_is_usable(self) -> Self:
        if self.provider == "none" or self.api_key is not None:
            return self
        if not _is_local_host(urlsplit(self.base_url).hostname or ""):
            raise ValueError(
                "TENON_TRANSCRIPTION_API_KEY is required with TENON_TRANSCRIPTION_PROVIDER="
                f"{self.provider} unless TENON_TRANSCRIPTION_BASE_URL is a local server "
                f"(got {self.base_url})"
            )
        return self


def _is_local_host(host: str) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return host in _LOCAL_HOSTS or host.endswith(".localhost") or "." not in host
    return address.is_loopback or address.is_private


class SettingsError(Exception):
    """The configuration cannot be used. `problems` holds one line per problem, each naming
    the environment variable (or the `.env` line) to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _refusals(
    app: AppSettings,
    auth: AuthSettings | None,
    github: GitHubSettings | None,
    email: EmailSettings | None,
    storage: StorageSettings | None,
) -> list[str]:
    """The combinations the service refuses to start with, one message each. A group that
    failed to load (None) was reported already; the checks needing it are skipped."""
    env = app.env
    problems = []
    if app.dev_auth_bypass and env != "local":
        problems.append(f"DEV_AUTH_BYPASS is only allowed with TENON_ENV=local (got {env})")
    if not app.deployed:
        return problems
    secret_key = app.secret_key.get_secret_value()
    if secret_key == LOCAL_SECRET_KEY or len(secret_key) < 32:
        problems.append(f"TENON_SECRET_KEY (32+ characters) is required when TENON_ENV={env}")
    if email is not None and email.email_provider == "console":
        # The console sender prints every email, invite links included, to the server output.
        problems.append(
            "TENON_EMAIL_PROVIDER=console only prints emails; choose smtp, resend or sendgrid "
            f"when TENON_ENV={env}"
        )
    if auth is not None and not auth.configured:
        problems.append(
            "TENON_AUTH0_ISSUER (or TENON_AUTH0_DOMAIN) and TENON_AUTH0_API_AUDIENCE "
            f"are required when TENON_ENV={env}"
        )
    if storage is not None and storage.url is None and app.public_api_url == LOCAL_PUBLIC_API_URL:
        # The local media store hands browsers URLs on this API.
        problems.append(
            "TENON_PUBLIC_API_URL (the API's address as browsers reach it) is required with "
            f"the local media store when TENON_ENV={env}"
        )
    public_values = {LOCAL_ADMIN_API_KEY, LOCAL_WEBHOOK_SECRET, LOCAL_EMULATOR_TOKEN}
    secrets = {"TENON_ADMIN_API_KEY": app.admin_api_key}
    if github is not None:
        secrets["TENON_GITHUB_WEBHOOK_SECRET"] = github.webhook_secret
        secrets["TENON_GITHUB_TOKEN"] = github.token
    for name, secret in secrets.items():
        if secret is not None and secret.get_secret_value() in public_values:
            problems.append(
                f"{name} is {secret.get_secret_value()!r}, a public value for local use; "
                f"set a secret of your own when TENON_ENV={env}"
            )
    return problems


class Settings(BaseModel):
    app: AppSettings = Field(default_factory=AppSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    github: GitHubSettings = Field(default_factory=GitHubSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    ai: AiSettings = Field(default_factory=AiSettings)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)
    similarity: SimilaritySettings = Field(default_factory=SimilaritySettings)
    greenhouse: GreenhouseSettings = Field(default_factory=GreenhouseSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)

    @model_validator(mode="after")
    def _refuse_dangerous_combinations(self) -> Self:
        problems = _refusals(self.app, self.auth, self.github, self.email, self.storage)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def load_settings() -> Settings:
    """Read every group from the environment and `.env`. Raises `SettingsError` listing
    every problem found, across all groups."""
    problems = _env_file_problems(ENV_FILE)
    groups: dict[str, BaseSettings] = {}
    # python-dotenv warns about each malformed line once per group; they are reported above.
    with _logger_quieted("dotenv.main"):
        for name, group in _setting_groups().items():
            try:
                groups[name] = group()
            except ValidationError as exc:
                problems += _describe(group, exc)
    app, auth, github = groups.get("app"), groups.get("auth"), groups.get("github")
    email, storage = groups.get("email"), groups.get("storage")
    if isinstance(app, AppSettings):
        problems += _refusals(
            app,
            auth if isinstance(auth, AuthSettings) else None,
            github if isinstance(github, GitHubSettings) else None,
            email if isinstance(email, EmailSettings) else None,
            storage if isinstance(storage, StorageSettings) else None,
        )
    if problems:
        raise SettingsError(problems)
    return Settings.model_validate(groups)


def _setting_groups() -> dict[str, type[BaseSettings]]:
    groups = {}
    for name, field in Settings.model_fields.items():
        group = field.annotation
        assert isinstance(group, type)
        assert issubclass(group, BaseSettings)
        groups[name] = group
    return groups


def _env_file_problems(path: Path) -> list[str]:
    """python-dotenv skips a line it cannot parse with a warning, and the setting silently
    keeps its default; refuse instead, naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f"{path.resolve()}: cannot be read ({exc})"]) from None
    return [
        # The line itself may hold a secret, so only its number is shown.
        f"{path.resolve()}:{binding.original.line}: cannot parse this line "
        "(expected NAME=value; quote values holding quotes or newlines)"
        for binding in parse_stream(io.StringIO(text))
        if binding.error
    ]


@contextmanager
def _logger_quieted(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _describe(group: type[BaseSettings], exc: ValidationError) -> list[str]:
    """pydantic's errors as `VARIABLE: message (got 'value')` lines, secrets never shown."""
    problems = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:
            # A model validator: its message already names the variables.
            problems += message.splitlines()
            continue
        variable, secret = _variable(group, str(error["loc"][0]))
        # Inside a structured value (a JSON object), where: e.g. `go-gin.debug: `.
        within = ".".join(str(part) for part in error["loc"][1:])
        value = error.get("input")
        shown = f" (got {_shorten(value)!r})" if isinstance(value, str) and not secret else ""
        problems.append(f"{variable}: {within + ': ' if within else ''}{message}{shown}")
    return problems


def _variable(group: type[BaseSettings], key: str) -> tuple[str, bool]:
    """The environment variable behind an error's `key` (a field name, or the alias the
    value came in by) and whether the field is secret."""
    prefix = group.model_config.get("env_prefix", "")
    for name, field in group.model_fields.items():
        alias = field.validation_alias
        aliases = (
            [str(choice) for choice in alias.choices] if isinstance(alias, AliasChoices) else []
        )
        if key == name or key.upper() in (choice.upper() for choice in aliases):
            variable = key if key != name else (aliases[0] if aliases else prefix + name)
            annotation = field.annotation
            return variable.upper(), SecretStr in (annotation, *get_args(annotation))
    return key.upper(), False


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


CurrentSettings = Annotated[Settings, Depends(settings_of)]
