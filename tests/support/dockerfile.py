"""Enough of a Dockerfile reader for our checks: stages, their instructions and arguments."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """CMD/ENTRYPOINT/HEALTHCHECK's JSON array, after any `--option`s and `CMD`."""
        command = self.arguments
        if self.keyword == "HEALTHCHECK":
            command = command.split(" CMD ", 1)[1]
        parsed = json.loads(command)
        assert isinstance(parsed, list), f"{self.keyword} is not in exec form: {command}"
        return [str(item) for item in parsed]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]

    def env(self) -> dict[str, str]:
        pairs = (
            pair.split("=", 1) for item in self.all("ENV") for pair in shlex.split(item.arguments)
        )
        return {name: value for name, value in pairs}

    def copied_sources(self) -> set[str]:
        """What `COPY` takes from the build context (not `--from` another stage)."""
        sources: set[str] = set()
        for item in self.all("COPY"):
            words = shlex.split(item.arguments)
            if not any(word.startswith("--from=") for word in words):
                sources.update(word for word in words[:-1] if not word.startswith("--"))
        return sources


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments and blank lines may sit inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def read_dockerfile(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), " ".join(arguments.split())
        if keyword == "FROM":
            words = arguments.split()
            named = len(words) == 3 and words[1].upper() == "AS"
            stages.append(Stage(base=words[0], name=words[2] if named else None))
        else:
            assert stages, f"{keyword} before any FROM"
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages
