"""The migration to integer ids converts a database holding data: every row gets a positive
integer id, every reference follows it, and ids stored inside data (job payloads and dedupe
keys, events, a workspace's last run) are rewritten to match."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.core.migrations import alembic_config

UUID_SCHEMA_REVISION = "7e3b1f6c2d90"
INTEGER_IDS_REVISION = "c4d8a2e61f37"
EARLIER = datetime(2026, 11, 1, tzinfo=UTC)


async def _insert(connection: AsyncConnection, table: str, **values: Any) -> None:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{column}" for column in values)
    # The table and column names are this module's own literals.
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})")  # noqa: S608
    await connection.execute(statement, values)


async def _seed(connection: AsyncConnection) -> dict[str, uuid.UUID]:
    """One connected graph of rows, as the uuid schema stored them."""
    ids = {
        name: uuid.uuid4()
        for name in (
            "older_company",
            "company",
            "recruiter",
            "simulation",
            "design_task",
            "code_task",
            "session",
            "fit_profile",
            "workspace",
            "run",
            "submission",
        )
    }
    await _insert(
        connection, "companies", id=ids["older_company"], name="Older", created_at=EARLIER
    )
    await _insert(connection, "companies", id=ids["company"], name="Acme")
    await _insert(
        connection,
        "users",
        id=ids["recruiter"],
        company_id=ids["company"],
        email="rita@acme.example",
        name="Rita",
    )
    await _insert(
        connection,
        "simulations",
        id=ids["simulation"],
        company_id=ids["company"],
        created_by_user_id=ids["recruiter"],
        title="Backend",
        role="Engineer",
        tech_stack="Python",
        seniority="mid",
        template_key="python-fastapi",
    )
    for key, day, task_type, repo in (
        ("design_task", 1, "design", None),
        ("code_task", 2, "code", "tenon-templates/python-fastapi"),
    ):
        await _insert(
            connection,
            "tasks",
            id=ids[key],
            simulation_id=ids["simulation"],
            day_index=day,
            type=task_type,
            title=key,
            description="Do it.",
            template_repo=repo,
        )
    await _insert(
        connection,
        "candidate_sessions",
        id=ids["session"],
        simulation_id=ids["simulation"],
        candidate_name="Ada",
        invite_email="ada@example.com",
        token_hash="hash-of-the-token",
        token_ciphertext=b"ciphertext",
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    await _insert(
        connection, "fit_profiles", id=ids["fit_profile"], candidate_session_id=ids["session"]
    )
    await _insert(
        connection,
        "workspaces",
        id=ids["workspace"],
        candidate_session_id=ids["session"],
        template_repo="tenon-templates/python-fastapi",
        template_key="python-fastapi",
        last_run_summary=json.dumps({"runId": str(ids["run"]), "status": "passed"}),
    )
    await _insert(
        connection,
        "test_runs",
        id=ids["run"],
        workspace_id=ids["workspace"],
        task_id=ids["code_task"],
        status="passed",
    )
    for position in (0, 1):
        await _insert(
            connection,
            "test_case_results",
            test_run_id=ids["run"],
            position=position,
            name=f"test_{position}",
            status="passed",
        )
    await _insert(
        connection,
        "submissions",
        id=ids["submission"],
        candidate_session_id=ids["session"],
        task_id=ids["code_task"],
        workspace_id=ids["workspace"],
        test_run_id=ids["run"],
    )
    await _insert(
        connection,
        "events",
        simulation_id=ids["simulation"],
        candidate_session_id=ids["session"],
        type="task.submitted",
        actor_type="recruiter",
        actor_id=str(ids["recruiter"]),
        data=json.dumps({"taskId": str(ids["code_task"]), "dayIndex": 2}),
    )
    queued_jobs = (
        ("runs.poll", "pending", {"runId": str(ids["run"]), "polls": 3}, f"poll:{ids['run']}"),
        (
            "submissions.review_code",
            "failed",
            {"submissionId": str(ids["submission"])},
            f"review:{ids['submission']}",
        ),
        (
            "workspaces.revoke_access",
            "pending",
            {"candidateSessionId": str(ids["session"])},
            f"revoke:{ids['session']}",
        ),
    )
    for job_type, state, payload, dedupe_key in queued_jobs:
        await _insert(
            connection,
            "jobs",
            type=job_type,
            state=state,
            payload=json.dumps(payload),
            dedupe_key=dedupe_key,
        )
    return ids


@pytest.fixture
async def connection(scratch_database_url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(scratch_database_url)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def _one(connection: AsyncConnection, query: str) -> dict[str, Any]:
    return dict((await connection.execute(text(query))).mappings().one())


async def test_upgrade_keeps_every_relationship_with_integer_ids(
    scratch_database_url: str, connection: AsyncConnection
) -> None:
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, UUID_SCHEMA_REVISION)
    await _seed(connection)
    await connection.commit()

    # Checked right after this migration: a later one drops fit_profiles.
    await asyncio.to_thread(command.upgrade, config, INTEGER_IDS_REVISION)

    # Every reference is followed through the new ids, found by the rows' own values.
    graph = await _one(
        connection,
        """
        SELECT c.id AS company, u.id AS recruiter, s.id AS simulation, t.id AS code_task,
            cs.id AS session, w.id AS workspace, r.id AS run, sub.id AS submission,
            fp.id AS fit_profile, e.id AS event, e.actor_id, e.data AS event_data,
            w.last_run_summary, s.created_by_user_id
        FROM companies c
        JOIN users u ON u.company_id = c.id AND u.email = 'rita@acme.example'
        JOIN simulations s ON s.company_id = c.id AND s.created_by_user_id = u.id
        JOIN tasks t ON t.simulation_id = s.id AND t.type = 'code'
        JOIN candidate_sessions cs ON cs.simulation_id = s.id
            AND cs.invite_email = 'ada@example.com'
        JOIN fit_profiles fp ON fp.candidate_session_id = cs.id
        JOIN workspaces w ON w.candidate_session_id = cs.id
        JOIN test_runs r ON r.workspace_id = w.id AND r.task_id = t.id
        JOIN submissions sub ON sub.candidate_session_id = cs.id AND sub.task_id = t.id
            AND sub.workspace_id = w.id AND sub.test_run_id = r.id
        JOIN events e ON e.simulation_id = s.id AND e.candidate_session_id = cs.id
        WHERE c.name = 'Acme'
        """,
    )
    for name in ("company", "recruiter", "simulation", "code_task", "session", "workspace"):
        assert isinstance(graph[name], int)
        assert graph[name] > 0
    assert graph["actor_id"] == str(graph["recruiter"])
    assert graph["event_data"] == {"taskId": graph["code_task"], "dayIndex": 2}
    assert graph["last_run_summary"] == {"runId": graph["run"], "status": "passed"}
    results = await connection.execute(
        text("SELECT name FROM test_case_results WHERE test_run_id = :run ORDER BY position"),
        {"run": graph["run"]},
    )
    assert list(results.scalars()) == ["test_0", "test_1"]
    tasks = await connection.execute(
        text("SELECT type FROM tasks WHERE simulation_id = :simulation ORDER BY day_index"),
        {"simulation": graph["simulation"]},
    )
    assert list(tasks.scalars()) == ["design", "code"]

    # Rows are numbered in creation order.
    companies = await connection.execute(text("SELECT name, id FROM companies ORDER BY id"))
    assert [tuple(row) for row in companies] == [("Older", 1), ("Acme", 2)]

    # Waiting jobs name the new ids, in their payloads and dedupe keys.
    jobs = await connection.execute(text("SELECT type, payload, dedupe_key FROM jobs"))
    assert {row.type: (row.payload, row.dedupe_key) for row in jobs} == {
        "runs.poll": ({"runId": graph["run"], "polls": 3}, f"poll:{graph['run']}"),
        "submissions.review_code": (
            {"submissionId": graph["submission"]},
            f"review:{graph['submission']}",
        ),
        "workspaces.revoke_access": (
            {"candidateSessionId": graph["session"]},
            f"revoke:{graph['session']}",
        ),
    }

    # New rows continue after the converted ones.
    new = await connection.execute(
        text("INSERT INTO companies (name) VALUES ('Next') RETURNING id")
    )
    assert new.scalar_one() == 3
    await connection.rollback()
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)


async def test_downgrade_restores_uuid_ids_with_the_relationships(
    scratch_database_url: str, connection: AsyncConnection
) -> None:
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, UUID_SCHEMA_REVISION)
    await _seed(connection)
    await connection.commit()
    await asyncio.to_thread(command.upgrade, config, "head")

    await asyncio.to_thread(command.downgrade, config, UUID_SCHEMA_REVISION)

    row = await _one(
        connection,
        """
        SELECT r.id AS run, j.payload, j.dedupe_key
        FROM submissions sub
        JOIN test_runs r ON r.id = sub.test_run_id
        JOIN workspaces w ON w.id = r.workspace_id AND w.id = sub.workspace_id
        JOIN jobs j ON j.type = 'runs.poll'
        """,
    )
    assert isinstance(row["run"], uuid.UUID)
    assert row["payload"] == {"runId": str(row["run"]), "polls": 3}
    assert row["dedupe_key"] == f"poll:{row['run']}"
