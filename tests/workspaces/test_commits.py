"""A workspace's latest commit follows the candidate's `git push`: over real HTTP, Tenon and
the emulator pointing at each other, the candidate cloning and pushing with git itself.

The app's clock is frozen an hour ahead (jobs stay claimable), so a status read only
re-reads the branch when a test moves the clock past the refresh interval."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.integrations.github.models import WebhookDelivery
from app.workspaces import repository
from app.workspaces.commits import LATEST_COMMIT_MAX_AGE
from tests.support.app import WEBHOOK_SECRET
from tests.support.emulator import eventually, git_client, with_credentials
from tests.support.factories import create_world
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.metrics import sample
from tests.support.stack import CANDIDATE_LOGIN, Stack, codespace_status, ready_workspace, stack

STALE = LATEST_COMMIT_MAX_AGE + timedelta(seconds=1)


def _ahead() -> FakeClock:
    return FakeClock(current=datetime.now(UTC) + timedelta(hours=1))


async def _candidate_clone(s: Stack, workspace: dict[str, Any], work: Path) -> None:
    """Clone `repoUrl` as the candidate does locally: their login and a token of theirs."""
    minted = await s.github.post(f"/_emulator/users/{CANDIDATE_LOGIN}/tokens")
    url = with_credentials(workspace["repoUrl"], CANDIDATE_LOGIN, minted.json()["token"])
    cloned = git_client("clone", "--quiet", url, str(work))
    assert cloned.returncode == 0, cloned.stderr


def _push(work: Path, path: str, branch: str = "main") -> str:
    """Commit a new file and push it to `branch`; the new commit's sha."""
    (work / path).write_text(f"{path}\n")
    assert git_client("add", path, cwd=work).returncode == 0
    assert git_client("commit", "--quiet", "-m", f"Add {path}", cwd=work).returncode == 0
    pushed = git_client("push", "--quiet", "origin", f"HEAD:{branch}", cwd=work)
    assert pushed.returncode == 0, pushed.stderr
    return git_client("rev-parse", "HEAD", cwd=work).stdout.strip()


async def _latest(s: Stack, task_id: int) -> str:
    sha: str = (await codespace_status(s, task_id)).json()["latestCommitSha"]
    return sha


async def _processed_pushes(database: Database) -> list[WebhookDelivery]:
    async with database.sessionmaker() as session:
        statement = select(WebhookDelivery).where(
            WebhookDelivery.event == "push", WebhookDelivery.status == "processed"
        )
        return list((await session.scalars(statement)).all())


async def _processed(database: Database, count: int) -> list[WebhookDelivery]:
    async def enough() -> list[WebhookDelivery] | None:
        deliveries = await _processed_pushes(database)
        return deliveries if len(deliveries) >= count else None

    return await eventually(enough)


async def _deliver_push(s: Stack, payload: dict[str, Any]) -> None:
    """Deliver a push webhook as GitHub would: signed, with a fresh delivery id."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = await s.tenon.post(
        "/api/github/webhooks",
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": "push",
            "x-github-delivery": str(uuid.uuid4()),
            "x-hub-signature-256": signature,
        },
    )
    assert response.status_code == 202, response.text


async def test_a_git_push_moves_the_latest_commit_through_the_push_webhook(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp, clock=_ahead()) as s:
        task_id, workspace = await ready_workspace(s, "code")
        base = workspace["baseTemplateSha"]
        assert await _latest(s, task_id) == base
        work = tmp_path / "candidate"
        await _candidate_clone(s, workspace, work)

        head = _push(work, "feature.py")
        [delivery] = await _processed(jobs_db, 1)
        # The clock has not moved, so no status read re-read the branch: the webhook did it.
        latest = await _latest(s, task_id)

        # A push to another branch leaves it alone; so does an old delivery arriving late.
        side = _push(work, "side.py", branch="experiment")
        await _processed(jobs_db, 2)
        late = delivery.payload | {"before": "0" * 40, "after": base}
        await _deliver_push(s, late)
        await _processed(jobs_db, 3)
        after_all = await _latest(s, task_id)

    assert delivery.payload["after"] == head
    assert delivery.payload["pusher"]["name"] == CANDIDATE_LOGIN
    assert latest == head
    assert side != head
    assert after_all == head


async def test_a_missed_push_is_caught_up_by_a_status_read_once_the_value_is_stale(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    clock = _ahead()
    async with stack(
        tmp_path,
        jobs_database_url,
        jobs_db,
        idp,
        webhooks=False,
        clock=clock,
        github={"max_retries": 0},
    ) as s:
        task_id, workspace = await ready_workspace(s, "code")
        metrics = s.app.state.services.metrics
        await _candidate_clone(s, workspace, tmp_path / "candidate")
        head = _push(tmp_path / "candidate", "feature.py")

        fresh = await _latest(s, task_id)  # read moments ago: not re-read
        clock.advance(STALE)
        caught_up = await _latest(s, task_id)
        unchanged_before = sample(metrics, "tenon_github_not_modified_total")
        clock.advance(STALE)
        again = await _latest(s, task_id)
        not_modified = sample(metrics, "tenon_github_not_modified_total") - unchanged_before

        # GitHub failing keeps the last value: the status still answers.
        await s.github.post("/_emulator/faults", json=[{"route": "/branches/", "status": 503}])
        clock.advance(STALE)
        during_outage = await codespace_status(s, task_id)

    assert fresh == workspace["baseTemplateSha"]
    assert caught_up == head
    assert again == head
    assert not_modified == 1  # the unchanged branch answered 304, free of rate limit
    assert during_outage.status_code == 200
    assert during_outage.json()["latestCommitSha"] == head


async def test_an_earlier_read_never_overwrites_a_later_one(db_session: AsyncSession) -> None:
    world = await create_world(db_session)
    workspace_id = world.workspace.id
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    newer = await repository.record_latest_commit(
        db_session, workspace_id, "b" * 40, observed_at=t0 + timedelta(seconds=5)
    )
    older = await repository.record_latest_commit(
        db_session, workspace_id, "a" * 40, observed_at=t0
    )
    await db_session.refresh(world.workspace)

    assert (newer, older) == (True, False)
    assert world.workspace.latest_commit_sha == "b" * 40
    assert world.workspace.latest_commit_observed_at == t0 + timedelta(seconds=5)
