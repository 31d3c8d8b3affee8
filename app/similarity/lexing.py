"""Which files of a tree are source code, and their normalised token streams.

A token stream keeps what survives a rename or a reformat: keywords, operators and punctuation
as written; every identifier, string and number as one symbol each; no comments, docstrings or
whitespace. Each token keeps the lines it came from, so a match maps back to the source.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import PurePosixPath

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, String, _TokenType, is_token_subtype

# Programming languages only, by extension -> Pygments lexer alias. Data, markup, prose and
# configuration (JSON, YAML, Markdown, text, lockfiles) are left out: they are either shared
# boilerplate or not the candidate's reasoning.
LANGUAGE_BY_EXTENSION: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "jsx",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".java": "java",
    ".go": "go",
    ".rb": "ruby",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".cs": "csharp",
    ".rs": "rust",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".php": "php",
    ".swift": "swift",
    ".scala": "scala",
    ".sql": "sql",
    ".sh": "bash",
    ".bash": "bash",
    ".lua": "lua",
    ".dart": "dart",
    ".ex": "elixir",
    ".exs": "elixir",
}

# Folders of dependencies, build output, caches and virtual environments: not written by the
# candidate, and identical across candidates who install the same packages.
SKIPPED_FOLDERS = frozenset(
    {
        "node_modules",
        "bower_components",
        "vendor",
        "third_party",
        "dist",
        "build",
        "out",
        "target",
        "coverage",
        ".next",
        ".nuxt",
        ".venv",
        "venv",
        "site-packages",
        "__pycache__",
        ".git",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "migrations",
    }
)
# Bundles, minified and generated files, by how their names end.
SKIPPED_SUFFIXES = (
    ".min.js",
    ".min.mjs",
    ".bundle.js",
    ".d.ts",
    "_pb2.py",
    "_pb2_grpc.py",
    ".pb.go",
    ".generated.ts",
    ".generated.cs",
)
# Minified or machine-written code has lines far longer than anyone types.
MAX_LINE_CHARS = 1_000
# Generators mark their output near the top (`// Code generated ... DO NOT EDIT.`, `@generated`).
GENERATED_MARKERS = ("DO NOT EDIT", "@generated")
GENERATED_MARKER_LINES = 5

# The symbols that stand for any identifier, string or number; one character that no
# language uses as a token on its own, so they cannot collide with a kept token.
IDENTIFIER = "\x01"
STRING = "\x02"
NUMBER = "\x03"


@dataclass
class TokenStream:
    """A file's normalised tokens with, for each, the first and last line it spans."""

    texts: list[str]
    start_lines: list[int]  # 1-based
    end_lines: list[int]


def language_of(path: str) -> str | None:
    """The Pygments alias for a source file worth fingerprinting, or None to leave it out
    (not a programming language, or vendored, generated or built)."""
    pure = PurePosixPath(path)
    if any(part in SKIPPED_FOLDERS for part in pure.parts[:-1]):
        return None
    name = pure.name.lower()
    if name.endswith(SKIPPED_SUFFIXES):
        return None
    return LANGUAGE_BY_EXTENSION.get(pure.suffix.lower())


def looks_generated(text: str) -> bool:
    lines = text.splitlines()
    if any(len(line) > MAX_LINE_CHARS for line in lines):
        return True
    head = lines[:GENERATED_MARKER_LINES]
    return any(marker in line for line in head for marker in GENERATED_MARKERS)


@functools.cache
def _lexer(language: str) -> Lexer:
    # stripnl=False: stripping leading blank lines would shift every line number.
    return get_lexer_by_name(language, stripnl=False)


def tokens(text: str, language: str) -> TokenStream:
    """The normalised tokens of one file, in order."""
    stream = TokenStream([], [], [])
    line = 1
    in_string = False
    for kind, value in _lexer(language).get_tokens(text):
        start = line
        line += value.count("\n")
        symbol = _normalise(kind, value)
        if symbol is None:
            in_string = False
            continue
        end = start + value.rstrip("\n").count("\n")
        if symbol == STRING and in_string:
            # A string arrives in pieces (affix, quotes, body, escapes, interpolation marks).
            stream.end_lines[-1] = end
            continue
        in_string = symbol == STRING
        stream.texts.append(symbol)
        stream.start_lines.append(start)
        stream.end_lines.append(end)
    return stream


def _normalise(kind: _TokenType, value: str) -> str | None:
    """The symbol a Pygments token stands for, or None for what a copier changes freely."""
    rule = _rule(kind)
    kept = value.strip()
    if rule is None or not kept:
        return None
    if rule == _AS_WRITTEN:
        return kept
    if rule == _LOWERCASE:
        return kept.lower()
    if rule == _FIRST_WORD:
        return kept.split(maxsplit=1)[0]
    return rule


_AS_WRITTEN = "as written"
_LOWERCASE = "lowercase"  # keywords: SQL's are case-insensitive
# Preprocessor lines come as one token (`define MAX(a, b) ...`): the directive stays, the
# names after it go, like every other name.
_FIRST_WORD = "first word"


@functools.cache
def _rule(kind: _TokenType) -> str | None:
    """What becomes of a token type: None (dropped), a symbol that replaces it, or one of
    the rules above."""
    if is_token_subtype(kind, Comment.PreprocFile):  # `#include <header.h>`: a name
        return STRING
    if is_token_subtype(kind, Comment.Preproc):
        return _FIRST_WORD
    if is_token_subtype(kind, Comment) or is_token_subtype(kind, String.Doc):
        return None
    # Type names are identifiers (TypeScript's lexer tags user-defined types as Keyword.Type).
    if is_token_subtype(kind, Name) or is_token_subtype(kind, Keyword.Type):
        return IDENTIFIER
    if is_token_subtype(kind, String):
        return STRING
    if is_token_subtype(kind, Number):
        return NUMBER
    if is_token_subtype(kind, Keyword):
        return _LOWERCASE
    return _AS_WRITTEN
