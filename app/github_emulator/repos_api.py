"""Repositories: generate, get, update, delete, branches, commits, contents, compare,
tarballs (and the codeload host their redirects point to)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, BinaryIO

from pydantic import Field, field_validator
from starlette.responses import RedirectResponse, Response, StreamingResponse

from app.github_emulator import git, payloads, pushes
from app.github_emulator.emulator import Call, Emulator
from app.github_emulator.responses import (
    GitHubError,
    RequestBody,
    empty_response,
    json_response,
    link_header,
    not_found,
    page_params,
    read_body,
    validation_failed,
)
from app.github_emulator.signed_urls import check_signed, expiry, signed_url
from app.github_emulator.storage import (
    VALID_LOGIN,
    AccountType,
    Repo,
    RepoExistsError,
    utcnow,
)

_REPO_NAME_INVALID = re.compile(r"[^A-Za-z0-9._-]")
_RAW_MEDIA_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")
COMPARE_FILE_CAP = 300
_COMPARE_UNPAGINATED_COMMITS = 250
_ARCHIVE_CHUNK_BYTES = 64 * 1024


class GenerateBody(RequestBody):
    name: str
    owner: str | None = None
    description: str | None = None
    include_all_branches: bool = False
    private: bool = False


class UpdateRepoBody(RequestBody):
    name: str | None = None
    description: str | None = None
    private: bool | None = None
    archived: bool | None = None


class GitIdentity(RequestBody):
    name: str
    email: str

    @field_validator("name", "email")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip() or git.has_control_characters(value):
            raise ValueError("must be a non-empty single line")
        return value


class PutContentBody(RequestBody):
    message: Annotated[str, Field(min_length=1, pattern=r"^[^\x00]*$")]
    content: str
    sha: str | None = None
    branch: str | None = None
    committer: GitIdentity | None = None
    author: GitIdentity | None = None


def repo_of(call: Call) -> Repo:
    repo = call.store.repo(call.param("owner"), call.param("repo"))
    if repo is None:
        raise not_found()
    return repo


def _writable(repo: Repo) -> None:
    if repo.archived:
        raise GitHubError(403, "Repository was archived so is read-only.")


def repo_json(call: Call, repo: Repo) -> dict[str, Any]:
    store = call.store
    template = store.repo(*repo.template.split("/", 1)) if repo.template else None
    return payloads.repo_full(
        call.base,
        repo,
        store.account(repo.owner),
        role=call.emulator.role(repo, call.identity.login),
        template=(template, store.account(template.owner)) if template else None,
    )


def _clean_path(path: str) -> str:
    cleaned = path.strip("/")
    parts = cleaned.split("/")
    if git.has_control_characters(cleaned) or (cleaned and {"", ".", ".."} & set(parts)):
        raise not_found()
    return cleaned


async def get_repo(call: Call) -> Response:
    return json_response(call.request, repo_json(call, repo_of(call)))


async def generate(call: Call) -> Response:
    template = repo_of(call)
    body = await read_body(call.request, GenerateBody)
    if not template.is_template:
        raise validation_failed(
            error={
                "resource": "Repository",
                "code": "custom",
                "field": "template_repository",
                "message": f"{template.full_name} is not a template repository",
            }
        )
    owner_login = body.owner or call.identity.login
    name = _REPO_NAME_INVALID.sub("-", body.name.strip())
    valid_name = bool(name) and name not in (".", "..") and len(name) <= 100
    if not VALID_LOGIN.fullmatch(owner_login) or not valid_name:
        raise validation_failed(
            error={"resource": "Repository", "code": "invalid", "field": "name"}
        )
    kind: AccountType = (
        "User" if owner_login.lower() == call.identity.login.lower() else "Organization"
    )
    try:
        repo = await call.store.generate(
            template,
            call.store.account(owner_login, kind),
            name,
            creator=call.identity.login,
            description=body.description,
            private=body.private,
            delay_seconds=call.emulator.config.generate_delay_seconds,
        )
    except RepoExistsError as exc:
        raise validation_failed(
            "Repository creation failed.",
            error={
                "resource": "Repository",
                "code": "custom",
                "field": "name",
                "message": "name already exists on this account",
            },
        ) from exc
    return json_response(call.request, repo_json(call, repo), 201)


async def update_repo(call: Call) -> Response:
    repo = repo_of(call)
    body = await read_body(call.request, UpdateRepoBody)
    if body.name is not None and body.name != repo.name:
        raise validation_failed(
            error={
                "resource": "Repository",
                "code": "custom",
                "field": "name",
                "message": "renaming is not emulated",
            }
        )
    if "description" in body.model_fields_set:
        repo.description = body.description
    if body.private is not None:
        repo.private = body.private
    if body.archived is not None:
        repo.archived = body.archived
    repo.updated_at = utcnow()
    await call.store.save()
    return json_response(call.request, repo_json(call, repo))


async def delete_repo(call: Call) -> Response:
    repo = repo_of(call)
    if call.emulator.role(repo, call.identity.login) != "admin":
        raise GitHubError(403, "Must have admin rights to Repository.")
    await call.store.delete_repo(repo)
    return empty_response()


async def get_branch(call: Call) -> Response:
    repo = repo_of(call)
    name = call.param("branch")
    sha = await git.resolve(call.store.path(repo), f"refs/heads/{name}")
    if sha is None:
        raise GitHubError(404, "Branch not found")
    info = await git.commit_info(call.store.path(repo), sha)
    return json_response(call.request, payloads.branch(call.base, repo, name, info))


def _timestamp(call: Call, name: str) -> str | None:
    value = call.request.query_params.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise validation_failed(f"Invalid value for '{name}': {value!r}") from exc
    # git would read a time without an offset as local time; GitHub means UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


async def list_commits(call: Call) -> Response:
    repo = repo_of(call)
    path = call.store.path(repo)
    if await git.is_empty(path):
        raise GitHubError(409, "Git Repository is empty.")
    start = call.request.query_params.get("sha") or repo.default_branch
    sha = await git.resolve(path, start)
    if sha is None:
        raise GitHubError(404, f"No commit found for SHA: {start}")
    filters: dict[str, Any] = {
        "path": _clean_path(call.request.query_params.get("path", "")) or None,
        "since": _timestamp(call, "since"),
        "until": _timestamp(call, "until"),
    }
    page, per_page = page_params(call.request)
    total = await git.count(path, sha, **filters)
    commits = await git.log(path, sha, skip=(page - 1) * per_page, limit=per_page, **filters)
    return json_response(
        call.request,
        [payloads.commit(call.base, repo, info) for info in commits],
        headers=link_header(call.request, call.base, page=page, per_page=per_page, total=total),
    )


async def _ref_commit(call: Call, repo: Repo, ref: str) -> str:
    path = call.store.path(repo)
    if await git.is_empty(path):
        raise GitHubError(404, "This repository is empty.")
    sha = await git.resolve(path, ref)
    if sha is None:
        raise GitHubError(404, f"No commit found for the ref {ref}")
    return sha


async def get_content(call: Call) -> Response:
    repo = repo_of(call)
    ref = call.request.query_params.get("ref") or repo.default_branch
    file_path = _clean_path(call.request.path_params.get("path", ""))
    sha = await _ref_commit(call, repo, ref)
    path = call.store.path(repo)
    entry = await git.entry(path, sha, file_path)
    if entry is None:
        raise not_found()
    if entry.kind == "tree":
        listing = await git.list_tree(path, sha, file_path)
        return json_response(
            call.request, [payloads.content(call.base, repo, ref, item) for item in listing]
        )
    if entry.kind != "blob":
        return json_response(call.request, payloads.content(call.base, repo, ref, entry))
    data = await git.read_blob(path, entry.sha)
    if call.request.headers.get("accept", "").startswith(_RAW_MEDIA_TYPES):
        return Response(data, media_type="application/vnd.github.raw")
    return json_response(call.request, payloads.file_content(call.base, repo, ref, entry, data))


async def put_content(call: Call) -> Response:
    repo = repo_of(call)
    body = await read_body(call.request, PutContentBody)
    _writable(repo)
    file_path = _clean_path(call.param("path"))
    if not file_path:
        raise not_found()
    try:
        data = base64.b64decode("".join(body.content.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GitHubError(422, "content is not valid Base64") from exc
    branch = body.branch or repo.default_branch
    path = call.store.path(repo)
    actor = call.store.author(call.identity.login)
    async with call.store.lock(repo):
        parent = await git.resolve(path, f"refs/heads/{branch}")
        if parent is None and not (await git.is_empty(path) and branch == repo.default_branch):
            raise GitHubError(404, f"Branch {branch} not found")
        existing = await git.entry(path, parent, file_path) if parent else None
        if existing is not None:
            if existing.kind != "blob":
                raise validation_failed(f"{file_path} is a directory")
            if body.sha is None:
                raise GitHubError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
            if body.sha != existing.sha:
                raise GitHubError(409, f"{file_path} does not match {body.sha}")
        mode = existing.mode if existing is not None else git.REGULAR_FILE
        author = _person(body.author or body.committer) or actor
        commit_sha, blob = await git.commit_file(
            path,
            branch=branch,
            parent=parent,
            path=file_path,
            content=data,
            mode=mode,
            message=body.message,
            author=author,
            committer=_person(body.committer) or actor,
        )
    update = pushes.RefUpdate(f"refs/heads/{branch}", parent or payloads.ZERO_SHA, commit_sha)
    await pushes.announce(call.emulator, repo, call.identity.login, [update], call.base)
    info = await git.commit_info(path, commit_sha)
    entry = git.TreeEntry(mode, "blob", blob, len(data), file_path)
    result = {
        "content": payloads.content(call.base, repo, branch, entry),
        "commit": payloads.git_commit(call.base, repo, info),
    }
    return json_response(call.request, result, 200 if existing is not None else 201)


def _person(identity: GitIdentity | None) -> git.Person | None:
    return git.Person(identity.name, identity.email) if identity is not None else None


def _split_basehead(call: Call, repo: Repo) -> tuple[str, str]:
    base, separator, head = call.param("basehead").partition("...")
    if not separator or not base or not head:
        raise not_found()
    refs = []
    for ref in (base, head):
        owner, colon, name = ref.rpartition(":")
        if colon and owner.lower() != repo.owner.lower():
            raise not_found()  # comparing across forks is not emulated
        refs.append(name)
    return refs[0], refs[1]


async def compare(call: Call) -> Response:
    repo = repo_of(call)
    path = call.store.path(repo)
    base_ref, head_ref = _split_basehead(call, repo)
    base_sha = await git.resolve(path, base_ref)
    head_sha = await git.resolve(path, head_ref)
    if base_sha is None or head_sha is None:
        raise not_found()
    merge_base = await git.merge_base(path, base_sha, head_sha)
    if merge_base is None:
        raise GitHubError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    ahead = await git.count(path, f"{base_sha}..{head_sha}")
    behind = await git.count(path, f"{head_sha}..{base_sha}")
    paginated = "page" in call.request.query_params or "per_page" in call.request.query_params
    page, per_page = page_params(call.request)
    if not paginated:
        # Unpaginated: the most recent 250 commits, oldest first.
        skip, per_page = max(ahead - _COMPARE_UNPAGINATED_COMMITS, 0), _COMPARE_UNPAGINATED_COMMITS
    else:
        skip = (page - 1) * per_page
    commits = await git.log(
        path, f"{base_sha}..{head_sha}", reverse=True, skip=skip, limit=per_page
    )
    changes = await git.changes(path, merge_base, head_sha) if page == 1 else []
    html = f"{call.base}/{repo.full_name}"
    api = f"{call.base}/repos/{repo.full_name}"
    result = {
        "url": f"{api}/compare/{base_ref}...{head_ref}",
        "html_url": f"{html}/compare/{base_ref}...{head_ref}",
        "permalink_url": f"{html}/compare/{base_sha}...{head_sha}",
        "diff_url": f"{html}/compare/{base_ref}...{head_ref}.diff",
        "patch_url": f"{html}/compare/{base_ref}...{head_ref}.patch",
        "base_commit": payloads.commit(call.base, repo, await git.commit_info(path, base_sha)),
        "merge_base_commit": payloads.commit(
            call.base, repo, await git.commit_info(path, merge_base)
        ),
        "status": _compare_status(ahead, behind),
        "ahead_by": ahead,
        "behind_by": behind,
        "total_commits": ahead,
        "commits": [payloads.commit(call.base, repo, info) for info in commits],
        "files": [
            payloads.file_change(call.base, repo, head_sha, change)
            for change in changes[:COMPARE_FILE_CAP]
        ],
    }
    headers = (
        link_header(call.request, call.base, page=page, per_page=per_page, total=ahead)
        if paginated
        else {}
    )
    return json_response(call.request, result, headers=headers)


def _compare_status(ahead: int, behind: int) -> str:
    if ahead and behind:
        return "diverged"
    if ahead:
        return "ahead"
    return "behind" if behind else "identical"


class CreateRefBody(RequestBody):
    ref: Annotated[str, Field(pattern=r"^refs/(heads|tags)/[^\s~^:?*\[\\]+$")]
    sha: Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]


async def create_ref(call: Call) -> Response:
    """POST /repos/{owner}/{repo}/git/refs: a branch or tag at an existing commit."""
    repo = repo_of(call)
    body = await read_body(call.request, CreateRefBody)
    _writable(repo)
    path = call.store.path(repo)
    async with call.store.lock(repo):
        if await git.resolve(path, body.sha) is None:
            raise GitHubError(422, "Object does not exist")
        if await git.resolve(path, body.ref) is not None:
            raise GitHubError(422, "Reference already exists")
        await git.git(path, "update-ref", body.ref, body.sha, payloads.ZERO_SHA)
    update = pushes.RefUpdate(body.ref, payloads.ZERO_SHA, body.sha)
    await pushes.announce(call.emulator, repo, call.identity.login, [update], call.base)
    url = f"{call.base}/repos/{repo.full_name}/git/{body.ref}"
    data = {
        "ref": body.ref,
        "node_id": payloads.node_id("Ref", repo.id),
        "url": url,
        "object": {
            "sha": body.sha,
            "type": "commit",
            "url": f"{call.base}/repos/{repo.full_name}/git/commits/{body.sha}",
        },
    }
    return json_response(call.request, data, status=201)


def codeload_url(emulator: Emulator, base: str, repo: Repo, sha: str, expires: int) -> str:
    """The signed URL that serves `repo`'s tarball at commit `sha` until `expires`."""
    url = f"{base}/_codeload/{repo.full_name}/legacy.tar.gz/{sha}"
    return signed_url(emulator, url, _codeload_subject(repo.owner, repo.name, sha), expires)


def _codeload_subject(owner: str, name: str, sha: str) -> str:
    # Names as the store looks them up (case-insensitively).
    return f"codeload:{owner.lower()}/{name.lower()}@{sha}"


async def tarball(call: Call) -> Response:
    """GET /repos/{owner}/{repo}/tarball[/{ref}]: 302 to the tarball on the codeload host,
    pinned to the commit the ref names now (the default branch without one)."""
    repo = repo_of(call)
    ref = call.request.path_params.get("ref") or repo.default_branch
    path = call.store.path(repo)
    sha = None if await git.is_empty(path) else await git.resolve(path, ref)
    if sha is None:
        raise not_found()
    expires = expiry(call.emulator.config.tarball_url_ttl_seconds)
    location = codeload_url(call.emulator, call.base, repo, sha, expires)
    return RedirectResponse(location, status_code=302)


async def codeload(call: Call) -> Response:
    """The codeload host behind tarball redirects (`signed_urls`): the tar.gz that `git
    archive` makes, its paths under `{owner}-{repo}-{sha7}/` as on GitHub."""
    owner, name, sha = call.param("owner"), call.param("repo"), call.param("sha")
    check_signed(call, _codeload_subject(owner, name, sha))
    repo = repo_of(call)
    path = call.store.path(repo)
    if await git.resolve(path, sha) != sha:
        raise not_found()
    folder = f"{repo.owner}-{repo.name}-{sha[:7]}"
    archive = await git.archive(path, sha, prefix=folder)
    size = os.fstat(archive.fileno()).st_size
    headers = {
        "content-length": str(size),
        "content-disposition": f"attachment; filename={folder}.tar.gz",
    }
    return StreamingResponse(_chunks(archive), media_type="application/x-gzip", headers=headers)


async def _chunks(archive: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(archive.read, _ARCHIVE_CHUNK_BYTES):
            yield chunk
    finally:
        archive.close()
