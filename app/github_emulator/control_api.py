"""`/_emulator/*`: the emulator's own controls for tests and benchmarks (no auth)."""

from __future__ import annotations

import re

from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from app.github_emulator.emulator import Call
from app.github_emulator.faults import FaultRule
from app.github_emulator.repos_api import repo_of
from app.github_emulator.responses import (
    GitHubError,
    RequestBody,
    empty_response,
    json_response,
    read_body,
    validation_failed,
)

_RULES = TypeAdapter(list[FaultRule])
# GitHub's rule for secret names: letters, digits and underscores, not starting with a digit
# or GITHUB_; names are case-insensitive (stored upper-case).
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SecretBody(RequestBody):
    value: str


async def templates(call: Call) -> Response:
    return json_response(call.request, call.emulator.templates)


async def get_faults(call: Call) -> Response:
    rules = [rule.model_dump() for rule in call.emulator.faults.rules]
    return json_response(call.request, rules)


async def set_faults(call: Call) -> Response:
    """Replace the fault rules with the JSON list in the body."""
    try:
        rules = _RULES.validate_json(await call.request.body())
    except ValidationError as exc:
        raise GitHubError(422, f"Invalid fault rules: {exc.errors()[0]['msg']}") from exc
    call.emulator.faults.replace(rules)
    return json_response(call.request, [rule.model_dump() for rule in rules])


async def clear_faults(call: Call) -> Response:
    call.emulator.faults.clear()
    return empty_response()


async def stats(call: Call) -> Response:
    return json_response(call.request, call.emulator.stats())


def _secret_name(call: Call) -> str:
    name = call.param("name").upper()
    if not _SECRET_NAME.fullmatch(name) or name.startswith("GITHUB_"):
        raise validation_failed(
            "Secret names can only contain alphanumeric characters or underscores, must not "
            "start with a number or GITHUB_."
        )
    return name


async def put_secret(call: Call) -> Response:
    """PUT /_emulator/repos/{owner}/{repo}/secrets/{name}: set a repository secret (GitHub
    takes it encrypted; the emulator keeps it as given and never shows it again)."""
    repo = repo_of(call)
    name = _secret_name(call)
    body = await read_body(call.request, SecretBody)
    repo.secrets[name] = body.value
    await call.store.save()
    return empty_response()


async def delete_secret(call: Call) -> Response:
    repo = repo_of(call)
    repo.secrets.pop(_secret_name(call), None)
    await call.store.save()
    return empty_response()
