"""Announcing moved refs: every push (over git or through the contents API) records the
repository as pushed and sends one `push` webhook per ref, in order per repository."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from app.github_emulator import git, payloads
from app.github_emulator.emulator import Emulator
from app.github_emulator.storage import Repo

log = structlog.get_logger(__name__)

# GitHub lists up to 2048 commits in a push payload; a local push rarely has more than a
# handful, and listing each commit's files costs a diff.
MAX_PAYLOAD_COMMITS = 2048


@dataclass(frozen=True)
class RefUpdate:
    ref: str
    before: str
    after: str


def parse_ref_updates(text: str) -> list[RefUpdate]:
    """The `<old> <new> <ref>` lines git gives a post-receive hook."""
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append(RefUpdate(ref=parts[2], before=parts[0], after=parts[1]))
    return updates


async def announce(
    emulator: Emulator, repo: Repo, pusher_login: str, updates: list[RefUpdate], base: str
) -> None:
    """Record the push and queue its webhooks (nothing is sent when none are configured)."""
    if not updates:
        return
    emulator.store.pushed(repo)
    await emulator.store.save()
    for update in updates:
        payload = await _payload(emulator, repo, pusher_login, update, base)
        emulator.webhooks.send(f"push:{repo.id}", "push", payload)
        log.info(
            "emulator.push",
            repo=repo.full_name,
            ref=update.ref,
            before=update.before,
            after=update.after,
            pusher=pusher_login,
        )


async def _payload(
    emulator: Emulator, repo: Repo, pusher_login: str, update: RefUpdate, base: str
) -> payloads.JSON:
    path = emulator.store.path(repo)
    created, deleted = update.before == payloads.ZERO_SHA, update.after == payloads.ZERO_SHA
    commits: list[git.PushedCommit] = []
    head = None
    if not deleted:
        if update.ref.startswith("refs/heads/"):
            # A new branch lists what no other branch has; a moved one what it gained.
            branch = update.ref.removeprefix("refs/heads/")
            exclude = (f"--exclude={branch}", "--branches") if created else (update.before,)
            commits = await git.pushed_commits(
                path, update.after, exclude=exclude, limit=MAX_PAYLOAD_COMMITS
            )
        if commits and commits[-1].info.sha == update.after:
            head = commits[-1]
        else:
            [head] = await git.pushed_commits(path, update.after, exclude=(), limit=1)
    forced = (
        not created and not deleted and not await git.is_ancestor(path, update.before, update.after)
    )
    store = emulator.store
    return payloads.push_event(
        base,
        repo,
        store.account(repo.owner),
        store.account(pusher_login),
        ref=update.ref,
        before=update.before,
        after=update.after,
        forced=forced,
        commits=commits,
        head=head,
        installation_id=emulator.config.installation_id,
    )
