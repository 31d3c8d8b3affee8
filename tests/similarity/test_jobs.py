"""The similarity job end to end: candidates hand in the fixtures' Python solutions through
the API, their cutoff trees come through the GitHub emulator's tarball endpoint over real
HTTP, and the queued jobs run on committed data. A renamed and reordered copy is paired
with its original, with the regions on both sides; nothing else is, within the simulation
or across simulations; a tree over a cap or without source is skipped; GitHub failing is
retried, then the row fails with a code; two submissions stored at once still meet."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from structlog.testing import capture_logs

from app.core.db import Database
from app.core.settings import SimilaritySettings
from app.jobs.models import Job
from app.similarity import repository
from app.similarity.fingerprints import (
    DEFAULT_THRESHOLD,
    MIN_SHARED,
    MatchedRegion,
    Span,
    TreeFingerprints,
    compare,
    fingerprint_tree,
)
from app.similarity.jobs import FINGERPRINT
from tests.support.emulator import eventually
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.similarity_jobs import FIXTURES, TEMPLATE_REPO, similarity_scene

# (file, first line, last line) of a function in honest_a, and where the copy has it:
# search.score became lookup.relevance; Library.checkout moved down within service.py.
COPIED_FUNCTIONS = [
    (("lending/search.py", 18, 33), ("lending/lookup.py", 22, 37)),
    (("lending/service.py", 75, 98), ("lending/service.py", 78, 103)),
]
# A region may end a few lines into the next function: k-grams straddle the boundary.
SLACK_LINES = 3


def _files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _fingerprinted(solution: str) -> TreeFingerprints:
    """The solution's repository fingerprinted here, from the fixtures' files."""
    template = _files(FIXTURES / "template")
    tree = template | _files(FIXTURES / solution)
    return fingerprint_tree(tree.items()).without(fingerprint_tree(template.items()))


def _inside(span: dict[str, Any], place: tuple[str, int, int]) -> bool:
    file, first, last = place
    start, end = int(span["startLine"]), int(span["endLine"])
    return span["file"] == file and first <= start <= end <= last + SLACK_LINES


def _stored(span: Span) -> dict[str, Any]:
    return {"file": span.file, "startLine": span.start_line, "endLine": span.end_line}


def _region(region: MatchedRegion) -> dict[str, Any]:
    """A region as a pair row keeps it."""
    return {
        "left": _stored(region.left),
        "right": _stored(region.right),
        "fingerprints": region.fingerprints,
    }


async def test_a_renamed_copy_is_paired_with_its_original_and_nothing_else_is(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with similarity_scene(tmp_path, jobs_database_url, jobs_db, idp) as s:
        simulation_id, [task_id] = await s.simulation()
        other_simulation_id, [other_task_id] = await s.simulation()
        ann, cal, bea, tim = await s.candidates(simulation_id, task_id, "ann", "cal", "bea", "tim")
        [eve] = await s.candidates(other_simulation_id, other_task_id, "eve")
        ids = {
            "honest_a": await s.hand_in(ann, "honest_a"),
            "copy_of_a": await s.hand_in(cal, "copy_of_a"),
            "honest_b": await s.hand_in(bea, "honest_b"),
            "template": await s.hand_in(tim, None),
            # The original, word for word, in another simulation.
            "elsewhere": await s.hand_in(eve, "honest_a"),
        }
        with capture_logs() as logs:
            await s.run_jobs()
        rows = {name: await s.fingerprints(submission_id) for name, submission_id in ids.items()}
        pairs = await s.pairs()
        downloads = await s.tarball_downloads()
        # What the recruiter reads of those rows.
        listed = await s.scene.client.get(
            f"/api/simulations/{simulation_id}/similarity", headers=s.scene.recruiter
        )
        matches = await s.scene.client.get(
            f"/api/submissions/{ids['copy_of_a']}/similarity", headers=s.scene.recruiter
        )

        # Run again (a retry after a lost answer): the stored row is final.
        await FINGERPRINT.run(s.context(attempt=2), {"submissionId": ids["copy_of_a"]})
        assert await s.tarball_downloads() == downloads
        assert [pair.id for pair in await s.pairs()] == [pair.id for pair in pairs]

    assert {name: (row.status if row else None) for name, row in rows.items()} == dict.fromkeys(
        ids, "ready"
    )
    template_row = rows["template"]
    assert template_row is not None
    template_files = len(fingerprint_tree(_files(FIXTURES / "template").items()).files)
    assert (template_row.fingerprint_count, template_row.file_count) == (0, template_files)
    for name in ("honest_a", "copy_of_a", "honest_b", "elsewhere"):
        row = rows[name]
        assert row is not None
        assert row.fingerprints is not None
        assert row.fingerprint_count == len(TreeFingerprints.from_bytes(row.fingerprints)) > 0
        assert row.simulation_id == (other_simulation_id if name == "elsewhere" else simulation_id)
        assert row.template_repo == TEMPLATE_REPO
    # Each tree and its template, downloaded once.
    assert downloads == 2 * len(ids)
    # The n-th submission of a group is compared with the n - 1 stored before it; one that
    # is all template with nobody.
    compared = {
        entry["submission_id"]: entry["compared"]
        for entry in logs
        if entry["event"] == "similarity.fingerprinted"
    }
    assert compared == {
        ids["honest_a"]: 0,
        ids["copy_of_a"]: 1,
        ids["honest_b"]: 2,
        ids["template"]: 0,
        ids["elsewhere"]: 0,
    }

    [pair] = pairs
    assert (pair.simulation_id, pair.left_submission_id, pair.right_submission_id) == (
        simulation_id,
        ids["honest_a"],
        ids["copy_of_a"],
    )
    expected = compare(_fingerprinted("honest_a"), _fingerprinted("copy_of_a"))
    assert pair.score == pytest.approx(expected.score)
    assert pair.score >= DEFAULT_THRESHOLD
    assert (pair.left_fraction, pair.right_fraction) == pytest.approx(
        (expected.left_fraction, expected.right_fraction)
    )
    assert pair.shared_fingerprints == expected.shared >= MIN_SHARED
    assert pair.regions == [_region(region) for region in expected.regions]
    sizes = [region["fingerprints"] for region in pair.regions]
    assert sizes == sorted(sizes, reverse=True)
    for original, copied in COPIED_FUNCTIONS:
        found = [region for region in pair.regions if _inside(region["left"], original)]
        assert found, f"no region inside {original}"
        assert all(_inside(region["right"], copied) for region in found)

    assert listed.status_code == 200, listed.text
    assert listed.json()["coverage"] == {"ready": 4, "pending": 0, "skipped": 0, "failed": 0}
    [listed_pair] = listed.json()["items"]
    assert (listed_pair["left"]["submissionId"], listed_pair["right"]["submissionId"]) == (
        ids["honest_a"],
        ids["copy_of_a"],
    )
    assert listed_pair["regions"] == pair.regions
    assert matches.status_code == 200, matches.text
    [match] = matches.json()["matches"]
    assert match["other"]["submissionId"] == ids["honest_a"]
    # Oriented from the copy's side: `this` is the right side of the stored pair.
    assert [(region["this"], region["other"]) for region in match["regions"]] == [
        (region["right"], region["left"]) for region in pair.regions
    ]


async def test_a_candidates_own_submissions_of_one_template_are_not_compared(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    # Two code tasks of one template share the candidate's repository.
    tasks = [
        {"dayIndex": day, "type": "code", "title": f"Day {day}", "description": "Build it."}
        for day in (1, 2)
    ]
    async with similarity_scene(tmp_path, jobs_database_url, jobs_db, idp) as s:
        simulation_id, [first_day, second_day] = await s.simulation(tasks)
        ann, cal = await s.candidates(simulation_id, first_day, "ann", "cal")
        ann_first = await s.hand_in(ann, "honest_a")
        cal_first = await s.hand_in(cal, "copy_of_a")
        # The next day's cutoff: the same tree.
        ann_second = await s.submit(replace(ann, task_id=second_day))
        await s.run_jobs()
        rows = [await s.fingerprints(submission) for submission in (ann_first, ann_second)]
        pairs = await s.pairs()

    assert [row.status if row else None for row in rows] == ["ready", "ready"]
    assert [(pair.left_submission_id, pair.right_submission_id) for pair in pairs] == [
        (ann_first, cal_first),
        (cal_first, ann_second),
    ]


async def _waiting_for_advisory_locks(database: Database) -> int:
    async with database.session_scope() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    return int(waiting or 0)


async def test_two_submissions_stored_at_once_are_compared_with_each_other_once(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with similarity_scene(tmp_path, jobs_database_url, jobs_db, idp) as s:
        simulation_id, [task_id] = await s.simulation()
        ann, cal = await s.candidates(simulation_id, task_id, "ann", "cal")
        first = await s.hand_in(ann, "honest_a")
        second = await s.hand_in(cal, "copy_of_a")

        async with jobs_db.sessionmaker() as holder, holder.begin():
            # The group's lock held elsewhere: both jobs read and fingerprint their trees,
            # then wait for it.
            await repository.hold_group_lock(holder, simulation_id, TEMPLATE_REPO)
            jobs = [
                asyncio.create_task(FINGERPRINT.run(s.context(), {"submissionId": submission}))
                for submission in (first, second)
            ]

            async def both_waiting() -> bool | None:
                return True if await _waiting_for_advisory_locks(jobs_db) == 2 else None

            await eventually(both_waiting, within=60, interval=0.05)
        await asyncio.gather(*jobs)
        # The queued jobs then find their rows stored.
        await s.run_jobs()
        rows = [await s.fingerprints(submission) for submission in (first, second)]
        pairs = await s.pairs()
        downloads = await s.tarball_downloads()

    assert [row.status if row else None for row in rows] == ["ready", "ready"]
    assert [(pair.left_submission_id, pair.right_submission_id) for pair in pairs] == [
        (first, second)
    ]
    assert downloads == 4


@pytest.mark.parametrize(
    ("settings", "remove", "reason"),
    [
        # The tarballs of these trees are over 2 KiB, their text over 5 KiB.
        ({"github": {"tarball_max_bytes": 1024}}, (), "TARBALL_TOO_LARGE"),
        ({"similarity": {"max_text_bytes": 4096}}, (), "TARBALL_UNREADABLE"),
        ({"similarity": {"max_entries": 8}}, (), "TARBALL_UNREADABLE"),
        (
            {},
            [
                "lending/__init__.py",
                "lending/errors.py",
                "lending/fees.py",
                "lending/models.py",
                "lending/search.py",
                "lending/service.py",
                "tests/test_more.py",
                "tests/test_service.py",
            ],
            "NO_SOURCE_FILES",
        ),
    ],
)
async def test_a_tree_over_a_cap_or_without_source_is_skipped_with_the_reason(
    tmp_path: Path,
    jobs_database_url: str,
    jobs_db: Database,
    idp: IdentityProvider,
    settings: dict[str, Any],
    remove: list[str],
    reason: str,
) -> None:
    async with similarity_scene(tmp_path, jobs_database_url, jobs_db, idp, **settings) as s:
        simulation_id, [task_id] = await s.simulation()
        ann, cal = await s.candidates(simulation_id, task_id, "ann", "cal")
        await s.hand_in(ann, "honest_a")
        s.push(cal, "honest_a", remove=remove)
        skipped = await s.submit(cal)
        await s.run_jobs()
        row = await s.fingerprints(skipped)
        pairs = await s.pairs()
        job = await s.job(skipped)

    assert row is not None
    assert (row.status, row.skip_reason, row.fingerprints) == ("skipped", reason, None)
    assert pairs == []
    assert (job.state, job.attempts) == ("succeeded", 1)


async def test_github_failing_is_retried_then_fails_and_an_unknown_commit_fails_at_once(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    # No retries inside the client: each job attempt is one request.
    async with similarity_scene(
        tmp_path, jobs_database_url, jobs_db, idp, github={"max_retries": 0}
    ) as s:
        simulation_id, [task_id] = await s.simulation()
        ann, cal = await s.candidates(simulation_id, task_id, "ann", "cal")
        unavailable = await s.hand_in(ann, "honest_a")
        gone = await s.hand_in(cal, "copy_of_a")
        faults = [{"route": f"^GET /repos/{ann.repo}/tarball/", "status": 502}]
        async with s.scene.github.client() as gh:
            assert (await gh.post("/_emulator/faults", json=faults)).status_code < 300
            assert (await gh.delete(f"/repos/{cal.repo}")).status_code == 204

        clock = FakeClock(datetime.now(UTC))
        await s.run_jobs(clock)
        after_one = (await s.fingerprints(unavailable), await s.job(unavailable))
        for _ in range(FINGERPRINT.max_attempts - 1):
            clock.advance(FINGERPRINT.backoff_cap)
            await s.run_jobs(clock)
        rows = [await s.fingerprints(submission) for submission in (unavailable, gone)]
        jobs = [await s.job(submission) for submission in (unavailable, gone)]

    row, retried = after_one
    assert row is not None
    assert (row.status, retried.state, retried.attempts) == ("pending", "failed", 1)
    assert [(row.status, row.skip_reason) if row else None for row in rows] == [
        ("failed", "GITHUB_UNAVAILABLE"),
        ("failed", "GITHUB_NOT_FOUND"),
    ]
    assert [(job.state, job.attempts) for job in jobs] == [
        ("dead", FINGERPRINT.max_attempts),
        ("dead", 1),
    ]


async def test_nothing_is_queued_when_similarity_is_turned_off(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with similarity_scene(
        tmp_path, jobs_database_url, jobs_db, idp, similarity={"enabled": False}
    ) as s:
        simulation_id, [task_id] = await s.simulation()
        [ann] = await s.candidates(simulation_id, task_id, "ann")
        submission_id = await s.hand_in(ann, "honest_a")
        row = await s.fingerprints(submission_id)
        async with jobs_db.session_scope() as session:
            jobs = await session.scalar(
                select(func.count()).select_from(Job).where(Job.type == FINGERPRINT.name)
            )
            review_jobs = await session.scalar(
                select(func.count()).select_from(Job).where(Job.dedupe_key.like("review:%"))
            )

    assert row is None
    assert jobs == 0
    # The submission itself went through: its other work is queued.
    assert review_jobs == 1


def test_the_threshold_defaults_to_the_engines() -> None:
    assert SimilaritySettings(_env_file=None).threshold == DEFAULT_THRESHOLD
