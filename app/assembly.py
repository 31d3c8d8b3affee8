"""The application, assembled: the runtime services, every job type the workers run and
which domain handles which GitHub webhook event. `app.main` (the API) and `app.commands`
(`tenon worker`) build from here; the domains and `app.jobs` know nothing of each other."""

from __future__ import annotations

import httpx

from app.candidate_sessions.deadlines import EXPIRY_SWEEP
from app.candidate_sessions.invite_email import SEND_INVITE_EMAIL
from app.core.metrics import Metrics
from app.core.security import TokenCipher
from app.core.settings import Settings
from app.integrations.github.client import build_github_client
from app.integrations.github.webhooks import (
    PROCESS_WEBHOOK_DELIVERY,
    WebhookHandler,
    log_installation,
)
from app.jobs.registry import JobRegistry
from app.notifications.email import CountedEmailSender, build_email_sender
from app.runs.flows import COLLECT_RUN, DISPATCH_RUN, POLL_RUN, track_workflow_run
from app.services import Services
from app.submissions.code_flow import REVIEW_CODE
from app.workspaces.access import REVOKE_ACCESS
from app.workspaces.commits import track_push
from app.workspaces.provisioning import PROVISION_WORKSPACE
from app.workspaces.retention import RETENTION_SWEEP, RETIRE_REPOSITORY


def build_services(settings: Settings, http: httpx.AsyncClient, metrics: Metrics) -> Services:
    return Services(
        settings=settings,
        email=CountedEmailSender(build_email_sender(settings.email, http), metrics),
        token_cipher=TokenCipher(settings.app.secret_key.get_secret_value()),
        metrics=metrics,
        github=build_github_client(http, settings.github, metrics),
        webhook_handlers=webhook_handlers(),
    )


def job_registry() -> JobRegistry[Services]:
    return JobRegistry[Services].of(
        [
            PROCESS_WEBHOOK_DELIVERY,
            SEND_INVITE_EMAIL,
            PROVISION_WORKSPACE,
            DISPATCH_RUN,
            POLL_RUN,
            COLLECT_RUN,
            REVIEW_CODE,
            REVOKE_ACCESS,
            RETIRE_REPOSITORY,
        ],
        periodic=[EXPIRY_SWEEP, RETENTION_SWEEP],
    )


def webhook_handlers() -> dict[str, WebhookHandler]:
    """The GitHub events Tenon processes; any other event is recorded and ignored."""
    return {
        "workflow_run": track_workflow_run,
        "push": track_push,
        "installation": log_installation,
    }
