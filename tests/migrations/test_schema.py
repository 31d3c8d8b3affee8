"""The database itself refuses states the product must never reach, and the migrations build
exactly the schema the models describe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.companies.models import User
from app.core.migrations import alembic_config
from app.models import metadata
from app.similarity.models import SimilarityPair, SubmissionFingerprints
from app.simulations.models import Simulation, Task
from tests.support.factories import (
    World,
    create_candidate_session,
    create_company,
    create_job,
    create_simulation,
    create_submission,
    create_task,
    create_tasks,
    create_test_run,
    create_workspace,
    create_world,
)


@asynccontextmanager
async def refused(session: AsyncSession, constraint: str) -> AsyncIterator[None]:
    """The block's flush must fail on `constraint`; the outer transaction survives."""
    # The block is the caller's: it cannot be a single statement here.
    with pytest.raises(IntegrityError, match=constraint):  # noqa: PT012
        async with session.begin_nested():
            yield
            await session.flush()


@pytest.fixture
async def world(db_session: AsyncSession) -> World:
    return await create_world(db_session)


# --- uniqueness -----------------------------------------------------------------------------


async def test_second_submission_for_same_session_and_task_is_refused(
    db_session: AsyncSession, world: World
) -> None:
    assert world.submission.task_id == world.tasks[0].id
    async with refused(db_session, "uq_submissions_candidate_session_id_task_id"):
        await create_submission(db_session, world.candidate_session, world.tasks[0])
    # Another task of the same session is fine.
    await create_submission(db_session, world.candidate_session, world.tasks[3])


async def test_second_workspace_for_same_session_and_template_is_refused(
    db_session: AsyncSession, world: World
) -> None:
    template = world.workspace.template_repo
    async with refused(db_session, "uq_workspaces_candidate_session_id_template_repo"):
        await create_workspace(db_session, world.candidate_session, template_repo=template)
    await create_workspace(db_session, world.candidate_session, template_repo="acme/debug-me")


async def test_github_run_is_claimed_by_at_most_one_test_run(
    db_session: AsyncSession, world: World
) -> None:
    # Runs not yet matched to a GitHub run do not collide.
    await create_test_run(db_session, world.workspace, world.code_task)
    await create_test_run(db_session, world.workspace, world.code_task, github_run_id=4242)
    async with refused(db_session, "uq_test_runs_github_run_id"):
        await create_test_run(db_session, world.workspace, world.code_task, github_run_id=4242)


async def test_second_open_session_for_same_email_in_other_case_is_refused(
    db_session: AsyncSession, world: World
) -> None:
    simulation = world.simulation
    await create_candidate_session(db_session, simulation, invite_email="Ada@Example.com")
    async with refused(db_session, "uq_candidate_sessions_open_invite_email"):
        await create_candidate_session(db_session, simulation, invite_email="ada@example.COM")
    async with refused(db_session, "uq_candidate_sessions_open_invite_email"):
        await create_candidate_session(
            db_session, simulation, invite_email="ADA@example.com", status="in_progress"
        )
    # The same person may be invited to another simulation.
    other = await create_simulation(db_session, world.company)
    await create_candidate_session(db_session, other, invite_email="ada@example.com")


@pytest.mark.parametrize("closed_status", ["completed", "expired", "revoked"])
async def test_closed_session_does_not_block_a_new_invite(
    db_session: AsyncSession, world: World, closed_status: Any
) -> None:
    simulation = world.simulation
    await create_candidate_session(
        db_session, simulation, invite_email="grace@example.com", status=closed_status
    )
    reinvited = await create_candidate_session(
        db_session, simulation, invite_email="Grace@Example.com"
    )
    assert reinvited.status == "invited"


async def test_second_pending_job_with_same_dedupe_key_is_refused(
    db_session: AsyncSession,
) -> None:
    await create_job(db_session, dedupe_key="invite:1")
    async with refused(db_session, "uq_jobs_waiting_dedupe_key"):
        await create_job(db_session, dedupe_key="invite:1")
    # A failed job is waiting for its retry: it still holds the key.
    await create_job(db_session, dedupe_key="invite:2", state="failed")
    async with refused(db_session, "uq_jobs_waiting_dedupe_key"):
        await create_job(db_session, dedupe_key="invite:2")


@pytest.mark.parametrize("finished_state", ["succeeded", "dead"])
async def test_finished_job_does_not_block_a_new_one_with_same_dedupe_key(
    db_session: AsyncSession, finished_state: Any
) -> None:
    await create_job(db_session, dedupe_key="invite:3", state=finished_state)
    await create_job(db_session, dedupe_key="invite:3")
    # Jobs without a key never collide.
    await create_job(db_session)
    await create_job(db_session)


async def test_company_names_and_recruiter_emails_are_unique_ignoring_case(
    db_session: AsyncSession, world: World
) -> None:
    async with refused(db_session, "uq_companies_lower_name"):
        await create_company(db_session, name=world.company.name.upper())
    async with refused(db_session, "uq_users_lower_email"):
        db_session.add(
            User(company_id=world.company.id, email=world.recruiter.email.upper(), name="Twin")
        )


# --- deletes --------------------------------------------------------------------------------


async def test_deleting_a_simulation_with_sessions_is_refused(
    db_session: AsyncSession, world: World
) -> None:
    async with refused(db_session, "fk_candidate_sessions_simulation_id_simulations"):
        await db_session.delete(world.simulation)
    assert await db_session.get(Simulation, world.simulation.id) is not None


async def test_deleting_a_simulation_with_only_tasks_deletes_its_tasks(
    db_session: AsyncSession,
) -> None:
    company = await create_company(db_session)
    simulation = await create_simulation(db_session, company)
    await create_tasks(db_session, simulation)

    await db_session.delete(simulation)
    await db_session.flush()

    count = select(func.count()).select_from(Task).where(Task.simulation_id == simulation.id)
    assert await db_session.scalar(count) == 0


async def test_deleting_a_test_run_keeps_the_submission_that_referenced_it(
    db_session: AsyncSession, world: World
) -> None:
    submission = await create_submission(
        db_session,
        world.candidate_session,
        world.code_task,
        content_text=None,
        workspace=world.workspace,
        test_run=world.test_run,
    )
    await db_session.delete(world.test_run)
    await db_session.flush()
    await db_session.refresh(submission)
    assert submission.test_run_id is None
    assert submission.workspace_id == world.workspace.id


async def test_a_similarity_pair_is_stored_once_with_the_earlier_submission_left(
    db_session: AsyncSession, world: World
) -> None:
    later = await create_submission(db_session, world.candidate_session, world.tasks[3])
    first, second = world.submission.id, later.id

    def pair(left: int, right: int, score: float = 0.5) -> SimilarityPair:
        return SimilarityPair(
            simulation_id=world.simulation.id,
            left_submission_id=left,
            right_submission_id=right,
            score=score,
            left_fraction=score,
            right_fraction=0.3,
            shared_fingerprints=40,
            regions=[],
        )

    db_session.add(pair(first, second))
    await db_session.flush()
    async with refused(db_session, "uq_similarity_pairs_left_submission_id_right_submission_id"):
        db_session.add(pair(first, second))
    async with refused(db_session, "ck_similarity_pairs_ordered"):
        db_session.add(pair(second, first))
    async with refused(db_session, "ck_similarity_pairs_score_fraction"):
        db_session.add(pair(first, second, score=1.5))


async def test_a_submission_has_one_fingerprint_row_of_a_known_status(
    db_session: AsyncSession, world: World
) -> None:
    def row(status: str) -> SubmissionFingerprints:
        return SubmissionFingerprints(
            submission_id=world.submission.id,
            simulation_id=world.simulation.id,
            candidate_session_id=world.candidate_session.id,
            task_id=world.submission.task_id,
            template_repo=world.workspace.template_repo,
            repo_full_name="acme/tenon-ws",
            cutoff_sha="c" * 40,
            base_template_sha="b" * 40,
            status=status,
        )

    async with refused(db_session, "ck_similarity_fingerprints_status"):
        db_session.add(row("done"))
    db_session.add(row("pending"))
    await db_session.flush()
    async with refused(db_session, "uq_similarity_fingerprints_submission_id"):
        db_session.add(row("ready"))


# --- checks ---------------------------------------------------------------------------------

INVALID_VALUES = [
    ("simulation", "status", "deleted", "ck_simulations_status"),
    ("candidate_session", "status", "paused", "ck_candidate_sessions_status"),
    ("candidate_session", "email_status", "bounced", "ck_candidate_sessions_email_status"),
    (
        "candidate_session",
        "email_attempts",
        -1,
        "ck_candidate_sessions_email_attempts_non_negative",
    ),
    ("workspace", "status", "archived", "ck_workspaces_status"),
    ("test_run", "status", "cancelled", "ck_test_runs_status"),
    ("test_run", "failed", -1, "ck_test_runs_counts_non_negative"),
    ("test_case_result", "status", "flaky", "ck_test_case_results_status"),
    ("event", "actor_type", "robot", "ck_events_actor_type"),
    ("job", "state", "paused", "ck_jobs_state"),
    ("job", "max_attempts", 0, "ck_jobs_max_attempts_positive"),
    ("job", "attempts", -1, "ck_jobs_attempts_non_negative"),
    ("webhook_delivery", "status", "queued", "ck_webhook_deliveries_status"),
]


@pytest.mark.parametrize(("entity", "field", "value", "constraint"), INVALID_VALUES)
async def test_invalid_value_is_refused(
    db_session: AsyncSession, world: World, entity: str, field: str, value: object, constraint: str
) -> None:
    async with refused(db_session, constraint):
        setattr(getattr(world, entity), field, value)


@pytest.mark.parametrize(
    ("field", "value", "constraint"),
    [
        ("day_index", 0, "ck_tasks_day_index"),
        ("day_index", 6, "ck_tasks_day_index"),
        ("type", "quiz", "ck_tasks_type"),
        ("max_score", -1, "ck_tasks_max_score_non_negative"),
    ],
)
async def test_invalid_task_is_refused(
    db_session: AsyncSession, world: World, field: str, value: object, constraint: str
) -> None:
    async with refused(db_session, constraint):
        setattr(world.tasks[0], field, value)


@pytest.mark.parametrize("task_type", ["code", "debug"])
async def test_code_task_without_template_repo_is_refused(
    db_session: AsyncSession, world: World, task_type: Any
) -> None:
    simulation = await create_simulation(db_session, world.company)
    async with refused(db_session, "ck_tasks_code_task_has_template_repo"):
        db_session.add(
            Task(
                simulation_id=simulation.id,
                day_index=2,
                type=task_type,
                title="Build it",
                description="No repository to build it in.",
            )
        )
    # Text tasks need none.
    handoff = await create_task(db_session, simulation, day_index=4, type="handoff")
    assert handoff.template_repo is None


# --- defaults -------------------------------------------------------------------------------


async def test_orm_inserts_come_back_with_database_defaults(
    db_session: AsyncSession, world: World
) -> None:
    candidate_session = world.candidate_session
    assert candidate_session.status == "invited"
    assert candidate_session.email_attempts == 0
    assert candidate_session.invited_at is not None
    assert candidate_session.created_at is not None
    assert world.simulation.status == "active"
    assert world.workspace.status == "pending"
    assert world.test_run.status == "queued"
    assert world.test_run.stdout_truncated is False
    assert world.submission.late is False
    assert world.submission.submitted_at is not None
    assert world.webhook_delivery.status == "received"
    assert isinstance(world.event.id, int)


async def test_raw_job_insert_gets_queue_defaults(db_session: AsyncSession) -> None:
    row = (
        await db_session.execute(
            text(
                "INSERT INTO jobs (type) VALUES ('noop')"
                " RETURNING state, payload, attempts, max_attempts, run_at, created_at"
            )
        )
    ).one()
    assert (row.state, row.payload, row.attempts, row.max_attempts) == ("pending", {}, 0, 5)
    assert row.run_at == row.created_at  # both now(): the transaction's start time


# --- migrations -----------------------------------------------------------------------------


async def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    # env.py calls asyncio.run, which cannot nest inside the test's running loop.
    await asyncio.to_thread(command.check, alembic_config(database_url))


async def _public_tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return set(rows.scalars())
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_upgrade_again(scratch_database_url: str) -> None:
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await _public_tables(scratch_database_url) == {"alembic_version", *metadata.tables}

    await asyncio.to_thread(command.downgrade, config, "base")
    assert await _public_tables(scratch_database_url) == {"alembic_version"}

    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)


SCHEMA_QUERIES = {
    # `alembic check` compares neither CHECK constraints nor partial-index predicates.
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    """,
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    # Column order is left out: later migrations append columns wherever the model has them.
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable,
            column_default, is_identity
        FROM information_schema.columns WHERE table_schema = 'public'
    """,
}


async def _schema(url: str) -> dict[str, set[tuple[Any, ...]]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                name: {
                    tuple(row)
                    for row in await connection.execute(text(query))
                    if row[0] != "alembic_version"
                }
                for name, query in SCHEMA_QUERIES.items()
            }
    finally:
        await engine.dispose()


async def test_migrated_schema_equals_schema_created_from_models(
    database_url: str, scratch_database_url: str
) -> None:
    engine = create_async_engine(scratch_database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
    finally:
        await engine.dispose()

    migrated, from_models = await _schema(database_url), await _schema(scratch_database_url)
    for kind in SCHEMA_QUERIES:
        assert migrated[kind] - from_models[kind] == set(), f"{kind} only in the migration"
        assert from_models[kind] - migrated[kind] == set(), f"{kind} only in the models"


async def test_the_unused_fit_profiles_table_is_dropped_and_its_downgrade_restores_it(
    scratch_database_url: str,
) -> None:
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "c4d8a2e61f37")
    before = await _schema(scratch_database_url)
    assert "fit_profiles" in await _public_tables(scratch_database_url)

    await asyncio.to_thread(command.upgrade, config, "d986488e4f51")
    assert "fit_profiles" not in await _public_tables(scratch_database_url)

    await asyncio.to_thread(command.downgrade, config, "c4d8a2e61f37")
    assert await _schema(scratch_database_url) == before
