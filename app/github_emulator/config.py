"""The emulator's configuration: one frozen dataclass, checked when built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.github_emulator.faults import FaultRule

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class EmulatorConfig:
    data_dir: Path
    # Personal-access-style tokens accepted by the API; installation tokens minted through
    # /app/installations/{id}/access_tokens are accepted too.
    tokens: tuple[str, ...]
    # Every folder here becomes the template repository {template_owner}/{folder}.
    templates_dir: Path = DEFAULT_TEMPLATES_DIR
    template_owner: str = "tenon-templates"
    # The user every API token acts as: commit author, inviter, run actor, repo admin.
    actor_login: str = "tenon-bot"
    # Base URL used in links (url, html_url, Location…); None: the request's own base URL.
    public_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_attempts: int = 3
    webhook_backoff_seconds: float = 0.5
    webhook_timeout_seconds: float = 10.0
    rate_limit_per_hour: int = 5000
    # A generated repository's default branch stays empty this long, as on GitHub.
    generate_delay_seconds: float = 0.2
    max_concurrent_runs: int = 2
    run_timeout_seconds: float = 300.0
    # Upper bound on artifact retention (a workflow's `retention-days` can only shorten it).
    artifact_retention_seconds: float = 90 * 24 * 3600.0
    # Lifetime of the signed artifact download URL behind the 302.
    artifact_url_ttl_seconds: float = 60.0
    # Lifetime of the signed codeload URL behind a tarball's 302 (GitHub's: five minutes).
    tarball_url_ttl_seconds: float = 300.0
    invitations_per_day: int = 50
    # GitHub waits for the invitee to accept; locally nobody will, so accept at once.
    # False keeps invitations pending until PATCH /user/repository_invitations/{id}.
    auto_accept_invitations: bool = True
    # The GitHub App the emulator plays: workflows name it (`TENON_APP_ID`) to mint tokens.
    app_id: int = 1
    installation_id: int = 1
    faults: tuple[FaultRule, ...] = ()
    fault_seed: int | None = None
    # How long a `timeout` fault holds the request before answering 504.
    fault_timeout_seconds: float = 30.0
    # Longest a git clone, fetch or push over HTTP may take before its process is killed.
    git_http_timeout_seconds: float = 600.0

    def __post_init__(self) -> None:
        # git runs with other working directories: a relative data dir would move with them.
        object.__setattr__(self, "data_dir", self.data_dir.resolve())
        positive = {
            "rate_limit_per_hour": self.rate_limit_per_hour,
            "max_concurrent_runs": self.max_concurrent_runs,
            "run_timeout_seconds": self.run_timeout_seconds,
            "webhook_attempts": self.webhook_attempts,
            "webhook_timeout_seconds": self.webhook_timeout_seconds,
            "artifact_url_ttl_seconds": self.artifact_url_ttl_seconds,
            "tarball_url_ttl_seconds": self.tarball_url_ttl_seconds,
            "git_http_timeout_seconds": self.git_http_timeout_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        non_negative = {
            "generate_delay_seconds": self.generate_delay_seconds,
            "webhook_backoff_seconds": self.webhook_backoff_seconds,
            "artifact_retention_seconds": self.artifact_retention_seconds,
            "invitations_per_day": self.invitations_per_day,
            "fault_timeout_seconds": self.fault_timeout_seconds,
        }
        for name, value in non_negative.items():
            if value < 0:
                raise ValueError(f"{name} must not be negative, not {value}")
        if any(not token for token in self.tokens):
            raise ValueError("tokens must not be empty strings")
