"""What a code submission changed: the diff summary (SPEC §6.8) and the integrity findings
(SPEC §6.7) computed from GitHub's comparison of the base template commit and the cutoff.

Pure functions over the comparison; the submission flow fetches it and stores the results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

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


def matching_rule(path: str, protected: Sequence[str]) -> str | None:
    return next((rule for rule in protected if _glob(rule).fullmatch(path)), None)


def integrity_findings(
    files: Sequence[ComparisonFile], protected: Sequence[str]
) -> list[IntegrityFinding]:
    """Every protected file the candidate added, changed, removed or renamed (either name
    counts: moving a test away is as telling as editing it)."""
    findings = []
    for changed in files:
        for path in (changed.filename, changed.previous_filename):
            rule = matching_rule(path, protected) if path else None
            if rule is not None and path is not None:
                findings.append(IntegrityFinding(path=path, change=changed.status, rule=rule))
                break
    return findings
