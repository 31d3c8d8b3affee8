"""GitHub's JSON shapes, built from the emulator's records.

Field names and JSON types follow the recorded real responses (`tests/fixtures/github`);
`base` is the emulator's public base URL, used for API links and web links alike.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from app.github_emulator import git
from app.github_emulator.storage import Account, Artifact, Invitation, Repo, Run

JSON = dict[str, Any]

_REPO_LINKS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}
_USER_LINKS = {
    "followers_url": "/followers",
    "following_url": "/following{/other_user}",
    "gists_url": "/gists{/gist_id}",
    "starred_url": "/starred{/owner}{/repo}",
    "subscriptions_url": "/subscriptions",
    "organizations_url": "/orgs",
    "repos_url": "/repos",
    "events_url": "/events{/privacy}",
    "received_events_url": "/received_events",
}
# What each role may do, and the legacy permission name the permission endpoint reports.
_ROLE_FLAGS = {
    "admin": ("admin", "maintain", "push", "triage", "pull"),
    "maintain": ("maintain", "push", "triage", "pull"),
    "write": ("push", "triage", "pull"),
    "triage": ("triage", "pull"),
    "read": ("pull",),
}
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git_date(value: str) -> str:
    return iso(datetime.fromisoformat(value)) or value


def node_id(kind: str, number: int | str) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode()


def user(base: str, account: Account) -> JSON:
    url = f"{base}/users/{account.login}"
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id(account.type, account.id),
        "avatar_url": f"{base}/avatars/u/{account.id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{base}/{account.login}",
        **{key: url + suffix for key, suffix in _USER_LINKS.items()},
        "type": account.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def user_profile(base: str, account: Account, created_at: datetime) -> JSON:
    """GET /users/{username}: the user plus the public profile fields."""
    return user(base, account) | {
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": iso(created_at),
        "updated_at": iso(created_at),
    }


def role_flags(role: str | None) -> JSON:
    granted = _ROLE_FLAGS.get(role or "", ())
    return {flag: flag in granted for flag in ("admin", "maintain", "push", "triage", "pull")}


def collaborator(base: str, account: Account, role: str | None) -> JSON:
    return user(base, account) | {"permissions": role_flags(role), "role_name": role or "none"}


def repo_minimal(base: str, repo: Repo, owner: Account) -> JSON:
    api = f"{base}/repos/{repo.full_name}"
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(base, owner),
        "html_url": f"{base}/{repo.full_name}",
        "description": repo.description,
        "fork": False,
        "url": api,
        **{key: api + suffix for key, suffix in _REPO_LINKS.items()},
    }


def repo_full(
    base: str,
    repo: Repo,
    owner: Account,
    *,
    role: str | None,
    template: tuple[Repo, Account] | None = None,
) -> JSON:
    """The full repository, with `template_repository` (itself a full repository) or null."""
    html = f"{base}/{repo.full_name}"
    payload = repo_minimal(base, repo, owner) | {
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.updated_at),
        "pushed_at": iso(repo.pushed_at),
        "git_url": f"git://{base.split('://', 1)[-1]}/{repo.full_name}.git",
        "ssh_url": f"git@{base.split('://', 1)[-1].split('/', 1)[0]}:{repo.full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": repo.archived,
        "disabled": False,
        "open_issues_count": 0,
        "license": None,
        "allow_forking": True,
        "is_template": repo.is_template,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if repo.private else "public",
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": repo.default_branch,
        "permissions": role_flags(role),
        "temp_clone_token": "",
        "allow_squash_merge": True,
        "allow_merge_commit": True,
        "allow_rebase_merge": True,
        "allow_auto_merge": False,
        "delete_branch_on_merge": False,
        "allow_update_branch": False,
        "use_squash_pr_title_as_default": False,
        "network_count": 0,
        "subscribers_count": 0,
        "custom_properties": {},
        "template_repository": (
            repo_full(base, template[0], template[1], role=role) if template else None
        ),
    }
    if owner.type == "Organization":
        payload["organization"] = user(base, owner)
    return payload


def _person(person: git.Person) -> JSON:
    return {"name": person.name, "email": person.email, "date": _git_date(person.date)}


_UNSIGNED = {"verified": False, "reason": "unsigned", "signature": None, "payload": None}


def _parents(base: str, repo: Repo, info: git.CommitInfo) -> list[JSON]:
    api = f"{base}/repos/{repo.full_name}"
    return [
        {
            "sha": parent,
            "url": f"{api}/commits/{parent}",
            "html_url": f"{base}/{repo.full_name}/commit/{parent}",
        }
        for parent in info.parents
    ]


def commit(base: str, repo: Repo, info: git.CommitInfo) -> JSON:
    """A commit as the commits, branches and compare endpoints return it."""
    api = f"{base}/repos/{repo.full_name}"
    return {
        "sha": info.sha,
        "node_id": node_id("Commit", info.sha),
        "commit": {
            "author": _person(info.author),
            "committer": _person(info.committer),
            "message": info.message,
            "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
            "url": f"{api}/git/commits/{info.sha}",
            "comment_count": 0,
            "verification": dict(_UNSIGNED),
        },
        "url": f"{api}/commits/{info.sha}",
        "html_url": f"{base}/{repo.full_name}/commit/{info.sha}",
        "comments_url": f"{api}/commits/{info.sha}/comments",
        # Commits are not linked to GitHub accounts here.
        "author": None,
        "committer": None,
        "parents": _parents(base, repo, info),
    }


def git_commit(base: str, repo: Repo, info: git.CommitInfo) -> JSON:
    """A commit as the contents API returns it (the git data shape)."""
    api = f"{base}/repos/{repo.full_name}"
    return {
        "sha": info.sha,
        "node_id": node_id("Commit", info.sha),
        "url": f"{api}/git/commits/{info.sha}",
        "html_url": f"{base}/{repo.full_name}/commit/{info.sha}",
        "author": _person(info.author),
        "committer": _person(info.committer),
        "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
        "message": info.message,
        "parents": _parents(base, repo, info),
        "verification": dict(_UNSIGNED),
    }


def branch(base: str, repo: Repo, name: str, info: git.CommitInfo) -> JSON:
    api = f"{base}/repos/{repo.full_name}/branches/{quote(name, safe='')}"
    return {
        "name": name,
        "commit": commit(base, repo, info),
        "_links": {"self": api, "html": f"{base}/{repo.full_name}/tree/{quote(name, safe='/')}"},
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{api}/protection",
    }


_CONTENT_TYPES = {"tree": "dir", "commit": "submodule"}


def content(base: str, repo: Repo, ref: str, entry: git.TreeEntry) -> JSON:
    """A directory listing entry, or a file's metadata without its content."""
    kind = _CONTENT_TYPES.get(entry.kind, "symlink" if entry.mode == "120000" else "file")
    api = f"{base}/repos/{repo.full_name}"
    path = quote(entry.path, safe="/")
    self_url = f"{api}/contents/{path}?ref={quote(ref, safe='')}"
    git_url = f"{api}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
    html_url = f"{base}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
    return {
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "size": entry.size or 0,
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": f"{base}/{repo.full_name}/raw/{ref}/{path}" if kind == "file" else None,
        "type": kind,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


def file_content(base: str, repo: Repo, ref: str, entry: git.TreeEntry, data: bytes) -> JSON:
    encoded = base64.encodebytes(data).decode()  # GitHub wraps base64 at 60-76 columns
    return content(base, repo, ref, entry) | {"content": encoded, "encoding": "base64"}


def invitation(
    base: str, repo: Repo, owner: Account, item: Invitation, invitee: Account, inviter: Account
) -> JSON:
    return {
        "id": item.id,
        "node_id": node_id("RepositoryInvitation", item.id),
        "repository": repo_minimal(base, repo, owner),
        "invitee": user(base, invitee),
        "inviter": user(base, inviter),
        "permissions": item.role,
        "created_at": iso(item.created_at),
        "url": f"{base}/user/repository_invitations/{item.id}",
        "html_url": f"{base}/{repo.full_name}/invitations",
        "expired": False,
    }


def workflow(base: str, repo: Repo, path: str, workflow_id: int, name: str) -> JSON:
    return {
        "id": workflow_id,
        "node_id": node_id("Workflow", workflow_id),
        "name": name,
        "path": path,
        "state": "active",
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.updated_at),
        "url": f"{base}/repos/{repo.full_name}/actions/workflows/{workflow_id}",
        "html_url": f"{base}/{repo.full_name}/blob/{repo.default_branch}/{path}",
        "badge_url": f"{base}/{repo.full_name}/workflows/{quote(name)}/badge.svg",
    }


def run(base: str, repo: Repo, owner: Account, actor: Account, item: Run) -> JSON:
    api = f"{base}/repos/{repo.full_name}"
    url = f"{api}/actions/runs/{item.id}"
    minimal = repo_minimal(base, repo, owner)
    return {
        "id": item.id,
        "name": item.name,
        "node_id": node_id("WorkflowRun", item.id),
        "head_branch": item.head_branch,
        "head_sha": item.head_sha,
        "path": item.path,
        "display_title": item.display_title,
        "run_number": item.run_number,
        "event": item.event,
        "status": item.status,
        "conclusion": item.conclusion,
        "workflow_id": item.workflow_id,
        "check_suite_id": item.id,
        "check_suite_node_id": node_id("CheckSuite", item.id),
        "url": url,
        "html_url": f"{base}/{repo.full_name}/actions/runs/{item.id}",
        "pull_requests": [],
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "actor": user(base, actor),
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": iso(item.run_started_at or item.created_at),
        "triggering_actor": user(base, actor),
        "jobs_url": f"{url}/jobs",
        "logs_url": f"{url}/logs",
        "check_suite_url": f"{api}/check-suites/{item.id}",
        "artifacts_url": f"{url}/artifacts",
        "cancel_url": f"{url}/cancel",
        "rerun_url": f"{url}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{api}/actions/workflows/{item.workflow_id}",
        "head_commit": item.head_commit,
        "repository": minimal,
        "head_repository": minimal,
    }


def head_commit(info: git.CommitInfo) -> JSON:
    return {
        "id": info.sha,
        "tree_id": info.tree,
        "message": info.message,
        "timestamp": _git_date(info.committer.date),
        "author": {"name": info.author.name, "email": info.author.email},
        "committer": {"name": info.committer.name, "email": info.committer.email},
    }


def artifact(base: str, repo: Repo, item: Artifact) -> JSON:
    url = f"{base}/repos/{repo.full_name}/actions/artifacts/{item.id}"
    return {
        "id": item.id,
        "node_id": node_id("Artifact", item.id),
        "name": item.name,
        "size_in_bytes": item.size_in_bytes,
        "url": url,
        "archive_download_url": f"{url}/zip",
        "expired": item.expired,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
        "expires_at": iso(item.expires_at),
        "digest": item.digest,
        "workflow_run": {
            "id": item.run_id,
            "repository_id": repo.id,
            "head_repository_id": repo.id,
            "head_branch": item.head_branch,
            "head_sha": item.head_sha,
        },
    }


INSTALLATION_PERMISSIONS = {
    "actions": "write",
    "administration": "write",
    "contents": "write",
    "metadata": "read",
    "workflows": "write",
}


def installation(
    base: str, installation_id: int, app_id: int, account: Account, created: datetime
) -> JSON:
    return {
        "id": installation_id,
        "client_id": "Iv1.emulator",
        "account": user(base, account),
        "repository_selection": "all",
        "access_tokens_url": f"{base}/app/installations/{installation_id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": (
            f"{base}/organizations/{account.login}/settings/installations/{installation_id}"
        ),
        "app_id": app_id,
        "app_slug": "tenon",
        "target_id": account.id,
        "target_type": account.type,
        "permissions": INSTALLATION_PERMISSIONS,
        "events": ["workflow_run"],
        "created_at": iso(created),
        "updated_at": iso(created),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def file_change(base: str, repo: Repo, head: str, change: git.FileChange) -> JSON:
    path = quote(change.filename, safe="/")
    payload: JSON = {
        "sha": change.sha,
        "filename": change.filename,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "blob_url": f"{base}/{repo.full_name}/blob/{head}/{path}",
        "raw_url": f"{base}/{repo.full_name}/raw/{head}/{path}",
        "contents_url": f"{base}/repos/{repo.full_name}/contents/{path}?ref={head}",
    }
    if change.patch is not None:
        payload["patch"] = change.patch
    if change.previous_filename is not None:
        payload["previous_filename"] = change.previous_filename
    return payload


def organization(base: str, account: Account) -> JSON:
    url = f"{base}/orgs/{account.login}"
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id("Organization", account.id),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"{base}/avatars/u/{account.id}?v=4",
        "description": "",
    }


def workflow_run_event(
    base: str,
    action: str,
    repo: Repo,
    owner: Account,
    actor: Account,
    item: Run,
    installation_id: int,
) -> JSON:
    """The `workflow_run` webhook payload."""
    repository = repo_full(base, repo, owner, role=None)
    del repository["permissions"]
    payload: JSON = {
        "action": action,
        "workflow_run": run(base, repo, owner, actor, item),
        "workflow": workflow(base, repo, item.path, item.workflow_id, item.name),
        "repository": repository,
        "sender": user(base, actor),
        "installation": {
            "id": installation_id,
            "node_id": node_id("Installation", installation_id),
        },
    }
    if owner.type == "Organization":
        payload["organization"] = organization(base, owner)
    return payload


ZERO_SHA = "0" * 40


def _pushed_commit(base: str, repo: Repo, pushed: git.PushedCommit) -> JSON:
    info = pushed.info
    return head_commit(info) | {
        "distinct": True,
        "url": f"{base}/{repo.full_name}/commit/{info.sha}",
        "added": list(pushed.added),
        "removed": list(pushed.removed),
        "modified": list(pushed.modified),
    }


def push_event(
    base: str,
    repo: Repo,
    owner: Account,
    pusher: Account,
    *,
    ref: str,
    before: str,
    after: str,
    forced: bool,
    commits: list[git.PushedCommit],
    head: git.PushedCommit | None,
    installation_id: int,
) -> JSON:
    """The `push` webhook payload: one ref moved from `before` to `after` (zeros: created or
    deleted). Its repository has the push event's own quirks: timestamps in epoch seconds,
    `master_branch`, `stargazers`, and an owner with `name` and `email`."""
    repository = repo_full(base, repo, owner, role=None)
    for key in ("permissions", "template_repository", "temp_clone_token"):
        repository.pop(key, None)
    owner_email = f"{owner.id}+{owner.login}@users.noreply.github.com"
    repository |= {
        "owner": {"name": owner.login, "email": owner_email} | user(base, owner),
        "created_at": int(repo.created_at.timestamp()),
        "pushed_at": int(repo.pushed_at.timestamp()),
        "stargazers": 0,
        "master_branch": repo.default_branch,
    }
    html = f"{base}/{repo.full_name}"
    compare = (
        f"{html}/commit/{after}"
        if before == ZERO_SHA
        else f"{html}/compare/{before[:12]}...{after[:12]}"
    )
    payload: JSON = {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": repository,
        "pusher": {
            "name": pusher.login,
            "email": f"{pusher.id}+{pusher.login}@users.noreply.github.com",
        },
        "sender": user(base, pusher),
        "installation": {
            "id": installation_id,
            "node_id": node_id("Installation", installation_id),
        },
        "created": before == ZERO_SHA,
        "deleted": after == ZERO_SHA,
        "forced": forced,
        "base_ref": None,
        "compare": compare,
        "commits": [_pushed_commit(base, repo, item) for item in commits],
        "head_commit": _pushed_commit(base, repo, head) if head is not None else None,
    }
    if owner.type == "Organization":
        payload["organization"] = organization(base, owner)
    return payload
