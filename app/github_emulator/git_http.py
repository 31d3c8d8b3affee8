"""Git over HTTP, as github.com serves it: `git clone`, `fetch` and `push` on a repository's
`html_url` or `clone_url` (`{base}/{owner}/{repo}` or `{base}/{owner}/{repo}.git`), through
the smart protocol.

Each request is answered by `git http-backend` run as a CGI, in a process group of its own.
Request and response bodies are streamed through it, never held whole in memory; the
process group is killed and reaped on every way out (done, client gone, time limit,
cancellation).

Credentials as on GitHub: HTTP Basic with a token as the password (or as the username with
no password; installation tokens go as `x-access-token:<token>`). The service's tokens act as
the emulator's actor; a user token (minted by POST /_emulator/users/{login}/tokens) as its
user, who must be a collaborator: any role to read a private repository, write or above to
push. A scoped installation token needs the repository in its scope (a private one outside
it is "not found") and contents read to fetch, write to push. Anonymous requests may read
public repositories; anything else gets 401 and a Basic challenge, so git asks for
credentials.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.github_emulator import git, pushes
from app.github_emulator.emulator import Emulator
from app.github_emulator.storage import Repo
from app.github_emulator.tokens import Identity, git_access

log = structlog.get_logger(__name__)

UPLOAD_PACK = "git-upload-pack"
RECEIVE_PACK = "git-receive-pack"
_CHUNK = 64 * 1024
_STDERR_KEPT = 4096
_MAX_HEADER_LINES = 64
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="GitHub"'}
_PUSH_LOG_ENV = "EMULATOR_PUSH_LOG"
# Runs after a push has moved its refs; receive-pack hands it one `<old> <new> <ref>` line
# per moved ref. Only pushes through this module see it (core.hooksPath is set per request).
_POST_RECEIVE = f'#!/bin/sh\nexec cat >> "${_PUSH_LOG_ENV}"\n'


def routes() -> list[Route]:
    return [
        Route("/{owner}/{repo}/info/refs", _info_refs, methods=["GET"]),
        Route("/{owner}/{repo}/git-upload-pack", _upload_pack, methods=["POST"]),
        Route("/{owner}/{repo}/git-receive-pack", _receive_pack, methods=["POST"]),
    ]


class _RefusedError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> _RefusedError:
    return _RefusedError(PlainTextResponse(message + "\n", status, headers=headers))


async def _info_refs(request: Request) -> Response:
    service = request.query_params.get("service")
    if service not in (UPLOAD_PACK, RECEIVE_PACK):
        return PlainTextResponse("Only the smart HTTP protocol is served.\n", 403)
    return await _serve(request, service, "info/refs")


async def _upload_pack(request: Request) -> Response:
    return await _serve(request, UPLOAD_PACK, UPLOAD_PACK)


async def _receive_pack(request: Request) -> Response:
    return await _serve(request, RECEIVE_PACK, RECEIVE_PACK)


async def _serve(request: Request, service: str, tail: str) -> Response:
    emulator: Emulator = request.app.state.emulator
    emulator.requests[f"{request.method} /{{owner}}/{{repo}}/{tail}"] += 1
    try:
        identity = _identify(emulator, request.headers.get("authorization"))
        repo = _authorize(emulator, request, identity, push=service == RECEIVE_PACK)
    except _RefusedError as refused:
        response = refused.response
    else:
        response = _Backend(emulator, request, repo, identity, tail)
    emulator.statuses[str(response.status_code)] += 1
    return response


def _identify(emulator: Emulator, authorization: str | None) -> Identity | None:
    """Who the Basic credentials name; None for none; 401 for anything else."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    username, _, password = decoded.partition(":")
    token = password or username
    identity = emulator.git_identity(token) if scheme.lower() == "basic" and token else None
    if identity is None:
        raise _text(
            401,
            "Invalid username or token. "
            "Password authentication is not supported for Git operations.",
            _CHALLENGE,
        )
    return identity


def _authorize(
    emulator: Emulator, request: Request, identity: Identity | None, *, push: bool
) -> Repo:
    name = request.path_params["repo"].removesuffix(".git")
    repo = emulator.store.repo(request.path_params["owner"], name)
    if identity is None and (repo is None or repo.private or push):
        # As on GitHub: anonymous callers learn nothing, they are asked to sign in.
        raise _text(401, "Authentication required.", _CHALLENGE)
    if repo is None:
        raise _text(404, "Repository not found.")
    if identity is not None:
        access = git_access(identity, repo, push=push)
        if access == "hidden":
            raise _text(404, "Repository not found.")
        if access == "denied":
            raise _text(403, f"Permission to {repo.full_name}.git denied to {identity.login}.")
    if push and repo.archived:
        raise _text(403, "This repository was archived so it is read-only.")
    return repo


class _Backend(Response):
    """`git http-backend`'s answer to the request, streamed both ways."""

    def __init__(
        self, emulator: Emulator, request: Request, repo: Repo, identity: Identity | None, tail: str
    ) -> None:
        super().__init__(status_code=200)
        self._emulator = emulator
        self._repo = repo
        self._identity = identity
        self._tail = tail
        self._base = emulator.base_url(request)
        self._env = _cgi_environment(emulator, request, repo, identity, tail)
        self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._tail != RECEIVE_PACK:
            await self._run(self._env, receive, send)
            return
        scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="tenon-emu-push-"))
        try:
            hook_env = await asyncio.to_thread(_push_hook, scratch)
            await self._run(self._env | hook_env, receive, send)
            # Whatever moved is announced, even when the client left before the end.
            await self._announce(scratch)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)

    async def _run(self, env: dict[str, str], receive: Receive, send: Send) -> None:
        process = await asyncio.create_subprocess_exec(
            "git",
            "http-backend",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        await self._supervise(process, receive, send)

    async def _supervise(
        self,
        process: asyncio.subprocess.Process,
        receive: Receive,
        send: Send,
    ) -> None:
        assert process.stdin is not None
        assert process.stderr is not None
        errors = asyncio.create_task(_tail(process.stderr))
        client_gone = asyncio.create_task(_feed_until_gone(receive, process.stdin))
        answer = asyncio.create_task(self._answer(process, send))
        tasks = (errors, client_gone, answer)
        try:
            async with asyncio.timeout(self._emulator.config.git_http_timeout_seconds):
                await asyncio.wait((client_gone, answer), return_when=asyncio.FIRST_COMPLETED)
            if answer.done():
                answer.result()
            else:
                log.info("emulator.git.client_gone", repo=self._repo.full_name, path=self._tail)
        except TimeoutError:
            log.warning("emulator.git.timed_out", repo=self._repo.full_name, path=self._tail)
            await self._give_up(504, "The git request took too long.", receive, send)
        except Exception:
            log.exception("emulator.git.failed", repo=self._repo.full_name, path=self._tail)
            await self._give_up(500, "git failed; see the emulator's log.", receive, send)
        finally:
            for task in tasks:
                task.cancel()
            _kill_group(process)
            code = await process.wait()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            if code != 0:
                stderr = results[0] if isinstance(results[0], bytes) else b""
                log.warning(
                    "emulator.git.backend_exited",
                    repo=self._repo.full_name,
                    path=self._tail,
                    code=code,
                    stderr=stderr.decode(errors="replace"),
                )

    async def _give_up(self, status: int, message: str, receive: Receive, send: Send) -> None:
        """Answer with an error if nothing was sent yet (else the unfinished response cuts
        the connection); either way the connection closes, as the client may still be
        sending."""
        if not self._started:
            response = PlainTextResponse(message + "\n", status, headers={"Connection": "close"})
            await response({"type": "http"}, receive, send)

    async def _answer(self, process: asyncio.subprocess.Process, send: Send) -> None:
        assert process.stdout is not None
        status, headers = await _cgi_head(process.stdout)
        self._started = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        while chunk := await process.stdout.read(_CHUNK):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await process.wait()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _announce(self, scratch: Path) -> None:
        log_file = scratch / "pushed"
        text = await asyncio.to_thread(_read_if_exists, log_file)
        assert self._identity is not None  # pushes are authenticated
        updates = pushes.parse_ref_updates(text)
        await pushes.announce(self._emulator, self._repo, self._identity.login, updates, self._base)


def _cgi_environment(
    emulator: Emulator, request: Request, repo: Repo, identity: Identity | None, tail: str
) -> dict[str, str]:
    headers = request.headers
    cgi = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": request.method,
        "GIT_PROJECT_ROOT": str(emulator.store.path(repo).parent),
        "PATH_INFO": f"/{emulator.store.path(repo).name}/{tail}",
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": headers.get("content-type", ""),
        "REMOTE_ADDR": request.client.host if request.client else "",
        # Access was decided above; the backend serves whatever it is asked.
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.receivepack",
        "GIT_CONFIG_VALUE_0": "true",
    }
    optional = {
        "CONTENT_LENGTH": headers.get("content-length"),
        "HTTP_CONTENT_ENCODING": headers.get("content-encoding"),
        "HTTP_GIT_PROTOCOL": headers.get("git-protocol"),
        "REMOTE_USER": identity.login if identity is not None else None,
    }
    cgi |= {key: value for key, value in optional.items() if value}
    return git.environment(cgi)


def _push_hook(scratch: Path) -> dict[str, str]:
    """A post-receive hook in `scratch` that lists the moved refs in `scratch/pushed`; the
    environment that makes this request's receive-pack run it."""
    hooks = scratch / "hooks"
    hooks.mkdir()
    hook = hooks / "post-receive"
    hook.write_text(_POST_RECEIVE)
    hook.chmod(0o755)
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_1": "core.hooksPath",
        "GIT_CONFIG_VALUE_1": str(hooks),
        _PUSH_LOG_ENV: str(scratch / "pushed"),
    }


def _read_if_exists(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def _cgi_head(stdout: asyncio.StreamReader) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and headers the CGI printed before its body."""
    status, headers = 200, list[tuple[bytes, bytes]]()
    for _ in range(_MAX_HEADER_LINES):
        line = await stdout.readline()
        if not line:
            raise RuntimeError("git http-backend ended before its headers")
        if not line.strip():
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "status":
            status = int(value.split()[0])
        else:
            headers.append((name.strip().lower().encode(), value.strip().encode("latin-1")))
    raise RuntimeError("git http-backend printed too many headers")


async def _feed_until_gone(receive: Receive, stdin: asyncio.StreamWriter) -> None:
    """Copy the request body into the backend, then return once the client disconnects."""
    writable, more = True, True
    try:
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = message.get("more_body", False)
            body = message.get("body", b"")
            if writable and body:
                try:
                    stdin.write(body)
                    await stdin.drain()
                except (BrokenPipeError, ConnectionResetError):
                    writable = False  # it stopped reading: it has answered or failed
    finally:
        stdin.close()
    while (await receive())["type"] != "http.disconnect":
        pass


async def _tail(stream: asyncio.StreamReader) -> bytes:
    """Read a stream to its end, keeping only its last few kilobytes."""
    kept = b""
    while chunk := await stream.read(_CHUNK):
        kept = (kept + chunk)[-_STDERR_KEPT:]
    return kept


def _kill_group(process: asyncio.subprocess.Process) -> None:
    # The backend's children (upload-pack, pack-objects, hooks) are in its group.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
