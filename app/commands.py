"""What the `tenon` commands do. app.cli parses the arguments, loads the settings and binds
the API's port before importing this module, which imports the whole application."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import structlog
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.exc import DBAPIError
from uvicorn.supervisors import Multiprocess

from app.assembly import build_services, job_registry
from app.companies import service as companies
from app.core.db import Database, DatabaseUnreachableError, check_connection
from app.core.metrics import Metrics
from app.core.migrations import database_url_for_cli, upgrade_to_head
from app.core.settings import JobSettings, Settings
from app.github_emulator.config import EmulatorConfig
from app.github_emulator.server import create_emulator_app
from app.jobs.worker import Worker
from app.local_dev import github_emulator, with_local_defaults
from app.main import OUTBOUND_TIMEOUT, create_app
from app.runs.results import parse_file

log = structlog.get_logger(__name__)


class CommandRefusedError(Exception):
    """A command cannot start; the message is one line saying why and what to do."""


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """The URL of the database a command uses, checked reachable: the configured one, or
    the embedded PostgreSQL, held until the block ends."""
    with database_url_for_cli(settings.db) as url:
        try:
            asyncio.run(check_connection(url))
        except DatabaseUnreachableError as exc:
            source = (
                "TENON_DATABASE_URL"
                if settings.db.database_url is not None
                else f"the embedded PostgreSQL under TENON_DATA_DIR={settings.db.data_dir}"
            )
            raise CommandRefusedError(
                f"cannot connect to PostgreSQL at {exc.address} ({source}): {exc.reason}"
            ) from None
        yield url


def _using(settings: Settings, url: str) -> Settings:
    db = settings.db.model_copy(update={"database_url": SecretStr(url)})
    return settings.model_copy(update={"db": db})


async def _find_demo_data(url: str, settings: Settings) -> list[str]:
    database = Database.connect(url, settings.db)
    try:
        async with database.session_scope() as session:
            return await companies.find_demo_data(session)
    finally:
        await database.dispose()


def _refuse_demo_data(url: str, settings: Settings) -> None:
    """A deployed service must not serve the seeded demo recruiters: their emails are public."""
    if not settings.app.deployed:
        return
    try:
        found = asyncio.run(_find_demo_data(url, settings))
    except DBAPIError as exc:
        raise CommandRefusedError(
            f"cannot read the database ({exc.orig}); run `tenon migrate`?"
        ) from None
    if found:
        raise CommandRefusedError(
            f"refusing to start with TENON_ENV={settings.app.env}: the database holds the demo "
            f"data of `tenon seed` ({', '.join(found)}); delete it first"
        )


# uvicorn's exit status for a server that failed to start.
STARTUP_FAILURE = 3


def _server_config(app: FastAPI | str, *, workers: int = 1) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),  # an import string names `create_app`
        workers=workers,
        # A worker answers the supervisor's health check only once it has imported the
        # application, which takes seconds on a busy machine.
        timeout_worker_healthcheck=60,
        log_config=None,  # our structlog configuration handles uvicorn's loggers too
        access_log=False,  # the request-context middleware writes the access log
        proxy_headers=False,  # X-Forwarded-For is honoured only from TENON_TRUSTED_PROXY_CIDRS
        server_header=False,
    )


def _log_starting(listener: socket.socket, workers: int) -> None:
    host, port = listener.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    log.info("api.starting", url=url, workers=workers)


def _run_server(app: FastAPI, listener: socket.socket) -> int:
    server = uvicorn.Server(_server_config(app))
    _log_starting(listener, 1)
    # uvicorn re-raises the signal that stopped it once it has shut down; it has shut down
    # cleanly, so ignore that and let the caller release what it holds.
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in stop_signals}
    try:
        server.run(sockets=[listener])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0 if server.started else STARTUP_FAILURE


def _run_workers(url: str, listener: socket.socket, workers: int) -> int:
    """`workers` processes accepting on the one listening socket, each building the app
    (and its own database pool) from the environment; uvicorn's supervisor replaces one
    that dies and stops them all on SIGTERM/SIGINT."""
    # The URL may be the embedded PostgreSQL's, which only this process knows.
    os.environ["TENON_DATABASE_URL"] = url
    config = _server_config("app.main:create_app", workers=workers)
    supervisor = Multiprocess(config, sockets=[listener])
    _log_starting(listener, workers)
    supervisor.run()
    failed = any(worker.process.exitcode == STARTUP_FAILURE for worker in supervisor.processes)
    return STARTUP_FAILURE if failed else 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    with args.listener, _database(settings) as url:
        _refuse_demo_data(url, settings)
        if args.workers > 1:
            return _run_workers(url, args.listener, args.workers)
        return _run_server(create_app(_using(settings, url)), args.listener)


def _dev(settings: Settings, args: argparse.Namespace) -> int:
    """Local development in one process and one embedded PostgreSQL start: the GitHub
    emulator (without GitHub credentials), migrate, seed, serve. app.cli has refused any
    TENON_ENV but local."""
    with ExitStack() as stack:
        stack.enter_context(args.listener)
        if not settings.github.credentials_configured:
            api_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
            webhook_url = f"http://{api_host}:{args.port}{settings.app.api_prefix}/github/webhooks"
            settings = stack.enter_context(
                github_emulator(settings, port=args.emulator_port, webhook_url=webhook_url)
            )
        settings = with_local_defaults(settings)
        url = stack.enter_context(_database(settings))
        upgrade_to_head(url)
        log.info("db.migrated")
        asyncio.run(_seed_with(url, settings))
        return _run_server(create_app(_using(settings, url)), args.listener)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings) as url:
        upgrade_to_head(url)
    log.info("db.migrated")
    return 0


async def _seed_with(url: str, settings: Settings) -> None:
    database = Database.connect(url, settings.db)
    try:
        async with database.session_scope() as session:
            company, users = await companies.seed_demo_data(session)
        log.info(
            "db.seeded",
            company=company.name,
            company_id=company.id,
            recruiters=[user.email for user in users],
        )
    finally:
        await database.dispose()


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    if settings.app.deployed:
        raise CommandRefusedError(
            f"`tenon seed` creates demo recruiters for local use; refusing with "
            f"TENON_ENV={settings.app.env}"
        )
    with _database(settings) as url:
        asyncio.run(_seed_with(url, settings))
    return 0


async def _work_with(url: str, settings: Settings, jobs: JobSettings) -> None:
    database = Database.connect(url, settings.db)
    # Scraped through the API's /metrics, which reads the multi-process directory they share.
    metrics = Metrics()
    try:
        async with httpx.AsyncClient(timeout=OUTBOUND_TIMEOUT) as http:
            services = build_services(settings, http, metrics)
            worker = Worker(database, job_registry(), jobs, services=services, metrics=metrics)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, worker.request_stop)
            await worker.run()
    finally:
        metrics.mark_process_dead()
        await database.dispose()


def _work(settings: Settings, args: argparse.Namespace) -> int:
    jobs = settings.jobs
    if args.concurrency is not None:
        jobs = jobs.model_copy(update={"concurrency": args.concurrency})
    with _database(settings) as url:
        _refuse_demo_data(url, settings)
        asyncio.run(_work_with(url, settings, jobs))
    return 0


def _openapi(settings: Settings, args: argparse.Namespace) -> int:
    # Building the app touches no database: that happens in its lifespan, not run here.
    document = json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(document)
    else:
        args.output.write_text(document, encoding="utf-8")
    return 0


def _parse_results(args: argparse.Namespace) -> None:
    for path in args.files:
        result = parse_file(path)
        line = {
            "file": str(path),
            "resultCode": result.result_code,
            "passed": result.passed,
            "failed": result.failed,
            "skipped": result.skipped,
            "errors": result.errors,
            "total": result.total,
            "tests": len(result.tests),
            "testsTruncated": result.tests_truncated,
            "source": result.source,
            "artifactName": result.artifact_name,
            "detail": result.detail,
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)


def _github_emulator(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        data_dir=Path(args.data_dir),
        tokens=tuple(args.token),
        template_owner=args.template_owner,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        max_concurrent_runs=args.max_concurrent_runs,
    )
    uvicorn.run(
        create_emulator_app(config),
        host=args.host,
        port=args.port,
        log_config=None,
        server_header=False,
    )


# By subcommand name. Commands get the validated settings; tools (offline helpers) do not use
# the service's settings.
COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "serve": _serve,
    "dev": _dev,
    "worker": _work,
    "migrate": _migrate,
    "seed": _seed,
    "openapi": _openapi,
}
TOOLS: dict[str, Callable[[argparse.Namespace], None]] = {
    "results": _parse_results,
    "github-emulator": _github_emulator,
}
