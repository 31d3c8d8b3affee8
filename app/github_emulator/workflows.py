"""Workflow files: parsing (PyYAML), `${{ }}` expressions, step conditions, and the files an
`actions/upload-artifact` step collects. Pure functions; the runner does the I/O scheduling.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml


class WorkflowError(Exception):
    """The workflow file is not valid YAML or not a workflow."""


@dataclass(frozen=True)
class Step:
    # The step's `id`: its outputs are `steps.<id>.outputs.<name>`.
    id: str | None
    name: str
    uses: str | None
    run: str | None
    with_: dict[str, str]
    env: dict[str, str]
    condition: str | None
    working_directory: str | None
    continue_on_error: bool


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    needs: tuple[str, ...]
    condition: str | None
    env: dict[str, str]
    working_directory: str | None
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class DispatchInput:
    required: bool
    default: str | None


@dataclass(frozen=True)
class Workflow:
    name: str
    run_name: str | None
    triggers: frozenset[str]
    # None when the workflow has no `workflow_dispatch` trigger.
    dispatch_inputs: dict[str, DispatchInput] | None
    env: dict[str, str]
    working_directory: str | None
    jobs: tuple[Job, ...] = ()


def text(value: Any) -> str:
    """A YAML scalar as the string an expression would see."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WorkflowError(f"{what} must be a mapping")
    return {str(key): item for key, item in value.items()}


def _strings(value: Any, what: str) -> dict[str, str]:
    return {key: text(item) for key, item in _mapping(value, what).items()}


def _working_directory(defaults: Any) -> str | None:
    run = _mapping(_mapping(defaults, "defaults").get("run"), "defaults.run")
    directory = run.get("working-directory")
    return None if directory is None else text(directory)


def _triggers(on: Any) -> dict[str, Any]:
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {text(item): None for item in on}
    return _mapping(on, "on")


def _dispatch_inputs(trigger: Any) -> dict[str, DispatchInput]:
    inputs = _mapping(_mapping(trigger, "workflow_dispatch").get("inputs"), "inputs")
    parsed = {}
    for name, spec in inputs.items():
        spec = _mapping(spec, f"inputs.{name}")
        default = spec.get("default")
        parsed[name] = DispatchInput(
            required=bool(spec.get("required", False)),
            default=None if default is None else text(default),
        )
    return parsed


def _step(index: int, raw: Any) -> Step:
    spec = _mapping(raw, f"steps[{index}]")
    uses = spec.get("uses")
    run = spec.get("run")
    if (uses is None) == (run is None):
        raise WorkflowError(f"steps[{index}] needs exactly one of `uses` and `run`")
    default_name = f"Run {text(uses)}" if uses is not None else f"Run {text(run).splitlines()[0]}"
    condition = spec.get("if")
    step_id = spec.get("id")
    return Step(
        id=None if step_id is None else text(step_id),
        name=text(spec.get("name") or default_name),
        uses=None if uses is None else text(uses),
        run=None if run is None else text(run),
        with_=_strings(spec.get("with"), "with"),
        env=_strings(spec.get("env"), "env"),
        condition=None if condition is None else text(condition),
        working_directory=(
            None if spec.get("working-directory") is None else text(spec["working-directory"])
        ),
        continue_on_error=text(spec.get("continue-on-error", False)) == "true",
    )


def _job(job_id: str, raw: Any) -> Job:
    spec = _mapping(raw, f"jobs.{job_id}")
    needs = spec.get("needs") or ()
    steps = spec.get("steps") or []
    if not isinstance(steps, list):
        raise WorkflowError(f"jobs.{job_id}.steps must be a list")
    condition = spec.get("if")
    return Job(
        id=job_id,
        name=text(spec.get("name") or job_id),
        needs=(text(needs),) if isinstance(needs, str) else tuple(text(n) for n in needs),
        condition=None if condition is None else text(condition),
        env=_strings(spec.get("env"), "env"),
        working_directory=_working_directory(spec.get("defaults")),
        steps=tuple(_step(index, step) for index, step in enumerate(steps)),
    )


def parse_workflow(source: str, path: str) -> Workflow:
    try:
        document = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise WorkflowError(f"invalid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise WorkflowError("a workflow is a mapping")
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = document.get("on", document.get(True))
    if on is None:
        raise WorkflowError("a workflow needs an `on` trigger")
    triggers = _triggers(on)
    jobs = _mapping(document.get("jobs"), "jobs")
    if not jobs:
        raise WorkflowError("a workflow needs jobs")
    run_name = document.get("run-name")
    return Workflow(
        name=text(document.get("name") or path),
        run_name=None if run_name is None else text(run_name),
        triggers=frozenset(triggers),
        dispatch_inputs=(
            _dispatch_inputs(triggers["workflow_dispatch"])
            if "workflow_dispatch" in triggers
            else None
        ),
        env=_strings(document.get("env"), "env"),
        working_directory=_working_directory(document.get("defaults")),
        jobs=tuple(_job(job_id, spec) for job_id, spec in jobs.items()),
    )


_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class Context:
    inputs: Mapping[str, str]
    github: Mapping[str, str]
    env: Mapping[str, str]
    runner: Mapping[str, str]
    # Upper-case secret name -> value (GitHub's secret names are case-insensitive).
    secrets: Mapping[str, str] = field(default_factory=dict)
    # Step id -> "outputs.<name>", "outcome" and "conclusion" -> value.
    steps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def with_env(self, env: Mapping[str, str]) -> Context:
        return replace(self, env=env)

    def with_steps(self, steps: Mapping[str, Mapping[str, str]]) -> Context:
        return replace(self, steps=steps)

    def value(self, expression: str) -> str:
        """A context path or a literal; unknown paths are empty, as on GitHub."""
        expression = expression.strip()
        literal = _LITERAL.fullmatch(expression)
        if literal is not None:
            return literal.group(1).replace("''", "'")
        if expression in ("true", "false"):
            return expression
        if expression.startswith("secrets."):
            return self.secrets.get(expression.removeprefix("secrets.").upper(), "")
        if expression.startswith("steps."):
            step_id, _, key = expression.removeprefix("steps.").partition(".")
            return self.steps.get(step_id, {}).get(key, "")
        for prefix, values in (
            ("github.event.inputs.", self.inputs),
            ("inputs.", self.inputs),
            ("github.", self.github),
            ("env.", self.env),
            ("runner.", self.runner),
        ):
            if expression.startswith(prefix):
                return values.get(expression.removeprefix(prefix), "")
        return ""

    def substitute(self, source: str) -> str:
        return _EXPRESSION.sub(lambda match: self.value(match.group(1)), source)


def should_run(condition: str | None, *, failed: bool, context: Context) -> bool:
    """A step's or job's `if:`. Status functions are honoured; without one, `success()` is
    implied; other expressions may compare two values with == or !=."""
    if condition is None:
        return not failed
    expression = condition.strip()
    match = _EXPRESSION.fullmatch(expression)
    if match is not None:
        expression = match.group(1)
    compact = expression.replace(" ", "")
    status_functions = {
        "always()": True,
        "success()": not failed,
        "failure()": failed,
        "cancelled()": False,
        "!cancelled()": True,
    }
    if compact in status_functions:
        return status_functions[compact]
    if failed:
        return False
    for operator, expected in (("!=", False), ("==", True)):
        if operator in expression:
            left, right = expression.split(operator, 1)
            return (context.value(left) == context.value(right)) is expected
    negated = expression.startswith("!")
    truthy = context.value(expression.lstrip("!")) not in ("", "false", "0")
    return truthy is not negated


def parse_env_file(content: str) -> dict[str, str]:
    """`$GITHUB_ENV` lines: NAME=value, or NAME<<DELIMITER … DELIMITER."""
    values: dict[str, str] = {}
    lines = content.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


_GLOB_CHARS = re.compile(r"[*?\[]")


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _expand(pattern: str, workspace: Path) -> tuple[Path, set[Path]]:
    """(search root, files) for one `path:` line, as actions/upload-artifact reads it."""
    absolute = Path(os.path.normpath(workspace / os.path.expanduser(pattern)))
    if _GLOB_CHARS.search(pattern):
        parts = absolute.parts
        literal = next(i for i, part in enumerate(parts) if _GLOB_CHARS.search(part))
        root = Path(*parts[:literal])
        matches = [Path(m) for m in glob.glob(str(absolute), recursive=True, include_hidden=True)]
    else:
        root = absolute if absolute.is_dir() else absolute.parent
        matches = [absolute] if absolute.exists() else []
    files: set[Path] = set()
    for match in matches:
        if match.is_dir():
            files.update(child for child in match.rglob("*") if child.is_file())
        elif match.is_file():
            files.add(match)
    return root, files


def collect_artifact_files(
    spec: str, workspace: Path, *, allowed: tuple[Path, ...], include_hidden: bool
) -> tuple[Path, list[Path]]:
    """The files an upload-artifact `path:` names, and the root their zip paths are relative
    to (the least common ancestor of the search roots). `!pattern` lines exclude. Files that
    resolve outside `allowed` (the workspace, the runner's temp) are left out."""
    roots: list[Path] = []
    files: set[Path] = set()
    excluded: set[Path] = set()
    for line in (raw.strip() for raw in spec.splitlines()):
        if not line:
            continue
        if line.startswith("!"):
            excluded |= _expand(line[1:], workspace)[1]
            continue
        root, found = _expand(line, workspace)
        roots.append(root)
        files |= found
    if not roots:
        return workspace, []
    common = Path(os.path.commonpath([str(root) for root in roots]))
    kept = [
        path
        for path in sorted(files - excluded)
        if any(path.resolve().is_relative_to(place.resolve()) for place in allowed)
        and (include_hidden or not _is_hidden(path, common))
    ]
    return common, kept


def write_zip(destination: Path, root: Path, files: list[Path]) -> tuple[int, str]:
    """Zip `files` with paths relative to `root`; (size in bytes, "sha256:<hex>")."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    data = destination.read_bytes()
    return len(data), f"sha256:{hashlib.sha256(data).hexdigest()}"
