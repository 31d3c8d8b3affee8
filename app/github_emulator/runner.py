"""The workflow runner: a bounded pool of workers executing dispatched runs for real.

A run reads its workflow file from the repository at its head sha and starts in an empty
workspace (a temporary directory). It goes through the jobs (in file order) and steps:
`run:` scripts under `bash -eo pipefail`, the actions of `actions.py` (checkout,
create-github-app-token), `actions/setup-*` as no-ops, and `actions/upload-artifact` zipping
its paths into an artifact. Steps with an `id` expose what they write to `$GITHUB_OUTPUT`
as `steps.<id>.outputs.<name>`.

Each run gets its own installation token (`github.token`, `secrets.GITHUB_TOKEN`), limited to
its repository with contents, metadata and actions read, and revoked when the run ends with
every token its steps minted. `secrets.<NAME>` reads the repository's secrets; secret values
and tokens are masked (`***`) in the run's log, as on GitHub.

The run moves queued → in_progress → completed (success | failure | timed_out | cancelled),
sending a `workflow_run` webhook at each step; each step's output is kept in the run's log.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import structlog

from app.github_emulator import actions, git, payloads
from app.github_emulator.config import EmulatorConfig
from app.github_emulator.storage import Artifact, Repo, Run, Store, utcnow
from app.github_emulator.tokens import Identity, InstallationTokens, TokenScope
from app.github_emulator.webhooks import WebhookSender
from app.github_emulator.workflows import (
    Context,
    Job,
    Step,
    Workflow,
    WorkflowError,
    collect_artifact_files,
    parse_env_file,
    parse_workflow,
    should_run,
    write_zip,
)

log = structlog.get_logger(__name__)

_READ_CHUNK = 64 * 1024
# A background process can hold a step's output pipe open after the script ends.
_OUTPUT_GRACE_SECONDS = 2.0
_STEP_FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
RUN_TOKEN_PERMISSIONS = {"contents": "read", "metadata": "read", "actions": "read"}
# Shorter values are not masked: hiding every "1" would make a log unreadable.
_MIN_MASKED_LENGTH = 4
_MASK = "***"


class Journal:
    """A run's log, capped so a chatty step cannot exhaust memory; registered secrets are
    masked when the text is read (a secret may straddle two chunks of output)."""

    LIMIT = 4 * 1024 * 1024

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._truncated = False
        self._masked: set[str] = set()

    def mask(self, secret: str) -> None:
        """Hide `secret`, and each line of a multi-line one, wherever it appears."""
        for value in (secret, *secret.splitlines()):
            if len(value.strip()) >= _MIN_MASKED_LENGTH:
                self._masked.add(value.strip())

    def write(self, chunk: str) -> None:
        if self._size + len(chunk) > self.LIMIT:
            if not self._truncated:
                self._parts.append("\n##[warning]Log truncated.\n")
                self._truncated = True
            return
        self._parts.append(chunk)
        self._size += len(chunk)

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def text(self) -> str:
        text = "".join(self._parts)
        # Longest first, so a secret containing another is hidden whole.
        for secret in sorted(self._masked, key=len, reverse=True):
            text = text.replace(secret, _MASK)
        return text


@dataclass
class _RunScope:
    run: Run
    repo: Repo
    workflow: Workflow
    workspace: Path
    temp: Path
    context: Context
    base_env: dict[str, str]
    journal: Journal
    site: actions.ActionSite
    # Tokens minted during the run, revoked when it ends.
    issued: list[str]


@dataclass
class _JobState:
    env: dict[str, str]
    extra_path: list[str] = field(default_factory=list)
    process_groups: list[int] = field(default_factory=list)
    failed: bool = False
    # Step id -> "outputs.<name>", "outcome", "conclusion" (the `steps` context).
    steps: dict[str, dict[str, str]] = field(default_factory=dict)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class Runner:
    def __init__(
        self,
        config: EmulatorConfig,
        store: Store,
        webhooks: WebhookSender,
        tokens: InstallationTokens,
        identify: Callable[[str], Identity | None],
    ) -> None:
        self._config = config
        self._store = store
        self._webhooks = webhooks
        self._tokens = tokens
        # Who a token names, as git over HTTP sees it (for actions/checkout's `token`).
        self._identify = identify
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work()) for _ in range(self._config.max_concurrent_runs)
        ]

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def create_run(
        self,
        repo: Repo,
        *,
        workflow_id: int,
        path: str,
        workflow: Workflow,
        ref: str,
        head: git.CommitInfo,
        inputs: dict[str, str],
        actor: str,
        api_base: str,
    ) -> Run:
        """Record a queued run, announce it (`requested`) and hand it to the workers."""
        number = repo.run_numbers.get(str(workflow_id), 0) + 1
        repo.run_numbers[str(workflow_id)] = number
        run_id = self._store.next_id("run")
        ref_name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
        context = Context(
            inputs=inputs,
            github={"ref": ref, "ref_name": ref_name, "sha": head.sha, "actor": actor},
            env={},
            runner={},
        )
        now = utcnow()
        run = Run(
            id=run_id,
            repo_id=repo.id,
            workflow_id=workflow_id,
            path=path,
            name=workflow.name,
            display_title=(
                context.substitute(workflow.run_name) if workflow.run_name else workflow.name
            ),
            run_number=number,
            ref=ref,
            head_sha=head.sha,
            head_branch=ref_name,
            head_commit=payloads.head_commit(head),
            actor=actor,
            inputs=inputs,
            api_base=api_base,
            created_at=now,
            updated_at=now,
        )
        self._store.state.runs[run.id] = run
        await self._store.save()
        self._notify(run, "requested")
        self._queue.put_nowait(run.id)
        log.info("emulator.run.queued", run_id=run.id, repo=repo.full_name, workflow=path)
        return run

    def _notify(self, run: Run, action: str) -> None:
        repo = self._store.repo_by_id(run.repo_id)
        if repo is None:
            return
        payload = payloads.workflow_run_event(
            run.api_base,
            action,
            repo,
            self._store.account(repo.owner),
            self._store.account(run.actor),
            run,
            self._config.installation_id,
        )
        self._webhooks.send(f"run:{run.id}", "workflow_run", payload)

    async def _work(self) -> None:
        while True:
            run_id = await self._queue.get()
            try:
                await self._execute(run_id)
            finally:
                self._queue.task_done()

    async def _execute(self, run_id: int) -> None:
        run = self._store.state.runs.get(run_id)
        repo = None if run is None else self._store.repo_by_id(run.repo_id)
        if run is None or repo is None:
            return
        run.status, run.run_started_at = "in_progress", utcnow()
        run.updated_at = run.run_started_at
        await self._store.save()
        self._notify(run, "in_progress")
        log.info("emulator.run.started", run_id=run.id, repo=repo.full_name)
        journal = Journal()
        try:
            async with asyncio.timeout(self._config.run_timeout_seconds):
                conclusion = await self._run_in_workspace(run, repo, journal)
        except TimeoutError:
            journal.line(
                f"##[error]The run exceeded the {self._config.run_timeout_seconds:g} s limit "
                "and was stopped."
            )
            conclusion = "timed_out"
        except asyncio.CancelledError:
            await self._finish(run, repo, "cancelled", journal)
            raise
        except Exception:
            log.exception("emulator.run.crashed", run_id=run.id)
            journal.line("##[error]The runner failed; see the emulator's log.")
            conclusion = "failure"
        await self._finish(run, repo, conclusion, journal)

    async def _finish(self, run: Run, repo: Repo, conclusion: str, journal: Journal) -> None:
        run.status, run.conclusion, run.updated_at = "completed", conclusion, utcnow()
        await asyncio.to_thread(self._store.log_path(run.id).write_text, journal.text())
        await self._store.save()
        self._notify(run, "completed")
        log.info(
            "emulator.run.completed", run_id=run.id, repo=repo.full_name, conclusion=conclusion
        )

    async def _run_in_workspace(self, run: Run, repo: Repo, journal: Journal) -> str:
        try:
            workflow = parse_workflow(await self._workflow_source(run, repo), run.path)
        except WorkflowError as exc:
            journal.line(f"##[error]Invalid workflow file {run.path}: {exc}")
            return "failure"
        root = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=f"tenon-emu-run-{run.id}-"))
        issued: list[str] = []
        try:
            workspace, temp = root / "workspace", root / "temp"
            await asyncio.to_thread(workspace.mkdir)
            await asyncio.to_thread(temp.mkdir)
            token, _ = self._tokens.mint(
                TokenScope(
                    permissions=RUN_TOKEN_PERMISSIONS,
                    owner=repo.owner.lower(),
                    repository_ids=frozenset({repo.id}),
                )
            )
            issued.append(token)
            scope = await self._scope(
                run, repo, workflow, workspace, temp, journal, token=token, issued=issued
            )
            return await self._run_jobs(scope)
        finally:
            self._tokens.revoke(issued)
            await asyncio.to_thread(shutil.rmtree, root, True)

    async def _workflow_source(self, run: Run, repo: Repo) -> str:
        """The workflow file as of the run's commit, read from the repository itself."""
        path = self._store.path(repo)
        entry = await git.entry(path, run.head_sha, run.path)
        if entry is None or entry.kind != "blob":
            raise WorkflowError(f"{run.path} does not exist at {run.head_sha}")
        return (await git.read_blob(path, entry.sha)).decode(errors="replace")

    async def _scope(
        self,
        run: Run,
        repo: Repo,
        workflow: Workflow,
        workspace: Path,
        temp: Path,
        journal: Journal,
        *,
        token: str,
        issued: list[str],
    ) -> _RunScope:
        ref_name = run.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
        github = {
            "sha": run.head_sha,
            "ref": run.ref,
            "ref_name": ref_name,
            "ref_type": "tag" if run.ref.startswith("refs/tags/") else "branch",
            "repository": repo.full_name,
            "repository_owner": repo.owner,
            "run_id": str(run.id),
            "run_number": str(run.run_number),
            "run_attempt": "1",
            "workspace": str(workspace),
            "event_name": run.event,
            "actor": run.actor,
            "workflow": workflow.name,
            "server_url": run.api_base,
            "api_url": run.api_base,
        }
        event_path = temp / "event.json"
        event = {"inputs": run.inputs, "ref": run.ref, "workflow": run.path}
        await asyncio.to_thread(event_path.write_text, json.dumps(event))
        # Tenon's own settings (tokens, keys) must not reach the code a workflow runs.
        base_env = {key: value for key, value in os.environ.items() if not key.startswith("TENON_")}
        base_env |= {f"GITHUB_{key.upper()}": value for key, value in github.items()}
        base_env |= {
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "RUNNER_TEMP": str(temp),
            "RUNNER_OS": "Linux",
        }
        runner = {"temp": str(temp), "os": "Linux"}
        secrets = repo.secrets | {"GITHUB_TOKEN": token}
        for value in secrets.values():
            journal.mask(value)
        site = actions.ActionSite(
            store=self._store,
            tokens=self._tokens,
            identify=self._identify,
            app_id=self._config.app_id,
            repo=repo,
            sha=run.head_sha,
            workspace=workspace,
            token=token,
            server_url=run.api_base,
        )
        return _RunScope(
            run=run,
            repo=repo,
            workflow=workflow,
            workspace=workspace,
            temp=temp,
            # The token is in the context only: GitHub does not put it in the environment.
            context=Context(
                inputs=run.inputs,
                github=github | {"token": token},
                env={},
                runner=runner,
                secrets=secrets,
            ),
            base_env=base_env,
            journal=journal,
            site=site,
            issued=issued,
        )

    async def _run_jobs(self, scope: _RunScope) -> str:
        results: dict[str, str] = {}
        workflow_env = {
            key: scope.context.substitute(value) for key, value in scope.workflow.env.items()
        }
        for job in scope.workflow.jobs:
            needs_failed = any(results.get(need) != "success" for need in job.needs)
            if not should_run(job.condition, failed=needs_failed, context=scope.context):
                scope.journal.line(f"##[group]{job.name}\nSkipped.")
                results[job.id] = "skipped"
                continue
            context = scope.context.with_env(workflow_env)
            env = workflow_env | {key: context.substitute(v) for key, v in job.env.items()}
            results[job.id] = await self._run_job(scope, job, _JobState(env=env))
        return "failure" if "failure" in results.values() else "success"

    async def _run_job(self, scope: _RunScope, job: Job, state: _JobState) -> str:
        try:
            for index, step in enumerate(job.steps):
                scope.journal.line(f"##[group]{job.name} / {step.name}")
                context = scope.context.with_env(state.env).with_steps(state.steps)
                if not should_run(step.condition, failed=state.failed, context=context):
                    scope.journal.line("Skipped.")
                    _record(state, step, "skipped", "skipped", {})
                    continue
                step_env = state.env | {
                    key: context.substitute(value) for key, value in step.env.items()
                }
                succeeded, outputs = await self._run_step(
                    scope, job, step, index, context.with_env(step_env), step_env, state
                )
                outcome = "success" if succeeded else "failure"
                if not succeeded and step.continue_on_error:
                    scope.journal.line("The step failed; continue-on-error keeps the job going.")
                    _record(state, step, outcome, "success", outputs)
                else:
                    state.failed = state.failed or not succeeded
                    _record(state, step, outcome, outcome, outputs)
        finally:
            # As on a hosted runner, processes a job left behind end with it.
            for pgid in state.process_groups:
                _kill_group(pgid)
        return "failure" if state.failed else "success"

    async def _run_step(
        self,
        scope: _RunScope,
        job: Job,
        step: Step,
        index: int,
        context: Context,
        step_env: dict[str, str],
        state: _JobState,
    ) -> tuple[bool, dict[str, str]]:
        """Whether the step succeeded, and its outputs."""
        if step.uses is not None:
            return await self._run_action(scope, step.uses, context, step.with_)
        assert step.run is not None
        directory = (
            step.working_directory or job.working_directory or scope.workflow.working_directory
        )
        cwd = scope.workspace / context.substitute(directory) if directory else scope.workspace
        files = {name: scope.temp / f"{name.lower()}_{job.id}_{index}" for name in _STEP_FILES}
        await asyncio.to_thread(_touch, list(files.values()))
        path = os.pathsep.join(
            [
                *reversed(state.extra_path),
                str(Path(sys.executable).parent),
                os.environ.get("PATH", os.defpath),
            ]
        )
        env = (
            scope.base_env
            | {"GITHUB_JOB": job.id}
            | step_env
            | {name: str(file) for name, file in files.items()}
            | {"PATH": path}
        )
        code = await self._run_script(
            context.substitute(step.run), cwd=cwd, env=env, scope=scope, state=state
        )
        env_file = await asyncio.to_thread(files["GITHUB_ENV"].read_text)
        path_file = await asyncio.to_thread(files["GITHUB_PATH"].read_text)
        output_file = await asyncio.to_thread(files["GITHUB_OUTPUT"].read_text)
        state.env |= parse_env_file(env_file)
        state.extra_path += [line for line in path_file.splitlines() if line.strip()]
        if code != 0:
            scope.journal.line(f"##[error]Process completed with exit code {code}.")
        return code == 0, parse_env_file(output_file)

    async def _run_action(
        self, scope: _RunScope, uses: str, context: Context, with_: Mapping[str, str]
    ) -> tuple[bool, dict[str, str]]:
        action = uses.split("@", 1)[0].lower()
        options = {key: context.substitute(value) for key, value in with_.items()}
        if action == "actions/upload-artifact":
            return await self._upload(scope, options), {}
        if action == "actions/checkout":
            result = await actions.checkout(scope.site, options)
        elif action == "actions/create-github-app-token":
            result = actions.create_app_token(scope.site, options)
        else:
            if not action.startswith("actions/setup-"):
                scope.journal.line(f"##[warning]{uses} is not emulated; nothing was done.")
            return True, {}
        for token in result.issued:
            scope.issued.append(token)
            scope.journal.mask(token)
        for line in result.lines:
            scope.journal.line(line)
        return result.ok, result.outputs

    async def _run_script(
        self, script: str, *, cwd: Path, env: dict[str, str], scope: _RunScope, state: _JobState
    ) -> int:
        script_path = scope.temp / f"step-{uuid.uuid4().hex}.sh"
        await asyncio.to_thread(script_path.write_text, script)
        if not await asyncio.to_thread(cwd.is_dir):
            scope.journal.line(f"##[error]No such working directory: {cwd}")
            return 1
        process = await asyncio.create_subprocess_exec(
            "bash",
            "--noprofile",
            "--norc",
            "-eo",
            "pipefail",
            str(script_path),
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        state.process_groups.append(process.pid)
        assert process.stdout is not None
        reader = asyncio.create_task(_copy_output(process.stdout, scope.journal))
        try:
            code = await process.wait()
            _, pending = await asyncio.wait([reader], timeout=_OUTPUT_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            return code
        except BaseException:
            # Timed out or shutting down: nothing the step started may outlive it.
            _kill_group(process.pid)
            reader.cancel()
            await process.wait()
            raise

    async def _upload(self, scope: _RunScope, options: Mapping[str, str]) -> bool:
        name = options.get("name") or "artifact"
        spec = options.get("path", "")
        journal = scope.journal
        if not spec.strip():
            journal.line("##[error]Input required and not supplied: path")
            return False
        root, files = await asyncio.to_thread(
            collect_artifact_files,
            spec,
            scope.workspace,
            allowed=(scope.workspace, scope.temp),
            include_hidden=options.get("include-hidden-files", "false") == "true",
        )
        if not files:
            missing = options.get("if-no-files-found", "warn")
            message = (
                f"No files were found with the provided path: {spec}. "
                "No artifacts will be uploaded."
            )
            if missing == "error":
                journal.line(f"##[error]{message}")
                return False
            if missing == "warn":
                journal.line(f"##[warning]{message}")
            return True
        artifacts = self._store.state.artifacts
        if any(a.run_id == scope.run.id and a.name == name for a in artifacts.values()):
            journal.line(f"##[error]An artifact named {name!r} already exists on this run.")
            return False
        artifact_id = self._store.next_id("artifact")
        size, digest = await asyncio.to_thread(
            write_zip, self._store.artifact_path(artifact_id), root, files
        )
        retention = self._config.artifact_retention_seconds
        days = options.get("retention-days", "")
        if days.isdigit():
            retention = min(retention, int(days) * 86400)
        now = utcnow()
        artifacts[artifact_id] = Artifact(
            id=artifact_id,
            repo_id=scope.repo.id,
            run_id=scope.run.id,
            name=name,
            size_in_bytes=size,
            digest=digest,
            head_sha=scope.run.head_sha,
            head_branch=scope.run.head_branch,
            created_at=now,
            expires_at=now + timedelta(seconds=retention),
        )
        await self._store.save()
        journal.line(f"Artifact {name!r} uploaded: {len(files)} files, {size} bytes.")
        log.info("emulator.artifact.uploaded", run_id=scope.run.id, artifact_id=artifact_id)
        return True


def _record(
    state: _JobState, step: Step, outcome: str, conclusion: str, outputs: Mapping[str, str]
) -> None:
    if step.id is not None:
        state.steps[step.id] = {
            "outcome": outcome,
            "conclusion": conclusion,
            **{f"outputs.{name}": value for name, value in outputs.items()},
        }


def _touch(paths: list[Path]) -> None:
    for path in paths:
        path.touch()


async def _copy_output(stream: asyncio.StreamReader, journal: Journal) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := await stream.read(_READ_CHUNK):
        journal.write(decoder.decode(chunk))
    journal.write(decoder.decode(b"", final=True))
