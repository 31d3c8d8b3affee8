"""Taking the candidate's push access away once the session is over (completed or expired),
noting the commit each repository held at that moment."""

from __future__ import annotations

import structlog
from sqlalchemy import select

from app.candidate_sessions.models import CandidateSession
from app.core.schemas import ApiModel
from app.events import service as events
from app.jobs.registry import JobContext, JobType
from app.services import Services
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)


class SessionRef(ApiModel):
    candidate_session_id: int


async def _revoke(context: JobContext[Services], ref: SessionRef) -> None:
    github = context.services.require_github()
    async with context.database.session_scope() as session:
        statement = select(Workspace).where(
            Workspace.candidate_session_id == ref.candidate_session_id,
            Workspace.collaborator_login.is_not(None),
        )
        granted = [
            (w.id, w.repo_full_name, w.collaborator_login, w.default_branch)
            for w in await session.scalars(statement)
        ]
    for workspace_id, full_name, login, branch in granted:
        last_commit = None
        if full_name and login:
            # Removing someone who is no longer a collaborator is a 204 too: safe to retry.
            await github.remove_collaborator(full_name, login)
            # What the repository held when the candidate's access ended.
            last_commit = (await github.get_branch(full_name, branch or "main")).commit.sha
        async with context.database.session_scope() as session:
            workspace = await session.get(Workspace, workspace_id)
            cs = await session.get(CandidateSession, ref.candidate_session_id)
            if workspace is None or cs is None:
                continue
            workspace.collaborator_login = None
            workspace.latest_commit_sha = last_commit or workspace.latest_commit_sha
            await events.record_for_session(
                session,
                cs,
                type="access.revoked",
                actor_type="system",
                data={"repoFullName": full_name, "login": login, "lastCommit": last_commit},
                occurred_at=context.clock.now(),
            )
    log.info("workspaces.access_revoked", candidate_session_id=ref.candidate_session_id)


REVOKE_ACCESS = JobType(
    name="workspaces.revoke_access", payload=SessionRef, handler=_revoke, max_attempts=10
)
