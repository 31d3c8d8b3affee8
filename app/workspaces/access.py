"""Taking the candidate's push access away once the session is over (completed or expired),
noting the commit each repository held at that moment; run by its job. A repository that
no longer exists on GitHub (deleted by hand, say) gives nobody access: its revocation is
done, with no last commit to note, rather than a job retrying a 404 until it dies."""

from __future__ import annotations

import structlog

from app.candidate_sessions import service as candidate_sessions
from app.events import service as events
from app.integrations.github.errors import GitHubNotFoundError
from app.jobs.registry import JobContext
from app.services import Services
from app.workspaces import repository

log = structlog.get_logger(__name__)


async def revoke(context: JobContext[Services], cs_id: int) -> None:
    github = context.services.require_github()
    async with context.database.session_scope() as session:
        granted = [
            (w.id, w.repo_full_name, w.collaborator_login, w.default_branch)
            for w in await repository.with_access_of_session(session, cs_id)
        ]
    for workspace_id, full_name, login, branch in granted:
        last_commit = None
        if full_name and login:
            try:
                # Removing someone who is no longer a collaborator is a 204 too: safe to retry.
                await github.remove_collaborator(full_name, login)
                # What the repository held when the candidate's access ended.
                last_commit = (await github.get_branch(full_name, branch or "main")).commit.sha
            except GitHubNotFoundError:
                log.warning("workspaces.repository_gone", workspace_id=workspace_id, repo=full_name)
        async with context.database.session_scope() as session:
            workspace = await repository.by_id(session, workspace_id)
            cs = await candidate_sessions.by_id(session, cs_id)
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
    log.info("workspaces.access_revoked", candidate_session_id=cs_id)
