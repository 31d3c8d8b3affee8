"""The `tenon` command and the embedded PostgreSQL, run for real."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.companies.models import Company, User
from app.core.db import Database
from app.core.migrations import PROJECT_ROOT
from app.core.settings import AppSettings, DatabaseSettings, Settings
from app.integrations.github.models import WebhookDelivery
from app.integrations.github.webhooks import receive_delivery
from app.jobs.catalog import webhook_handlers
from app.main import create_app
from tests.support.emulator import free_port


def _tenon(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("TENON_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=clean | {"TENON_ENV": "test"} | env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_migrate_and_seed_twice_leave_one_demo_company(scratch_database_url: str) -> None:
    for command in ("migrate", "seed", "migrate", "seed"):
        result = _tenon(command, TENON_DATABASE_URL=scratch_database_url)
        assert result.returncode == 0, result.stderr
    engine = create_async_engine(scratch_database_url)
    try:
        async with engine.connect() as connection:
            companies = (await connection.execute(select(func.count()).select_from(Company))).one()
            users = (await connection.execute(select(func.count()).select_from(User))).one()
    finally:
        await engine.dispose()
    assert companies == (1,)
    assert users == (2,)


def _postmaster_running(data_dir: Path) -> bool:
    return (data_dir / "postgres" / "postmaster.pid").exists()


async def test_app_without_database_url_runs_on_embedded_postgres_and_stops_it(
    tmp_path: Path,
) -> None:
    settings = Settings(
        app=AppSettings(_env_file=None, env="test"),
        db=DatabaseSettings(_env_file=None, database_url=None, data_dir=tmp_path),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert _postmaster_running(tmp_path)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")
        assert response.json() == {"status": "ready", "database": "ok"}
    assert not _postmaster_running(tmp_path)
    assert (tmp_path / "postgres" / "PG_VERSION").exists()  # the data stays


def test_migrate_without_database_url_uses_embedded_postgres(tmp_path: Path) -> None:
    result = _tenon("migrate", TENON_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "postgres" / "PG_VERSION").exists()
    assert not _postmaster_running(tmp_path)


async def test_worker_command_processes_jobs_and_stops_on_sigterm(
    jobs_db: Database, jobs_database_url: str
) -> None:
    async with jobs_db.session_scope() as session:
        await receive_delivery(
            session,
            delivery_id="cli-worker-1",
            event="installation",
            body_json={"action": "created", "installation": {"id": 7}},
            handled=webhook_handlers(),
        )
    clean = {key: value for key, value in os.environ.items() if not key.startswith("TENON_")}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "app.cli", "worker", "--concurrency", "2"),
        env=clean | {"TENON_ENV": "test", "TENON_DATABASE_URL": jobs_database_url},
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            async with jobs_db.session_scope() as session:
                status = await session.scalar(
                    select(WebhookDelivery.status).where(
                        WebhookDelivery.delivery_id == "cli-worker-1"
                    )
                )
            if status == "processed":
                break
            await asyncio.sleep(0.1)
        assert status == "processed"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output
    assert b"jobs.worker.stopped" in output


def test_results_parse_runs_without_the_services_settings(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>'
    )
    # Settings that would refuse to start the service do not matter to an offline tool.
    result = _tenon("results", "parse", str(report), TENON_ENV="production", DEV_AUTH_BYPASS="1")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert (line["resultCode"], line["passed"], line["failed"]) == ("OK", 1, 1)


async def test_github_emulator_command_serves_templates_from_a_relative_data_dir(
    tmp_path: Path,
) -> None:
    port = free_port()
    clean = {key: value for key, value in os.environ.items() if not key.startswith("TENON_")}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "app.cli", "github-emulator", "--port", str(port)),
        *("--data-dir", "emulator-data", "--token", "t0ken"),
        env=clean,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    templates = (await client.get("/_emulator/templates")).json()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert "tenon-templates/python-fastapi" in str(templates), output
    assert (tmp_path / "emulator-data").is_dir()
