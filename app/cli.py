"""The `tenon` command: serve, worker, migrate, seed, results parse, github-emulator."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import structlog
import uvicorn
from pydantic import ValidationError

from app.companies import service as companies
from app.core.db import Database
from app.core.logging import configure_logging
from app.core.migrations import database_url_for_cli, upgrade_to_head
from app.core.settings import JobSettings, Settings, load_settings
from app.github_emulator.config import EmulatorConfig
from app.github_emulator.server import create_emulator_app
from app.jobs.catalog import job_registry, webhook_handlers
from app.jobs.registry import build_job_services
from app.jobs.worker import Worker
from app.main import OUTBOUND_TIMEOUT
from app.runs.results import parse_file

log = structlog.get_logger(__name__)


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,  # our structlog configuration handles uvicorn's loggers too
        access_log=False,  # the request-context middleware writes the access log
        proxy_headers=False,  # X-Forwarded-For is honoured only from TENON_TRUSTED_PROXY_CIDRS
        server_header=False,
    )


def _migrate(settings: Settings, args: argparse.Namespace) -> None:
    with database_url_for_cli(settings.db) as url:
        upgrade_to_head(url)
    log.info("db.migrated")


async def _seed_with(url: str, settings: Settings) -> None:
    database = Database.connect(url, settings.db)
    try:
        async with database.session_scope() as session:
            company, users = await companies.seed_demo_data(session)
        log.info(
            "db.seeded",
            company=company.name,
            company_id=str(company.id),
            recruiters=[user.email for user in users],
        )
    finally:
        await database.dispose()


def _seed(settings: Settings, args: argparse.Namespace) -> None:
    with database_url_for_cli(settings.db) as url:
        asyncio.run(_seed_with(url, settings))


async def _work_with(url: str, settings: Settings, jobs: JobSettings) -> None:
    database = Database.connect(url, settings.db)
    try:
        async with httpx.AsyncClient(timeout=OUTBOUND_TIMEOUT) as http:
            services = build_job_services(settings, http, webhook_handlers())
            worker = Worker(database, job_registry(), jobs, services=services)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, worker.request_stop)
            await worker.run()
    finally:
        await database.dispose()


def _work(settings: Settings, args: argparse.Namespace) -> None:
    jobs = settings.jobs
    if args.concurrency is not None:
        jobs = jobs.model_copy(update={"concurrency": args.concurrency})
    with database_url_for_cli(settings.db) as url:
        asyncio.run(_work_with(url, settings, jobs))


def _existing_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {value}")
    return path


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
    )
    uvicorn.run(
        create_emulator_app(config),
        host=args.host,
        port=args.port,
        log_config=None,
        server_header=False,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenon", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)
    worker = commands.add_parser("worker", help="run a job worker until SIGTERM/SIGINT")
    worker.add_argument("--concurrency", type=int, help="jobs run at once (TENON_JOBS_CONCURRENCY)")
    worker.set_defaults(handler=_work)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=_migrate)
    commands.add_parser("seed", help="create the demo company and recruiters").set_defaults(
        handler=_seed
    )
    results = commands.add_parser("results", help="test results artifacts")
    results_commands = results.add_subparsers(dest="results_command", required=True)
    parse = results_commands.add_parser(
        "parse", help="print one JSON line per artifact zip, directory of zips, .json or .xml"
    )
    parse.add_argument("files", nargs="+", type=_existing_path, metavar="FILE")
    parse.set_defaults(tool=_parse_results)
    emulator = commands.add_parser("github-emulator", help="run the local GitHub emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=9100)
    emulator.add_argument("--data-dir", required=True, help="repositories and state live here")
    emulator.add_argument("--token", action="append", required=True, help="an accepted token")
    emulator.add_argument(
        "--webhook-url", help="where workflow_run and push webhooks are delivered"
    )
    emulator.add_argument("--webhook-secret", help="signs the webhooks (X-Hub-Signature-256)")
    emulator.add_argument("--template-owner", default="tenon-templates")
    emulator.set_defaults(tool=_github_emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(args, "tool"):
        # Tools (results parse, the GitHub emulator) don't use the service's settings.
        configure_logging(json=False, level="INFO")
        args.tool(args)
        return 0
    try:
        settings = load_settings()
    except ValidationError as exc:
        print(f"tenon: refusing to start, invalid settings:\n{exc}", file=sys.stderr)
        return 2
    configure_logging(json=settings.app.json_logs, level=settings.app.log_level)
    args.handler(settings, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
