"""Bare git repositories driven by the git CLI in asyncio subprocesses.

Writes use plumbing (a temporary index, `commit-tree`, `update-ref` with the expected old
value), so no working tree is ever needed and a concurrent writer cannot be overwritten.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Isolated from the machine's git configuration (signing, hooks, templates, excludes), with
# literal pathspecs so a file called `*.py` is just a file.
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_LITERAL_PATHSPECS": "1",
    "LC_ALL": "C",
}
_FIELD = "\x1f"
_LOG_FORMAT = _FIELD.join(("%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"))
_HEX_SHA = re.compile(r"[0-9a-f]{4,40}")
# Caches a developer's local test runs leave in template folders; candidates must not get them.
_TEMPLATE_EXCLUDES = "__pycache__/\n*.pyc\n.pytest_cache/\n.mypy_cache/\n.ruff_cache/\n"

REGULAR_FILE = "100644"


def has_control_characters(value: str) -> bool:
    """Such values can't be passed to git as arguments or environment (NUL) or are no
    valid names; they are refused as bad input before git sees them."""
    return any(ord(char) < 32 or ord(char) == 127 for char in value)


class GitError(Exception):
    def __init__(self, args: tuple[str, ...], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} exited {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: str = ""  # ISO 8601; empty means "now" when committing


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    kind: str  # blob | tree | commit
    sha: str
    size: int | None
    path: str


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # added | removed | modified | renamed
    sha: str  # the blob after the change (before it, for removals)
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None


async def git(
    git_dir: Path | None,
    *args: str,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: BinaryIO | None = None,
) -> bytes:
    """Run git and return its stdout (empty when it goes to the file `stdout`); raise
    GitError on a non-zero exit."""
    command = ["git", *((f"--git-dir={git_dir}",) if git_dir is not None else ()), *args]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if stdout is None else stdout,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **_GIT_ENV, **(env or {})},
        cwd=cwd,
    )
    try:
        output, stderr = await process.communicate(stdin)
    except BaseException:
        # Cancelled (a request gone, the emulator closing): reap git here, or its transport is
        # collected after the event loop has closed and fails there.
        if process.returncode is None:
            process.kill()
        await process.communicate()
        raise
    if process.returncode != 0:
        raise GitError(args, process.returncode or -1, stderr.decode(errors="replace"))
    return output or b""


def _identity_env(author: Person, committer: Person) -> dict[str, str]:
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
    }
    if author.date:
        env["GIT_AUTHOR_DATE"] = author.date
    if committer.date:
        env["GIT_COMMITTER_DATE"] = committer.date
    return env


async def init_bare(path: Path, branch: str) -> None:
    await git(None, "init", "--quiet", "--bare", f"--initial-branch={branch}", str(path))
    await asyncio.to_thread((path / "info").mkdir, exist_ok=True)
    await asyncio.to_thread((path / "info" / "exclude").write_text, _TEMPLATE_EXCLUDES)


async def remove(path: Path) -> None:
    await asyncio.to_thread(shutil.rmtree, path, True)


@asynccontextmanager
async def _scratch_index() -> AsyncIterator[dict[str, str]]:
    """Environment pointing git at a throwaway index file."""
    work = await asyncio.to_thread(tempfile.mkdtemp, prefix="tenon-emu-index-")
    try:
        yield {"GIT_INDEX_FILE": str(Path(work) / "index")}
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


async def commit_directory(
    repo: Path, folder: Path, *, branch: str, message: str, author: Person
) -> str | None:
    """Commit `folder`'s files (executable bits kept, caches excluded) on `branch` when they
    differ from its head; the new head, or None when nothing changed."""
    parent = await resolve(repo, f"refs/heads/{branch}")
    async with _scratch_index() as env:
        await git(repo, f"--work-tree={folder}", "add", "--all", ".", env=env, cwd=folder)
        tree = (await git(repo, "write-tree", env=env)).decode().strip()
    if parent is not None and (await commit_info(repo, parent)).tree == tree:
        return None
    return await _commit(repo, tree, parent, branch=branch, message=message, author=author)


async def commit_root_copy(
    repo: Path,
    source: Path,
    source_ref: str,
    *,
    branch: str,
    message: str,
    author: Person,
    committer: Person,
) -> str:
    """A new root commit on `branch` holding the tree of `source`'s `source_ref`."""
    await git(repo, "fetch", "--quiet", "--no-tags", str(source), source_ref)
    tree = (await git(repo, "rev-parse", "FETCH_HEAD^{tree}")).decode().strip()
    return await _commit(
        repo, tree, None, branch=branch, message=message, author=author, committer=committer
    )


async def commit_file(
    repo: Path,
    *,
    branch: str,
    parent: str | None,
    path: str,
    content: bytes,
    mode: str,
    message: str,
    author: Person,
    committer: Person,
) -> tuple[str, str]:
    """Write one file on top of `parent`; (commit sha, blob sha)."""
    blob = (await git(repo, "hash-object", "-w", "--stdin", stdin=content)).decode().strip()
    async with _scratch_index() as env:
        if parent is not None:
            await git(repo, "read-tree", parent, env=env)
        await git(repo, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env)
        tree = (await git(repo, "write-tree", env=env)).decode().strip()
    sha = await _commit(
        repo, tree, parent, branch=branch, message=message, author=author, committer=committer
    )
    return sha, blob


async def _commit(
    repo: Path,
    tree: str,
    parent: str | None,
    *,
    branch: str,
    message: str,
    author: Person,
    committer: Person | None = None,
) -> str:
    parents = ("-p", parent) if parent is not None else ()
    env = _identity_env(author, committer or author)
    sha = await git(repo, "commit-tree", tree, *parents, "-F", "-", stdin=message.encode(), env=env)
    commit = sha.decode().strip()
    # The expected old value makes a racing writer fail instead of being overwritten.
    old = parent if parent is not None else "0" * 40
    await git(repo, "update-ref", f"refs/heads/{branch}", commit, old)
    return commit


async def resolve(repo: Path, ref: str) -> str | None:
    """The commit a ref, branch, tag or (abbreviated) sha names; None when there is none."""
    if not ref or ref.startswith("-") or has_control_characters(ref):
        return None
    candidates = (
        [ref]
        if ref.startswith("refs/")
        else [f"refs/heads/{ref}", f"refs/tags/{ref}", *([ref] if _HEX_SHA.fullmatch(ref) else [])]
    )
    for candidate in candidates:
        try:
            out = await git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        except GitError:
            continue
        return out.decode().strip()
    return None


async def has_branch(repo: Path, branch: str) -> bool:
    return await resolve(repo, f"refs/heads/{branch}") is not None


async def is_empty(repo: Path) -> bool:
    refs = await git(repo, "for-each-ref", "--count=1", "refs/heads/")
    return not refs.strip()


def _parse_commits(raw: bytes) -> list[CommitInfo]:
    commits = []
    for record in raw.decode(errors="replace").split("\0"):
        if not record.strip():
            continue
        fields = record.lstrip("\n").split(_FIELD, 9)
        sha, tree, parents, an, ae, ad, cn, ce, cd, message = fields
        commits.append(
            CommitInfo(
                sha=sha,
                tree=tree,
                parents=tuple(parents.split()),
                author=Person(an, ae, ad),
                committer=Person(cn, ce, cd),
                message=message.rstrip("\n"),
            )
        )
    return commits


async def commit_info(repo: Path, sha: str) -> CommitInfo:
    raw = await git(repo, "log", "-z", "--no-walk", f"--format={_LOG_FORMAT}", sha, "--")
    return _parse_commits(raw)[0]


def _history_filters(since: str | None, until: str | None) -> list[str]:
    return [
        *([f"--since={since}"] if since else []),
        *([f"--until={until}"] if until else []),
    ]


async def log(
    repo: Path,
    rev: str,
    *,
    path: str | None = None,
    since: str | None = None,
    until: str | None = None,
    skip: int = 0,
    limit: int | None = None,
    reverse: bool = False,
) -> list[CommitInfo]:
    args = ["log", "-z", f"--format={_LOG_FORMAT}", *_history_filters(since, until)]
    if reverse:
        args.append("--reverse")
    if not reverse:
        args += [f"--skip={skip}", *([f"--max-count={limit}"] if limit is not None else [])]
    args += [rev, "--", *([path] if path else [])]
    commits = _parse_commits(await git(repo, *args))
    # `--skip` applies before `--reverse`, so oldest-first pages are cut here.
    if reverse:
        commits = commits[skip : None if limit is None else skip + limit]
    return commits


async def count(
    repo: Path,
    rev: str,
    *,
    path: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> int:
    args = ["rev-list", "--count", *_history_filters(since, until), rev, "--"]
    return int((await git(repo, *args, *([path] if path else []))).decode().strip())


async def merge_base(repo: Path, base: str, head: str) -> str | None:
    try:
        return (await git(repo, "merge-base", base, head)).decode().strip() or None
    except GitError as exc:
        if exc.returncode == 1:  # unrelated histories
            return None
        raise


async def entry(repo: Path, commit: str, path: str) -> TreeEntry | None:
    """The tree entry at `path` in `commit` (the root tree for "")."""
    if not path:
        tree = (await commit_info(repo, commit)).tree
        return TreeEntry(mode="040000", kind="tree", sha=tree, size=None, path="")
    entries = _parse_tree(await git(repo, "ls-tree", "-l", "-z", commit, "--", path))
    return next((item for item in entries if item.path == path), None)


async def list_tree(repo: Path, commit: str, path: str) -> list[TreeEntry]:
    """The entries directly inside the directory `path` ("" for the root)."""
    pathspec = [f"{path}/"] if path else []
    return _parse_tree(await git(repo, "ls-tree", "-l", "-z", commit, "--", *pathspec))


def _parse_tree(raw: bytes) -> list[TreeEntry]:
    entries = []
    for record in raw.decode(errors="replace").split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, sha, size = meta.split()
        entries.append(TreeEntry(mode, kind, sha, None if size == "-" else int(size), path))
    return entries


async def read_blob(repo: Path, sha: str) -> bytes:
    return await git(repo, "cat-file", "blob", sha)


async def archive(repo: Path, commit: str, *, prefix: str) -> BinaryIO:
    """`commit`'s tree as a tar.gz whose paths start with `prefix/`, as GitHub's tarballs
    (the commit id in a pax global header), in an anonymous temporary file (nothing on disk
    outlives it) opened at its start."""
    output = await asyncio.to_thread(tempfile.TemporaryFile, "w+b", prefix="tenon-emu-archive-")
    try:
        await git(repo, "archive", "--format=tar.gz", f"--prefix={prefix}/", commit, stdout=output)
        await asyncio.to_thread(output.seek, 0)
    except BaseException:
        output.close()
        raise
    return output


async def changes(repo: Path, base: str, head: str) -> list[FileChange]:
    """The files changed from `base` to `head`, renames detected, with real line counts and
    per-file patches (GitHub's `patch`: the hunks, without the file headers)."""
    raw = (await git(repo, "diff", "--raw", "--no-abbrev", "-z", "-M", base, head)).decode(
        errors="replace"
    )
    numstat = (await git(repo, "diff", "--numstat", "-z", "-M", base, head)).decode(
        errors="replace"
    )
    patch_text = (
        await git(repo, "diff", "-M", "--no-color", "--no-ext-diff", "-U3", base, head)
    ).decode(errors="replace")
    statuses = _parse_raw(raw)
    counts = _parse_numstat(numstat)
    patches = _split_patches(patch_text)
    result = []
    for index, (status, old_path, new_path, old_sha, new_sha) in enumerate(statuses):
        additions, deletions = counts[index] if index < len(counts) else (0, 0)
        removed = status == "removed"
        result.append(
            FileChange(
                filename=old_path if removed else new_path,
                status=status,
                sha=old_sha if removed else new_sha,
                additions=additions,
                deletions=deletions,
                patch=patches[index] if index < len(patches) else None,
                previous_filename=old_path if status == "renamed" else None,
            )
        )
    return result


_RAW_STATUS = {"A": "added", "D": "removed", "M": "modified", "T": "modified", "R": "renamed"}


def _parse_raw(raw: str) -> list[tuple[str, str, str, str, str]]:
    fields = raw.split("\0")
    result = []
    index = 0
    while index < len(fields) and fields[index].startswith(":"):
        _, _, old_sha, new_sha, code = fields[index][1:].split(" ")
        status = _RAW_STATUS.get(code[0], "changed")
        if code[0] in "RC":
            old_path, new_path = fields[index + 1], fields[index + 2]
            index += 3
        else:
            old_path = new_path = fields[index + 1]
            index += 2
        result.append((status, old_path, new_path, old_sha, new_sha))
    return result


def _parse_numstat(raw: str) -> list[tuple[int, int]]:
    fields = raw.split("\0")
    result = []
    index = 0
    while index < len(fields) and fields[index]:
        added, deleted, path = fields[index].split("\t", 2)
        # A rename leaves the path empty and puts the old and new paths in the next fields.
        index += 1 if path else 3
        result.append((int(added) if added != "-" else 0, int(deleted) if deleted != "-" else 0))
    return result


def _split_patches(text: str) -> list[str | None]:
    sections: list[list[str]] = []
    for line in text.split("\n"):
        if line.startswith("diff --git "):
            sections.append([])
        elif sections:
            sections[-1].append(line)
    patches: list[str | None] = []
    for lines in sections:
        start = next((i for i, line in enumerate(lines) if line.startswith("@@")), None)
        patches.append(None if start is None else "\n".join(lines[start:]).rstrip("\n"))
    return patches


async def clone_at(
    repo: Path, sha: str, destination: Path, *, origin: str, branch: str | None
) -> None:
    """A working copy of `repo` at `sha`, on `branch` (else detached), whose `origin` is the
    URL `origin`: what actions/checkout leaves in a run's workspace. Objects are copied, not
    hard-linked, so nothing a workflow does to its copy can reach the repository."""
    await git(
        None, "clone", "--quiet", "--no-checkout", "--no-hardlinks", str(repo), str(destination)
    )
    if branch is not None:
        await git(None, "checkout", "--quiet", "-B", branch, sha, cwd=destination)
    else:
        await git(
            None,
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            "--detach",
            sha,
            cwd=destination,
        )
    await git(None, "remote", "set-url", "origin", origin, cwd=destination)


def environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment git runs with here (isolated from the machine's configuration), plus
    `extra`: for git processes started elsewhere than `git()`."""
    return {**os.environ, **_GIT_ENV, **extra}


@dataclass(frozen=True)
class PushedCommit:
    info: CommitInfo
    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]


_PUSHED_FORMAT = "\x1e" + _LOG_FORMAT
_NAME_STATUS = {"A": "added", "D": "removed"}


async def pushed_commits(
    repo: Path, after: str, *, exclude: tuple[str, ...], limit: int
) -> list[PushedCommit]:
    """The newest `limit` commits reachable from `after` and from none of `exclude` (revision
    arguments: a sha, or `--exclude=<branch>` `--branches`), oldest first, each with the
    files it added, removed and modified (against its first parent)."""
    raw = await git(
        repo,
        "log",
        "-z",
        f"--format={_PUSHED_FORMAT}",
        "--name-status",
        "--no-renames",
        "--diff-merges=first-parent",
        f"--max-count={limit}",
        after,
        "--not",
        *exclude,
        "--",
    )
    commits: list[PushedCommit] = []
    tokens = raw.decode(errors="replace").split("\0")
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.startswith("\x1e"):
            continue
        [info] = _parse_commits(token[1:].encode())
        files: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
        # Then (status, path) pairs, up to the next commit.
        while index + 1 < len(tokens) and not tokens[index].startswith("\x1e") and tokens[index]:
            status = tokens[index].strip("\n")
            files[_NAME_STATUS.get(status, "modified")].append(tokens[index + 1])
            index += 2
        commits.append(
            PushedCommit(
                info, tuple(files["added"]), tuple(files["removed"]), tuple(files["modified"])
            )
        )
    commits.reverse()
    return commits


async def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    try:
        await git(repo, "merge-base", "--is-ancestor", ancestor, descendant)
    except GitError as exc:
        if exc.returncode == 1:
            return False
        raise
    return True
