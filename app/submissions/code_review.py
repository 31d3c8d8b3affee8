"""What a code submission changed: the diff summary (SPEC §6.8) and the integrity findings
(SPEC §6.7, §11.1) computed from GitHub's comparison of the base template commit and the
cutoff.

Functions over the comparison; the submission flow fetches it and stores the results. A
rule that protects one key of a JSON file (`package.json#scripts`) needs the file itself at
both commits: the caller hands in a reader for that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from app.integrations.github.schemas import Comparison, ComparisonFile
from app.submissions.schemas import DiffFile, DiffSummary, IntegrityFinding

# GitHub lists at most this many files in a comparison.
COMPARE_FILE_CAP = 300
MAX_PATCH_CHARS = 20_000


def diff_summary(comparison: Comparison, *, max_patch_chars: int = MAX_PATCH_CHARS) -> DiffSummary:
    files = comparison.files
    return DiffSummary(
        ahead_by=comparison.ahead_by,
        behind_by=comparison.behind_by,
        total_commits=comparison.total_commits,
        files_changed=len(files),
        additions=sum(f.additions for f in files),
        deletions=sum(f.deletions for f in files),
        # At the cap GitHub may have left files out; the totals above then undercount.
        truncated=len(files) >= COMPARE_FILE_CAP,
        files=[_file(f, max_patch_chars) for f in files],
    )


def _file(changed: ComparisonFile, max_patch_chars: int) -> DiffFile:
    patch = changed.patch
    return DiffFile(
        filename=changed.filename,
        status=changed.status,
        additions=changed.additions,
        deletions=changed.deletions,
        changes=changed.changes,
        patch=patch[:max_patch_chars] if patch is not None else None,
        patch_truncated=patch is not None and len(patch) > max_patch_chars,
        previous_filename=changed.previous_filename,
    )


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """A path glob: `**` spans directories, `*` and `?` stay within one."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


# A rule `<glob>#<key>` protects only that top-level key of a JSON file.
SECTION_MARK = "#"
# The text of a file at a commit, None when the commit has no such file.
ReadFile = Callable[[str, str], Awaitable[str | None]]
# A JSON file that does not parse: its keys cannot be compared, only its text.
_UNREADABLE = object()


def matching_rules(path: str, protected: Sequence[str]) -> Iterator[str]:
    """The rules whose path glob matches, in order (a per-key rule still needs its key to have
    changed: `section_changed`)."""
    return (rule for rule in protected if _glob(rule.partition(SECTION_MARK)[0]).fullmatch(path))


def matching_rule(path: str, protected: Sequence[str]) -> str | None:
    return next(matching_rules(path, protected), None)


def _section(text: str | None, key: str) -> Any:
    if text is None:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return _UNREADABLE
    return document.get(key) if isinstance(document, dict) else _UNREADABLE


def section_changed(base_text: str | None, cutoff_text: str | None, key: str) -> bool:
    """Whether a JSON file's top-level `key` differs between the two commits (a missing file or
    key counts as no value)."""
    before, after = _section(base_text, key), _section(cutoff_text, key)
    if before is _UNREADABLE or after is _UNREADABLE:
        return base_text != cutoff_text
    return bool(before != after)


async def integrity_findings(
    files: Sequence[ComparisonFile],
    protected: Sequence[str],
    *,
    read: ReadFile,
    base: str,
    cutoff: str,
) -> list[IntegrityFinding]:
    """Every protected file the candidate added, changed, removed or renamed (either name
    counts: moving a test away is as telling as editing it), with the rule that matched. A
    per-key rule matches only when its key changed between `base` and `cutoff`."""
    findings = []
    for changed in files:
        for path in filter(None, (changed.filename, changed.previous_filename)):
            rule = await _changed_rule(path, protected, read=read, base=base, cutoff=cutoff)
            if rule is not None:
                findings.append(IntegrityFinding(path=path, change=changed.status, rule=rule))
                break
    return findings


async def _changed_rule(
    path: str, protected: Sequence[str], *, read: ReadFile, base: str, cutoff: str
) -> str | None:
    versions: tuple[str | None, str | None] | None = None
    for rule in matching_rules(path, protected):
        key = rule.partition(SECTION_MARK)[2]
        if not key:
            return rule
        if versions is None:
            versions = (await read(path, base), await read(path, cutoff))
        if section_changed(*versions, key):
            return rule
    return None
