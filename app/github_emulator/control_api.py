"""`/_emulator/*`: the emulator's own controls for tests and benchmarks (no auth)."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from app.github_emulator.emulator import Call
from app.github_emulator.faults import FaultRule
from app.github_emulator.responses import GitHubError, empty_response, json_response

_RULES = TypeAdapter(list[FaultRule])


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
