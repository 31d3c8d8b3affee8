"""Personal data kept away from the AI provider: each known value (the candidate's name,
email, GitHub login, the company's name) and every email address found in the text is
replaced by a placeholder such as `[CANDIDATE_NAME]` or `[EMAIL_2]` before a prompt is
sent, and the placeholders in the answer are put back afterwards."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_LABEL = re.compile(r"^[A-Z][A-Z0-9_]*$")


class Placeholders:
    """One prompt's mapping between personal values and their placeholders."""

    def __init__(self, known: Mapping[str, str | None]) -> None:
        """`known` maps a label (`CANDIDATE_NAME`) to its value; empty values are skipped."""
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._emails = 0
        for label, value in known.items():
            if not _LABEL.match(label):
                raise ValueError(f"placeholder label {label!r} must be UPPER_SNAKE_CASE")
            if value and value.strip():
                self._add(value.strip(), f"[{label}]")

    def _add(self, value: str, placeholder: str) -> None:
        self._by_value.setdefault(value.lower(), placeholder)
        self._by_placeholder.setdefault(placeholder, value)

    def redact(self, text: str) -> str:
        """The text with every known value (whatever its case) and every email address
        replaced by its placeholder."""
        for match in _EMAIL.findall(text):
            if match.lower() not in self._by_value:
                self._emails += 1
                self._add(match, f"[EMAIL_{self._emails}]")
        if not self._by_value:
            return text
        # One pass, longest value first: a name inside an email address goes with the
        # address, and a placeholder already written is never rewritten by a later value.
        # The value stands alone (no letter or digit glued to it), so a short login does
        # not cut into ordinary words.
        values = sorted(self._by_value, key=len, reverse=True)
        pattern = r"(?<![^\W_])(?:" + "|".join(map(re.escape, values)) + r")(?![^\W_])"
        return re.sub(pattern, self._placeholder_of, text, flags=re.IGNORECASE)

    def _placeholder_of(self, match: re.Match[str]) -> str:
        found = match.group(0)
        placeholder = self._by_value.get(found.lower())
        if placeholder is not None:
            return placeholder
        # Case-insensitive matching folds a few characters that lower() maps apart.
        return next(
            placeholder
            for value, placeholder in self._by_value.items()
            if re.fullmatch(re.escape(value), found, flags=re.IGNORECASE)
        )

    def restore(self, data: Any) -> Any:
        """`data` (JSON: dicts, lists, strings) with each placeholder put back."""
        if isinstance(data, str):
            if not self._by_placeholder:
                return data
            pattern = "|".join(map(re.escape, self._by_placeholder))
            return re.sub(pattern, lambda match: self._by_placeholder[match.group(0)], data)
        if isinstance(data, list):
            return [self.restore(item) for item in data]
        if isinstance(data, dict):
            return {key: self.restore(value) for key, value in data.items()}
        return data
