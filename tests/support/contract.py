"""Declarative response shapes for contract tests, and a ledger that collects every break.

A shape maps each field a caller reads to what it must hold:

    SUBMIT = {"submissionId": INT_ID, "progress": {"completed": INT, "total": INT}}

`breaks(body, SUBMIT)` walks the body and names every missing or mistyped field at once,
so one failing run lists all the ways a response misses its caller's expectations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import httpx


@dataclass(frozen=True)
class Scalar:
    name: str
    accepts: Callable[[Any], bool]


@dataclass(frozen=True)
class Nullable:
    inner: Field


@dataclass(frozen=True)
class MayBeAbsent:
    """The caller copes without the field; when it is there it must have this shape."""

    inner: Field


@dataclass(frozen=True)
class ListOf:
    item: Field


Field: TypeAlias = Scalar | Nullable | MayBeAbsent | ListOf | Mapping[str, "Field"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


INT_ID = Scalar("a positive integer", lambda v: _is_int(v) and v > 0)
INT = Scalar("an integer", _is_int)
STR = Scalar("a string", lambda v: isinstance(v, str))
TEXT = Scalar("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()))
BOOL = Scalar("a boolean", lambda v: isinstance(v, bool))
TIMESTAMP = Scalar("an ISO 8601 timestamp", _is_timestamp)
OBJECT = Scalar("an object", lambda v: isinstance(v, dict))


def one_of(*values: str) -> Scalar:
    return Scalar(f"one of {list(values)}", lambda v: v in values)


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def breaks(value: Any, shape: Field, where: str = "$") -> list[str]:
    """Every way `value` misses `shape`, one line each, with the field's path."""
    if isinstance(shape, MayBeAbsent):
        return breaks(value, shape.inner, where)
    if isinstance(shape, Nullable):
        return [] if value is None else breaks(value, shape.inner, where)
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {_show(value)}"]
        return [
            b for i, item in enumerate(value) for b in breaks(item, shape.item, f"{where}[{i}]")
        ]
    if isinstance(shape, Scalar):
        return (
            [] if shape.accepts(value) else [f"{where}: expected {shape.name}, got {_show(value)}"]
        )
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {_show(value)}"]
    found: list[str] = []
    for name, inner in shape.items():
        if name in value:
            found += breaks(value[name], inner, f"{where}.{name}")
        elif not isinstance(inner, MayBeAbsent):
            found.append(f"{where}.{name}: missing")
    return found


@dataclass
class Ledger:
    """The contract breaks seen so far, by call; `assert_kept` fails listing all of them."""

    found: list[str] = field(default_factory=list)

    def note(self, call: str, problems: list[str]) -> None:
        for line in (f"{call}: {problem}" for problem in problems):
            if line not in self.found:  # a polled call repeats its breaks
                self.found.append(line)

    def expect(self, call: str, condition: bool, problem: str) -> None:
        if not condition:
            self.note(call, [problem])

    def check(
        self,
        call: str,
        response: httpx.Response,
        statuses: Collection[int],
        shape: Field | None = None,
    ) -> Any:
        """Record where the response misses its status or shape; return its JSON body (or
        None when it has none)."""
        self.expect(
            call,
            response.status_code in statuses,
            f"status {response.status_code}, expected {sorted(statuses)}: {response.text[:200]}",
        )
        try:
            body = response.json()
        except ValueError:
            self.note(call, [f"body is not JSON: {response.text[:200]!r}"])
            return None
        if shape is not None and response.status_code in statuses:
            self.note(call, breaks(body, shape))
        return body

    def require(self, call: str, response: httpx.Response, statuses: Collection[int]) -> None:
        """Stop here (listing everything so far) when the flow cannot go on without it."""
        if response.status_code not in statuses:
            self.note(call, [f"status {response.status_code}; the flow cannot go on"])
            self.assert_kept()

    def assert_kept(self) -> None:
        if self.found:
            listing = "\n  ".join(self.found)
            raise AssertionError(f"{len(self.found)} contract break(s):\n  {listing}")
