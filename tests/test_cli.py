"""The `tenon` command and the embedded PostgreSQL, run for real."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.assembly import webhook_handlers
from app.cli import _parser
from app.companies.models import Company, User
from app.core.db import Database
from app.core.settings import (
    LOCAL_ADMIN_API_KEY,
    LOCAL_EMULATOR_TOKEN,
    AppSettings,
    DatabaseSettings,
    Settings,
)
from app.github_emulator.config import EmulatorConfig
from app.integrations.github.models import WebhookDelivery
from app.integrations.github.webhooks import receive_delivery
from app.local_dev import with_local_defaults
from app.main import create_app
from tests.support.app import ADMIN_KEY, make_settings
from tests.support.cli import DEPLOYED, TENON, command_env, is_migrated, run_tenon
from tests.support.emulator import free_port
from tests.support.paths import REPOSITORY_ROOT


async def test_migrate_and_seed_twice_leave_one_demo_company(
    tmp_path: Path, scratch_database_url: str
) -> None:
    for command in ("migrate", "seed", "migrate", "seed"):
        result = run_tenon(command, cwd=tmp_path, TENON_DATABASE_URL=scratch_database_url)
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
    result = run_tenon("migrate", cwd=tmp_path, TENON_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "postgres" / "PG_VERSION").exists()
    assert not _postmaster_running(tmp_path)


async def test_worker_command_processes_jobs_and_stops_on_sigterm(
    tmp_path: Path, jobs_db: Database, jobs_database_url: str
) -> None:
    async with jobs_db.session_scope() as session:
        await receive_delivery(
            session,
            delivery_id="cli-worker-1",
            event="installation",
            body_json={"action": "created", "installation": {"id": 7}},
            handled=webhook_handlers(),
        )
    process = await asyncio.create_subprocess_exec(
        *(TENON, "worker", "--concurrency", "2"),
        env=command_env(TENON_DATABASE_URL=jobs_database_url),
        cwd=tmp_path,
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
    result = run_tenon(
        "results", "parse", str(report), cwd=tmp_path, TENON_ENV="production", DEV_AUTH_BYPASS="1"
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert (line["resultCode"], line["passed"], line["failed"]) == ("OK", 1, 1)


async def test_github_emulator_command_serves_templates_from_a_relative_data_dir(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *(TENON, "github-emulator", "--port", str(port)),
        *("--data-dir", "emulator-data", "--token", "t0ken"),
        env=command_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    templates: Any = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            # Importing the CLI and seeding every shipped template take about 3 s, ten times
            # that on a machine busy running the rest of the suite: wait while it is alive.
            deadline = asyncio.get_running_loop().time() + 120
            while templates is None and process.returncode is None:
                try:
                    templates = (await client.get("/_emulator/templates")).json()
                except httpx.TransportError:
                    assert asyncio.get_running_loop().time() < deadline, "not up in 120 s"
                    await asyncio.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert "tenon-templates/python-fastapi" in str(templates), output
    assert (tmp_path / "emulator-data").is_dir()


# ---- one clear line instead of a traceback -----------------------------------------------


def _server_args(command: str) -> tuple[str, ...]:
    return ("--port", str(free_port())) if command in ("serve", "dev") else ()


@pytest.mark.parametrize("command", ["migrate", "seed", "serve", "worker", "dev"])
def test_an_unreachable_database_is_one_line_naming_the_variable_and_host(
    tmp_path: Path, command: str
) -> None:
    closed_port = free_port()
    result = run_tenon(
        command,
        *_server_args(command),
        cwd=tmp_path,
        TENON_DATABASE_URL=f"postgresql://tenon:pa55word@127.0.0.1:{closed_port}/tenon",
        TENON_GITHUB_TOKEN="ghp_test",  # `dev` without the emulator
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"tenon: cannot connect to PostgreSQL at 127.0.0.1:{closed_port} (TENON_DATABASE_URL): "
        "connection refused (is PostgreSQL running and listening there?)"
    ]
    assert "pa55word" not in result.stdout


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize(
    ("command", "busy", "purpose"),
    [
        ("serve", "--port", "the API"),
        ("dev", "--port", "the API"),
        ("dev", "--emulator-port", "the GitHub emulator"),
    ],
)
async def test_a_busy_port_fails_before_the_database_is_touched(
    tmp_path: Path,
    scratch_database_url: str,
    busy_port: int,
    command: str,
    busy: str,
    purpose: str,
) -> None:
    ports = {"--port": str(free_port()), "--emulator-port": str(free_port())} | {
        busy: str(busy_port)
    }
    if command == "serve":
        del ports["--emulator-port"]
    result = run_tenon(
        command,
        *(item for pair in ports.items() for item in pair),
        cwd=tmp_path,
        TENON_DATABASE_URL=scratch_database_url,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"tenon: cannot listen on 127.0.0.1:{busy_port} for {purpose}: Address already in use"
    ]
    assert not await is_migrated(scratch_database_url)


# ---- local defaults stay local -----------------------------------------------------------


async def test_seed_refuses_to_create_demo_data_in_production(
    tmp_path: Path, scratch_database_url: str
) -> None:
    deployed = DEPLOYED | {"TENON_ENV": "production", "TENON_DATABASE_URL": scratch_database_url}
    assert run_tenon("migrate", cwd=tmp_path, **deployed).returncode == 0
    result = run_tenon("seed", cwd=tmp_path, **deployed)
    assert result.returncode == 2
    assert result.stderr == (
        "tenon: `tenon seed` creates demo recruiters for local use; refusing with "
        "TENON_ENV=production\n"
    )
    assert await _count(scratch_database_url, User) == 0


async def _count(database_url: str, model: type[Company] | type[User]) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(model))
    finally:
        await engine.dispose()
    assert count is not None
    return count


@pytest.mark.parametrize("command", ["serve", "worker"])
async def test_a_deployed_service_refuses_a_database_holding_the_demo_recruiters(
    tmp_path: Path, scratch_database_url: str, command: str
) -> None:
    for setup in ("migrate", "seed"):
        assert run_tenon(setup, cwd=tmp_path, TENON_DATABASE_URL=scratch_database_url)
    deployed = DEPLOYED | {"TENON_ENV": "production", "TENON_DATABASE_URL": scratch_database_url}
    result = run_tenon(command, *_server_args(command), cwd=tmp_path, **deployed)
    assert result.returncode == 2
    assert result.stderr == (
        "tenon: refusing to start with TENON_ENV=production: the database holds the demo data "
        "of `tenon seed` (Tenon Demo Co, recruiter@example.com, hiring.manager@example.com); "
        "delete it first\n"
    )

    engine = create_async_engine(scratch_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(delete(User))
            await connection.execute(delete(Company))
    finally:
        await engine.dispose()
    process = await asyncio.create_subprocess_exec(
        *(TENON, "worker"),
        env=command_env(**deployed),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        started = await asyncio.wait_for(process.stdout.readline(), 60)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    assert b"jobs.worker.started" in started
    assert process.returncode == 0


def test_dev_is_for_local_development_only(tmp_path: Path) -> None:
    result = run_tenon("dev", cwd=tmp_path, TENON_ENV="production", **DEPLOYED)
    assert result.returncode == 2
    assert result.stderr == (
        "tenon: `tenon dev` is for local development and TENON_ENV is production; deploy with "
        "`tenon migrate`, then `tenon serve` and `tenon worker` (or docker compose)\n"
    )


# ---- `tenon dev`: what scripts/run.sh runs -------------------------------------------------


def test_dev_defaults_fill_in_only_what_is_not_configured() -> None:
    unset = with_local_defaults(Settings(app=AppSettings(_env_file=None)))
    assert unset.app.dev_auth_bypass is True
    assert unset.app.admin_api_key is not None
    assert unset.app.admin_api_key.get_secret_value() == LOCAL_ADMIN_API_KEY

    configured = AppSettings(_env_file=None, dev_auth_bypass=False, admin_api_key="our-key")
    kept = with_local_defaults(Settings(app=configured))
    assert kept.app.dev_auth_bypass is False
    assert kept.app.admin_api_key is not None
    assert kept.app.admin_api_key.get_secret_value() == "our-key"


async def _wait_until_ready(process: asyncio.subprocess.Process, url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(1200):
            assert process.returncode is None, "tenon dev exited"
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def _refuses_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


async def test_dev_serves_with_the_copied_env_example_and_ctrl_c_stops_everything(
    tmp_path: Path, scratch_database_url: str
) -> None:
    shutil.copy(REPOSITORY_ROOT / ".env.example", tmp_path / ".env")
    api_port, emulator_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        *(TENON, "dev", "--port", str(api_port), "--emulator-port", str(emulator_port)),
        env=command_env(TENON_DATABASE_URL=scratch_database_url),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        await _wait_until_ready(process, f"http://127.0.0.1:{api_port}/health/ready")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}/api") as api:
            me = await api.get(
                "/auth/me", headers={"Authorization": "Bearer recruiter:recruiter@example.com"}
            )
            jobs = await api.get("/admin/jobs", headers={"X-Admin-Key": LOCAL_ADMIN_API_KEY})
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{emulator_port}") as github:
            template = await github.get(
                "/repos/tenon-templates/python-fastapi",
                headers={"Authorization": f"Bearer {LOCAL_EMULATOR_TOKEN}"},
            )
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert me.status_code == 200, me.text  # the dev bypass, and the seeded demo recruiter
    assert me.json()["email"] == "recruiter@example.com"
    assert jobs.status_code == 200  # the local admin key
    assert template.status_code == 200  # the emulator, with the local token
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr
    assert _refuses_connections(api_port)
    assert _refuses_connections(emulator_port)


def test_openapi_prints_the_served_document_without_a_database(tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    unreachable = "postgresql://nobody@127.0.0.1:9/none"
    result = run_tenon(
        "openapi",
        "--output",
        str(output),
        cwd=tmp_path,
        TENON_DATABASE_URL=unreachable,
        TENON_ADMIN_API_KEY=ADMIN_KEY,
    )
    assert result.returncode == 0, result.stderr
    written = json.loads(output.read_text(encoding="utf-8"))
    served = create_app(make_settings(unreachable, "http://127.0.0.1:9")).openapi()
    assert written == served
    printed = run_tenon("openapi", cwd=tmp_path, TENON_DATABASE_URL=unreachable)
    assert printed.returncode == 0, printed.stderr
    assert "/api/admin/jobs" not in json.loads(printed.stdout)["paths"]  # no key, no admin


def test_the_emulators_runner_pool_size_is_a_flag() -> None:
    args = _parser().parse_args(
        ["github-emulator", "--data-dir", "d", "--token", "t", "--max-concurrent-runs", "6"]
    )
    assert args.max_concurrent_runs == 6
    defaults = _parser().parse_args(["github-emulator", "--data-dir", "d", "--token", "t"])
    assert defaults.max_concurrent_runs == EmulatorConfig.max_concurrent_runs
    with pytest.raises(SystemExit):
        _parser().parse_args(
            ["github-emulator", "--data-dir", "d", "--token", "t", "--max-concurrent-runs", "0"]
        )


def _server_processes_of(pid: int) -> list[int]:
    """The worker processes `pid` spawned (not multiprocessing's resource tracker)."""
    children = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (process / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        if parent == pid and b"spawn_main" in command:
            children.append(int(process.name))
    return children


def _still_running(pids: list[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


async def test_serve_with_workers_runs_that_many_apps_on_one_port_and_stops_them_all(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *(TENON, "serve", "--port", str(port), "--workers", "2"),
        env=command_env(TENON_DATABASE_URL=database_url, TENON_JOBS_IN_PROCESS="false"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await _wait_until_ready(process, f"http://127.0.0.1:{port}/health/ready")
        workers = _server_processes_of(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output
    assert b"Traceback" not in output
    # Both workers built the app (each with its own pool), and none outlived the parent.
    assert output.count(b"app.started") == 2, output
    assert len(workers) == 2
    assert not _still_running(workers)
    assert _refuses_connections(port)
