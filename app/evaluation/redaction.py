"""Quotes of a removed transcript, redacted wherever evaluation stored them (SPEC §11.3).

When a recording's media is removed (deleted by the candidate, replaced, purged), the
recordings domain runs its media-removed hooks in the same transaction (`app.assembly`):
every transcript evidence item citing that recording, in the session's scorecards (their
current entries and every submitted version) and AI scorecard drafts, loses its quote and
is marked `redacted: recording_removed`. Levels, notes and other evidence stay.

Rows are locked in a fixed order (scorecards, their versions, drafts; each by id) after
the recording's own row, the order that writers of evidence take them in too: a writer
share-locks the recordings it cites before it locks its row (`recordings.cited_recording`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.evaluation.ai_schemas import AiDraftContent
from app.evaluation.evidence_refs import RefInvalidError, TranscriptRef, parse_ref
from app.evaluation.models import AiScorecardDraft, Scorecard, ScorecardVersion
from app.evaluation.schemas import Redaction
from app.recordings import service as recordings

log = structlog.get_logger(__name__)

RECORDING_REMOVED: Redaction = "recording_removed"


def _recording_of(item: dict[str, Any]) -> int | None:
    if item.get("kind") != "transcript":
        return None
    try:
        ref = parse_ref("transcript", str(item.get("ref")))
    except RefInvalidError:
        return None
    assert isinstance(ref, TranscriptRef)
    return ref.recording_id


def _redacted_entries(
    entries: Sequence[dict[str, Any]], recording_ids: set[int]
) -> tuple[list[dict[str, Any]], int]:
    """The entries (stored camelCase JSON) with every transcript item citing one of the
    recordings redacted, and how many items changed (0 when they were redacted already)."""
    changed = 0
    result = []
    for entry in entries:
        evidence = []
        for item in entry.get("evidence", []):
            if _recording_of(item) in recording_ids and (
                item.get("quote") is not None or item.get("redacted") != RECORDING_REMOVED
            ):
                item = item | {"quote": None, "redacted": RECORDING_REMOVED}
                changed += 1
            evidence.append(item)
        result.append(entry | {"evidence": evidence})
    return result, changed


async def redact_transcript_quotes(
    session: AsyncSession, *, candidate_session_id: int, recording_id: int
) -> int:
    """Redact what the session's evaluations quote of the recording's transcript; the
    number of evidence items redacted now (so 0 on a second run)."""
    redacted = {recording_id}
    total = 0
    scorecards = await session.scalars(
        select(Scorecard)
        .where(Scorecard.candidate_session_id == candidate_session_id)
        .order_by(Scorecard.id)
        .with_for_update()
    )
    for scorecard in scorecards.all():
        entries, changed = _redacted_entries(scorecard.entries, redacted)
        if changed:
            scorecard.entries = entries
        total += changed
    versions = await session.scalars(
        select(ScorecardVersion)
        .join(Scorecard, Scorecard.id == ScorecardVersion.scorecard_id)
        .where(Scorecard.candidate_session_id == candidate_session_id)
        .order_by(ScorecardVersion.id)
        .with_for_update(of=ScorecardVersion)
    )
    for version in versions.all():
        entries, changed = _redacted_entries(version.entries, redacted)
        if changed:
            version.entries = entries
        total += changed
    drafts = await session.scalars(
        select(AiScorecardDraft)
        .where(
            AiScorecardDraft.candidate_session_id == candidate_session_id,
            AiScorecardDraft.content.is_not(None),
        )
        .order_by(AiScorecardDraft.id)
        .with_for_update()
    )
    for draft in drafts.all():
        assert draft.content is not None
        entries, changed = _redacted_entries(draft.content.get("entries", []), redacted)
        if changed:
            draft.content = draft.content | {"entries": entries}
        total += changed
    await session.flush()
    if total:
        log.info(
            "evaluation.transcript_quotes_redacted",
            candidate_session_id=candidate_session_id,
            recording_id=recording_id,
            items=total,
        )
    return total


async def redact_removed_citations(
    session: AsyncSession, cs_id: int, content: AiDraftContent
) -> AiDraftContent:
    """The draft content with the quotes of recordings removed since its evidence was
    verified redacted, as the removal's own redaction would have done had the draft been
    stored already. The cited recordings stay share-locked until the caller's transaction
    ends, so none is removed before the content is stored: call it before locking the
    draft's row."""
    entries = content.model_dump(mode="json", by_alias=True)["entries"]
    cited = {
        recording_id
        for entry in entries
        for item in entry["evidence"]
        if (recording_id := _recording_of(item)) is not None
    }
    removed = set()
    for recording_id in sorted(cited):
        recording = await recordings.cited_recording(session, cs_id, recording_id)
        if recording is not None and recording.removed:
            removed.add(recording_id)
    if not removed:
        return content
    redacted, _ = _redacted_entries(entries, removed)
    return content.model_copy(
        update={"entries": AiDraftContent.model_validate({"entries": redacted}).entries}
    )
