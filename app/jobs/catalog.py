"""Every job type the service runs, in one place: what `tenon worker` and the in-process
worker execute; and which domain handles which GitHub webhook event."""

from __future__ import annotations

from app.candidate_sessions.deadlines import EXPIRY_SWEEP
from app.candidate_sessions.invite_email import SEND_INVITE_EMAIL
from app.integrations.github.webhooks import (
    PROCESS_WEBHOOK_DELIVERY,
    WebhookHandler,
    log_installation,
)
from app.jobs.registry import JobRegistry
from app.runs.flows import COLLECT_RUN, DISPATCH_RUN, POLL_RUN, track_workflow_run
from app.submissions.code_flow import REVIEW_CODE
from app.workspaces.access import REVOKE_ACCESS
from app.workspaces.commits import track_push
from app.workspaces.provisioning import PROVISION_WORKSPACE
from app.workspaces.retention import RETENTION_SWEEP, RETIRE_REPOSITORY


def job_registry() -> JobRegistry:
    return JobRegistry.of(
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
