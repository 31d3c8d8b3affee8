"""Transcript evidence: a segment of a Day 4 recording's transcript of the reviewed session,
its quote and times checked against that segment; and the redaction of the quotes of a
removed recording wherever evaluation stored them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.evaluation.ai_schemas import AiDraftContent
from app.evaluation.evidence import verify_evidence
from app.evaluation.models import AiScorecardDraft, Scorecard, ScorecardVersion
from app.evaluation.redaction import redact_removed_citations, redact_transcript_quotes
from app.evaluation.rubrics import current_rubric
from app.evaluation.schemas import Evidence
from app.jobs.registry import JobContext
from app.recordings import repository as recordings_repository
from app.recordings.jobs import RETENTION_PURGE, purge_due
from app.recordings.models import MediaPurge, Recording
from app.services import Services
from app.simulations.models import Simulation, Task
from tests.support import factories
from tests.support.api import assert_problem
from tests.support.jobs import FakeClock
from tests.support.recruiting import World
from tests.support.reviewing import ReviewScene, review_scene

SEGMENTS = [
    (0.0, 4.25, "Here is where I left off: the refund job."),
    (4.25, 9.5, "We chose Postgres advisory locks\nover a queue table."),
    (9.5, 12.0, "Next, the retries."),
]


@dataclass(frozen=True)
class Scene:
    cs_id: int
    other_cs_id: int
    recording: Recording
    # The other candidate's recording of the same task.
    other: Recording
    # A recording of the session whose transcript is not ready.
    untranscribed: Recording
    reviewer_id: int


@pytest.fixture
async def scene(db_session: AsyncSession) -> Scene:
    company = await factories.create_company(db_session)
    reviewer = await factories.create_recruiter(db_session, company)
    simulation = await factories.create_simulation(db_session, company)
    tasks = await factories.create_tasks(db_session, simulation)
    handoff = next(task for task in tasks if task.type == "handoff")
    cs = await factories.create_candidate_session(db_session, simulation)
    other_cs = await factories.create_candidate_session(db_session, simulation)
    recording = await factories.create_recording(db_session, cs, handoff, segments=SEGMENTS)
    other = await factories.create_recording(db_session, other_cs, handoff, segments=SEGMENTS)
    # Another task of the session (one live recording per task): no transcript yet.
    untranscribed = await factories.create_recording(db_session, cs, tasks[4])
    return Scene(cs.id, other_cs.id, recording, other, untranscribed, reviewer.id)


def _item(ref: str, quote: str | None = None, **extra: Any) -> Evidence:
    return Evidence(kind="transcript", ref=ref, quote=quote, **extra)


async def _codes(session: AsyncSession, cs_id: int, *items: Evidence) -> list[str | None]:
    problems = await verify_evidence(session, None, cs_id, items)
    return [problem.code if problem else None for problem in problems]


# Verification


async def test_a_segment_is_cited_with_a_quote_of_its_own_text_and_times_within_it(
    db_session: AsyncSession, scene: Scene
) -> None:
    rid = scene.recording.id
    assert await _codes(
        db_session,
        scene.cs_id,
        _item(f"{rid}:0", "the refund job"),
        # Across the line break, re-spaced.
        _item(f"{rid}:1", "advisory locks   over a queue", start_ms=4250, end_ms=9500),
        _item(f"{rid}:2"),
        _item(f"{rid}:1", start_ms=5000),
        _item(f"{rid}:0", "We invented this"),
        # Another segment's words.
        _item(f"{rid}:0", "Postgres advisory locks"),
    ) == [None, None, None, None, "EVIDENCE_QUOTE_NOT_FOUND", "EVIDENCE_QUOTE_NOT_FOUND"]


@pytest.mark.parametrize(
    ("start_ms", "end_ms"),
    [(4249, None), (None, 9501), (0, 5000), (9000, 12000), (10_000, None)],
)
async def test_times_outside_the_segment_are_an_invalid_span(
    db_session: AsyncSession, scene: Scene, start_ms: int | None, end_ms: int | None
) -> None:
    [problem] = await verify_evidence(
        db_session,
        None,
        scene.cs_id,
        [_item(f"{scene.recording.id}:1", start_ms=start_ms, end_ms=end_ms)],
    )
    assert problem is not None
    assert problem.code == "EVIDENCE_SPAN_INVALID"
    assert "4250 to 9500 ms" in problem.message


async def test_a_missing_segment_or_transcript_is_not_found(
    db_session: AsyncSession, scene: Scene
) -> None:
    problems = await verify_evidence(
        db_session,
        None,
        scene.cs_id,
        [_item(f"{scene.recording.id}:3"), _item(f"{scene.untranscribed.id}:0")],
    )
    assert [p.code if p else None for p in problems] == ["EVIDENCE_SOURCE_NOT_FOUND"] * 2
    assert [p.message for p in problems if p] == [
        f"The transcript of recording {scene.recording.id} has no segment 3; its segments "
        "are 0 to 2.",
        f"Recording {scene.untranscribed.id} has no transcript to cite.",
    ]


async def test_another_sessions_recording_is_not_found_like_a_missing_one(
    db_session: AsyncSession, scene: Scene
) -> None:
    [other] = await verify_evidence(
        db_session, None, scene.cs_id, [_item(f"{scene.other.id}:1", "advisory locks")]
    )
    [missing] = await verify_evidence(
        db_session, None, scene.cs_id, [_item("999999999:1", "advisory locks")]
    )
    assert other is not None
    assert missing is not None
    assert other.code == missing.code == "EVIDENCE_SOURCE_NOT_FOUND"
    assert other.message.replace(str(scene.other.id), "#") == missing.message.replace(
        "999999999", "#"
    )
    # Its own session cites it.
    assert await _codes(
        db_session, scene.other_cs_id, _item(f"{scene.other.id}:1", "advisory locks")
    ) == [None]


@pytest.mark.parametrize(
    "ref", ["12", "12:", ":1", "x:0", "12:one", "12:-1", "0:1", "12:0:1", "12:0#L1", " 12:0"]
)
async def test_malformed_transcript_refs_are_invalid(
    db_session: AsyncSession, scene: Scene, ref: str
) -> None:
    [problem] = await verify_evidence(db_session, None, scene.cs_id, [_item(ref)])
    assert problem is not None
    assert problem.code == "EVIDENCE_REF_INVALID"
    assert repr(ref) in problem.message


async def test_a_removed_recording_is_cited_only_as_a_redacted_item(
    db_session: AsyncSession, scene: Scene
) -> None:
    rid = scene.recording.id
    assert await _codes(
        db_session, scene.cs_id, _item(f"{rid}:1", redacted="recording_removed")
    ) == ["EVIDENCE_REF_INVALID"]
    scene.recording.status = "deleted"
    scene.recording.transcript_segments = None
    await db_session.flush()
    db_session.expire_all()
    problems = await verify_evidence(
        db_session,
        None,
        scene.cs_id,
        [
            _item(f"{rid}:1", "advisory locks"),
            _item(f"{rid}:1"),
            _item(f"{rid}:1", redacted="recording_removed", start_ms=5000),
        ],
    )
    assert [p.code if p else None for p in problems] == [
        "EVIDENCE_SOURCE_REMOVED",
        "EVIDENCE_SOURCE_REMOVED",
        None,
    ]
    assert problems[0] is not None
    assert "deleted or purged" in problems[0].message


@pytest.mark.parametrize(
    "item",
    [
        {"kind": "transcript", "ref": "1:0", "quote": "x", "redacted": "recording_removed"},
        {"kind": "text", "ref": "1", "redacted": "recording_removed"},
        {"kind": "transcript", "ref": "1:0", "redacted": "forgotten"},
    ],
)
def test_only_a_transcript_item_without_a_quote_is_redacted(item: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Evidence.model_validate(item)


# Redaction


def _evidence(rid: int, other_rid: int, text_ref: str) -> list[dict[str, Any]]:
    return [
        _item(f"{rid}:1", "advisory locks", start_ms=4250).model_dump(mode="json", by_alias=True),
        _item(f"{other_rid}:0", "the refund job").model_dump(mode="json", by_alias=True),
        Evidence(kind="text", ref=text_ref, quote="My answer").model_dump(
            mode="json", by_alias=True
        ),
    ]


def _entries(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"criterionKey": "d4-handoff", "level": 3, "note": "Clear.", "evidence": evidence},
        {"criterionKey": "d4-next", "level": 2, "note": "", "evidence": []},
    ]


async def test_redaction_removes_the_recordings_quotes_from_scorecards_versions_and_drafts(
    db_session: AsyncSession, scene: Scene
) -> None:
    rid, other_rid, other_session_rid = scene.recording.id, scene.untranscribed.id, scene.other.id
    evidence = _evidence(rid, other_rid, "7")
    cs = await db_session.get(CandidateSession, scene.cs_id)
    assert cs is not None
    rubric = await current_rubric(db_session, cs.simulation_id)
    scorecard = Scorecard(
        candidate_session_id=scene.cs_id,
        reviewer_user_id=scene.reviewer_id,
        rubric_version_id=rubric.id,
        status="submitted",
        recommendation="yes",
        entries=_entries(evidence),
        version=2,
    )
    db_session.add(scorecard)
    await db_session.flush()
    db_session.add_all(
        [
            ScorecardVersion(
                scorecard_id=scorecard.id,
                version=version,
                rubric_version_id=rubric.id,
                recommendation="yes",
                entries=_entries(evidence),
            )
            for version in (1, 2)
        ]
        + [
            AiScorecardDraft(
                candidate_session_id=scene.cs_id,
                day_index=4,
                status="ready",
                content={"summary": "Good.", "entries": _entries(evidence)},
            ),
            # The other session's draft cites its own recording: untouched.
            AiScorecardDraft(
                candidate_session_id=scene.other_cs_id,
                day_index=4,
                status="ready",
                content={"summary": "", "entries": _entries(_evidence(other_session_rid, 1, "8"))},
            ),
        ]
    )
    await db_session.flush()

    assert (
        await redact_transcript_quotes(
            db_session, candidate_session_id=scene.cs_id, recording_id=rid
        )
        == 4
    )
    # Once is enough.
    assert (
        await redact_transcript_quotes(
            db_session, candidate_session_id=scene.cs_id, recording_id=rid
        )
        == 0
    )

    scorecard_id = scorecard.id
    db_session.expire_all()
    redacted = _entries(
        [
            evidence[0] | {"quote": None, "redacted": "recording_removed"},
            evidence[1],
            evidence[2],
        ]
    )
    stored = await db_session.get(Scorecard, scorecard_id)
    assert stored is not None
    assert stored.entries == redacted
    versions = (await db_session.scalars(select(ScorecardVersion.entries))).all()
    assert list(versions) == [redacted, redacted]
    drafts = (
        await db_session.scalars(select(AiScorecardDraft).order_by(AiScorecardDraft.id))
    ).all()
    assert [draft.content for draft in drafts] == [
        {"summary": "Good.", "entries": redacted},
        {"summary": "", "entries": _entries(_evidence(other_session_rid, 1, "8"))},
    ]
    # What the API shows: the marker, no quote; the item is still valid evidence.
    shown = AiDraftContent.model_validate(drafts[0].content).entries[0].evidence[0]
    assert (shown.quote, shown.redacted, shown.start_ms) == (None, "recording_removed", 4250)


async def test_a_draft_citing_a_recording_removed_after_verification_is_stored_redacted(
    db_session: AsyncSession, scene: Scene
) -> None:
    rid = scene.recording.id
    content = AiDraftContent.model_validate(
        {"summary": "", "entries": _entries(_evidence(rid, scene.untranscribed.id, "7"))}
    )
    assert await redact_removed_citations(db_session, scene.cs_id, content) == content
    scene.recording.status = "purged"
    await db_session.flush()
    redacted = await redact_removed_citations(db_session, scene.cs_id, content)
    items = redacted.entries[0].evidence
    assert [(item.ref, item.quote, item.redacted) for item in items] == [
        (f"{rid}:1", None, "recording_removed"),
        (f"{scene.untranscribed.id}:0", "the refund job", None),
        ("7", "My answer", None),
    ]
    assert [entry.level for entry in redacted.entries] == [3, 2]


# Over HTTP: a reviewer's scorecard


async def _handoff_recording(
    session: AsyncSession, review: ReviewScene, segments: list[tuple[float, float, str]]
) -> Recording:
    cs = await session.get(CandidateSession, review.cs_id)
    [task_id] = [t["id"] for t in review.simulation["tasks"] if t["type"] == "handoff"]
    task = await session.get(Task, task_id)
    assert cs is not None
    assert task is not None
    return await factories.create_recording(session, cs, task, segments=segments)


async def test_a_reviewer_cites_the_transcript_and_an_unverifiable_citation_is_422(
    world: World, db_session: AsyncSession
) -> None:
    review = await review_scene(world, db_session)
    await review.complete_candidate()
    recording = await _handoff_recording(db_session, review, SEGMENTS)
    simulation = await db_session.get(Simulation, review.simulation_id)
    assert simulation is not None
    other_cs = await factories.create_candidate_session(db_session, simulation)
    [task_id] = [t["id"] for t in review.simulation["tasks"] if t["type"] == "handoff"]
    task = await db_session.get(Task, task_id)
    assert task is not None
    other = await factories.create_recording(db_session, other_cs, task, segments=SEGMENTS)
    rid = recording.id
    cited = {"kind": "transcript", "ref": f"{rid}:1", "quote": "advisory locks over a queue"}
    timed = {"kind": "transcript", "ref": f"{rid}:0", "startMs": 1000, "endMs": 4250}

    keys = [c["key"] for c in (await review.rubric())["criteria"] if c["dayIndex"] == 2]
    saved = await review.save(
        "bea", [{"criterionKey": keys[0], "level": 3, "evidence": [cited, timed]}]
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["entries"][0]["evidence"] == [
        cited | {"startMs": None, "endMs": None, "redacted": None},
        timed | {"quote": None, "redacted": None},
    ]

    refused = await review.save(
        "bea",
        [
            {
                "criterionKey": keys[0],
                "level": 3,
                "evidence": [
                    cited,
                    {"kind": "transcript", "ref": f"{rid}:1", "quote": "we used Kafka"},
                    {"kind": "transcript", "ref": f"{rid}:1", "startMs": 9600},
                    {"kind": "transcript", "ref": f"{rid}:3"},
                    {"kind": "transcript", "ref": f"{other.id}:1", "quote": "advisory locks"},
                    {"kind": "transcript", "ref": f"{rid}"},
                ],
            }
        ],
    )
    body = assert_problem(refused, 422, "EVIDENCE_INVALID")
    assert [(error["loc"][-1], error["code"]) for error in body["errors"]] == [
        ("1", "EVIDENCE_QUOTE_NOT_FOUND"),
        ("2", "EVIDENCE_SPAN_INVALID"),
        ("3", "EVIDENCE_SOURCE_NOT_FOUND"),
        ("4", "EVIDENCE_SOURCE_NOT_FOUND"),
        ("5", "EVIDENCE_REF_INVALID"),
    ]
    invented = await review.save(
        "bea",
        [
            {
                "criterionKey": keys[0],
                "level": 3,
                "evidence": [{"kind": "transcript", "ref": f"{rid}:0", "quote": "we used Kafka"}],
            }
        ],
    )
    assert_problem(invented, 422, "EVIDENCE_QUOTE_NOT_FOUND")
    # The draft as it was saved.
    assert (await review.scorecards("bea"))["mine"]["entries"] == saved.json()["entries"]


# Redaction through the recordings' own paths: the candidate's DELETE, the retention purge


@dataclass
class Cited:
    """A completed candidate whose handoff recording Bea cites in her submitted scorecard
    (version 1, then an edit: version 2) and the AI cites in its draft."""

    review: ReviewScene
    handoff_id: int
    recording_id: int
    scorecard_id: int
    key: str
    text_item: dict[str, Any]


async def _cite(review: ReviewScene, session: AsyncSession, recording: Recording) -> Cited:
    answers = await review.complete_candidate()
    [handoff_id] = [t["id"] for t in review.simulation["tasks"] if t["type"] == "handoff"]
    rid = recording.id
    text_item = {"kind": "text", "ref": str(answers[1]), "quote": "answer for day 1"}
    entries = await review.entries(level=3, note="Clear handoff.")
    key = entries[0]["criterionKey"]
    entries[0]["evidence"] = [
        {"kind": "transcript", "ref": f"{rid}:1", "quote": "advisory locks", "startMs": 4300},
        text_item,
    ]
    saved = await review.save("bea", entries, "yes")
    assert saved.status_code == 200, saved.text
    submitted = await review.submit("bea")
    assert submitted.status_code == 200, submitted.text
    entries[1]["level"] = 4
    edited = await review.save("bea", entries, "yes")
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    session.add(
        AiScorecardDraft(
            candidate_session_id=review.cs_id,
            day_index=2,
            status="ready",
            content={"summary": "Handed over.", "entries": entries},
        )
    )
    await session.flush()
    return Cited(review, handoff_id, rid, edited.json()["id"], key, text_item)


def _items(entries: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    [entry] = [entry for entry in entries if entry["criterionKey"] == key]
    assert entry["level"] == 3
    assert entry["note"] == "Clear handoff."
    items: list[dict[str, Any]] = entry["evidence"]
    return items


async def _shown(cited: Cited) -> list[list[dict[str, Any]]]:
    """The cited criterion's evidence in Bea's scorecard, each of its versions and the AI
    draft, as the API shows them."""
    review = cited.review
    mine = (await review.scorecards("bea"))["mine"]
    assert [entry["level"] for entry in mine["entries"]][:2] == [3, 4]
    versions = await review.client.get(
        f"{review.scorecards_url}/{cited.scorecard_id}/versions", headers=review.headers["bea"]
    )
    assert versions.status_code == 200, versions.text
    drafts = await review.client.get(
        f"/api/candidate-sessions/{review.cs_id}/ai-drafts", headers=review.headers["rita"]
    )
    assert drafts.status_code == 200, drafts.text
    [draft] = drafts.json()
    return [
        _items(mine["entries"], cited.key),
        *(_items(version["entries"], cited.key) for version in versions.json()),
        _items(draft["content"]["entries"], cited.key),
    ]


def _transcript_item(rid: int, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "transcript",
        "ref": f"{rid}:1",
        "quote": "advisory locks",
        "startMs": 4300,
        "endMs": None,
        "redacted": None,
    } | changes


async def test_the_candidate_s_delete_redacts_the_quotes_of_their_transcript(
    world: World, db_session: AsyncSession
) -> None:
    review = await review_scene(world, db_session)
    recording = await _handoff_recording(db_session, review, SEGMENTS)
    cited = await _cite(review, db_session, recording)
    text_item = cited.text_item | {"startMs": None, "endMs": None, "redacted": None}
    assert await _shown(cited) == [[_transcript_item(cited.recording_id), text_item]] * 4

    deleted = await review.client.delete(
        f"/api/tasks/{cited.handoff_id}/recording",
        headers=world.candidate | {"x-candidate-session-id": str(review.cs_id)},
    )
    assert deleted.status_code == 204, deleted.text

    redacted = _transcript_item(cited.recording_id, quote=None, redacted="recording_removed")
    assert await _shown(cited) == [[redacted, text_item]] * 4
    [purge] = (
        await db_session.scalars(
            select(MediaPurge).where(MediaPurge.recording_id == cited.recording_id)
        )
    ).all()
    assert purge.reason == "candidate_deleted"

    # The redacted citation is saved again as it is; a new quote of it is refused.
    mine = (await review.scorecards("bea"))["mine"]
    again = await review.save("bea", mine["entries"], "yes")
    assert again.status_code == 200, again.text
    assert _items(again.json()["entries"], cited.key) == [redacted, text_item]
    mine["entries"][0]["evidence"].append(_transcript_item(cited.recording_id))
    refused = await review.save("bea", mine["entries"], "yes")
    assert_problem(refused, 422, "EVIDENCE_SOURCE_REMOVED")


async def test_the_retention_purge_redacts_the_quotes_of_its_transcripts_only(
    world: World, app: FastAPI, database: Database, db_session: AsyncSession
) -> None:
    review = await review_scene(world, db_session)
    now = datetime.now(UTC)
    retention = timedelta(days=app.state.services.settings.recording.retention_days)
    recording = await _handoff_recording(db_session, review, SEGMENTS)
    # Completed just inside the window that a day later has passed.
    recording.completed_at = now - retention + timedelta(hours=12)
    cited = await _cite(review, db_session, recording)
    # Another candidate's recording of the same task, quoted in their scorecard: not due.
    simulation = await db_session.get(Simulation, review.simulation_id)
    task = await db_session.get(Task, cited.handoff_id)
    assert simulation is not None
    assert task is not None
    other_cs = await factories.create_candidate_session(db_session, simulation)
    other = await factories.create_recording(db_session, other_cs, task, segments=SEGMENTS)
    rubric = await current_rubric(db_session, simulation.id)
    other_entries = [
        {
            "criterionKey": cited.key,
            "level": 2,
            "note": "",
            "evidence": [_transcript_item(other.id)],
        }
    ]
    db_session.add(
        Scorecard(
            candidate_session_id=other_cs.id,
            reviewer_user_id=review.user_ids["bea"],
            rubric_version_id=rubric.id,
            entries=other_entries,
        )
    )
    await db_session.flush()

    def context(clock: FakeClock) -> JobContext[Services]:
        return JobContext(
            database=database,
            clock=clock,
            services=app.state.services,
            job_id=1,
            attempt=1,
            max_attempts=RETENTION_PURGE.job_type.max_attempts,
        )

    assert await purge_due(context(FakeClock(now))) == {"retention": 0, "abandoned": 0}
    text_item = cited.text_item | {"startMs": None, "endMs": None, "redacted": None}
    assert await _shown(cited) == [[_transcript_item(cited.recording_id), text_item]] * 4

    assert await purge_due(context(FakeClock(now + timedelta(days=1)))) == {
        "retention": 1,
        "abandoned": 0,
    }

    redacted = _transcript_item(cited.recording_id, quote=None, redacted="recording_removed")
    assert await _shown(cited) == [[redacted, text_item]] * 4
    assert (
        await db_session.scalar(
            select(MediaPurge.reason).where(MediaPurge.recording_id == cited.recording_id)
        )
        == "retention"
    )
    untouched = await db_session.scalar(
        select(Scorecard.entries).where(Scorecard.candidate_session_id == other_cs.id)
    )
    assert untouched == other_entries


async def test_a_citation_being_saved_holds_off_the_recording_s_removal(jobs_db: Database) -> None:
    """Between checking a transcript citation and committing it, the recording cannot be
    removed (its removal would redact before the citation is stored); afterwards it can."""
    async with jobs_db.session_scope() as session:
        company = await factories.create_company(session)
        simulation = await factories.create_simulation(session, company)
        task = await factories.create_task(session, simulation, day_index=4, type="handoff")
        cs = await factories.create_candidate_session(session, simulation)
        recording = await factories.create_recording(session, cs, task, segments=SEGMENTS)
        cs_id, rid = cs.id, recording.id

    async with jobs_db.session_scope() as saving:
        assert await _codes(saving, cs_id, _item(f"{rid}:1", "advisory locks")) == [None]
        async with jobs_db.session_scope() as removing:
            await removing.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                await recordings_repository.by_id(removing, rid, for_update=True)

    async with jobs_db.session_scope() as removing:
        locked = await recordings_repository.by_id(removing, rid, for_update=True)
        assert locked is not None
