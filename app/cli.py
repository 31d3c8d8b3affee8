"""The `tenon` command: serve, worker, migrate, seed, dev, openapi, results parse,
github-emulator.

This module stays light: it parses the arguments, loads the settings and binds the API's
port, so bad settings and a busy port are reported at once; importing the application
(app.commands) takes over a second on a busy machine.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from app.core.logging import configure_logging
from app.core.settings import JobSettings, SettingsError, load_settings

# Exit status of a command refused before it started (settings, port, database).
REFUSED = 2
# Commands that serve the API on --host/--port.
SERVERS = ("serve", "dev")
# Offline helpers, which do not use the service's settings.
TOOLS = ("results", "github-emulator")


def _existing_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {value}")
    return path


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenon", description="The Tenon backend.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes serving the API, each with its own database pool (README: "
        "Connection budget) (default: %(default)s)",
    )
    dev = commands.add_parser(
        "dev",
        help="local development (scripts/run.sh): GitHub emulator, migrate, seed, serve",
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--emulator-port", type=int, default=8001, help="used without credentials")
    worker = commands.add_parser("worker", help="run a job worker until SIGTERM/SIGINT")
    worker.add_argument("--concurrency", type=int, help="jobs run at once (TENON_JOBS_CONCURRENCY)")
    worker.add_argument(
        "--check",
        action="store_true",
        help="health check: exit 0 if this machine's worker has a fresh heartbeat, else 1",
    )
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("seed", help="create the demo company and recruiters")
    openapi = commands.add_parser(
        "openapi",
        help="print the OpenAPI document these settings serve at /openapi.json (admin routes "
        "only with TENON_ADMIN_API_KEY); needs no database",
    )
    openapi.add_argument("--output", type=Path, help="write it to this file instead")
    results = commands.add_parser("results", help="test results artifacts")
    results_commands = results.add_subparsers(dest="results_command", required=True)
    parse = results_commands.add_parser(
        "parse", help="print one JSON line per artifact zip, directory of zips, .json or .xml"
    )
    parse.add_argument("files", nargs="+", type=_existing_path, metavar="FILE")
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
    emulator.add_argument(
        "--max-concurrent-runs",
        type=_positive_int,
        default=2,
        help="workflow runs executed at once: the runner pool's size (default: %(default)s)",
    )
    return parser


def _listen(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


def _refused(message: str) -> int:
    print(f"tenon: {message}", file=sys.stderr)
    return REFUSED


def _check_worker(jobs: JobSettings) -> int:
    """A container health check, light enough to run every minute: no database, no app."""
    from app.jobs.heartbeat import heartbeat_problem

    # A turn of the loop sleeps at most a poll interval; its queries should end well within
    # a lease, the time after which other workers give up on this one's jobs too.
    problem = (
        "TENON_JOBS_HEARTBEAT_FILE is not set, so no worker writes one"
        if jobs.heartbeat_file is None
        else heartbeat_problem(jobs.heartbeat_file, jobs.poll_interval_seconds + jobs.lease_seconds)
    )
    if problem is not None:
        print(f"tenon: {problem}", file=sys.stderr)
        return 1
    print("tenon: the worker is alive")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # app.commands is imported only once the quick checks are done: see the module docstring.
    # Logging is configured after that import, which logs at INFO (Alembic's plugins).
    if args.command in TOOLS:
        from app import commands

        configure_logging(json=False, level="INFO")
        commands.TOOLS[args.command](args)
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _refused(
            "refusing to start, invalid settings:"
            + "".join(f"\n  {problem}" for problem in exc.problems)
        )
    if args.command == "worker" and args.check:
        return _check_worker(settings.jobs)
    if args.command == "dev" and settings.app.env != "local":
        return _refused(
            f"`tenon dev` is for local development and TENON_ENV is {settings.app.env}; "
            "deploy with `tenon migrate`, then `tenon serve` and `tenon worker` "
            "(or docker compose)"
        )
    if args.command in SERVERS:
        try:
            args.listener = _listen(args.host, args.port)
        except OSError as exc:
            return _refused(f"cannot listen on {args.host}:{args.port} for the API: {exc.strerror}")
    # SIGTERM unwinds like Ctrl-C, so an embedded PostgreSQL or emulator held by the
    # command is released.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    from app import commands
    from app.core.embedded_postgres import EmbeddedPostgresUnavailableError
    from app.local_dev import EmulatorStartError

    configure_logging(json=settings.app.json_logs, level=settings.app.log_level)
    try:
        return commands.COMMANDS[args.command](settings, args)
    except (
        commands.CommandRefusedError,
        EmulatorStartError,
        EmbeddedPostgresUnavailableError,
    ) as exc:
        return _refused(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
