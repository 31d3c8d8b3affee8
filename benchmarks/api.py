"""HTTP API benchmark: Tenon's hot reads against bare FastAPI + asyncpg doing the same SQL.

Driven by wrk in interleaved rounds over a seeded volume:

    .venv/bin/python -m benchmarks.api [--database-url URL] [--keep] [--rounds 3]
        [--duration 3] [--connections 16 64] [--product-dir DIR ...]

Without --database-url (or TENON_BENCH_DATABASE_URL) an embedded PostgreSQL is started in a
temporary folder. The scratch database is created, migrated, seeded and dropped (kept and
reused with --keep). Tenon runs as `tenon serve` with TENON_ENV=production and real RS256
tokens checked against a JWKS document served here; the baseline is `benchmarks/api_bare.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import math
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import make_url

from app.core.db import async_url
from app.core.embedded_postgres import EmbeddedPostgres
from app.core.migrations import upgrade_to_head
from benchmarks import api_seed
from benchmarks.api_bare import SUBJECT_HEADER

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://bench-tenant.invalid/"
AUDIENCE = "https://api.bench.invalid"
KEY_ID = "bench-key"
KEPT_DATABASE = "tenon_bench_api"
# PostgreSQL 15 publishes a backend's transaction counts at most once a second, and an idle
# backend's last ones after up to 10 s (PGSTAT_IDLE_INTERVAL): wait that long before reading.
STATS_FLUSH_SECONDS = 11.0
START_TIMEOUT_SECONDS = 60.0
# A server is idle when it uses under 5 % of a core over a quarter of a second.
IDLE_SAMPLE_SECONDS = 0.25
IDLE_CPU_SHARE = 0.05
IDLE_TIMEOUT_SECONDS = 120.0
ENDPOINTS = ("poll", "current_task", "submissions", "health")
LUA_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH {\\"requests\\": %d, \\"seconds\\": %f, \\"non2xx\\": %d, \\"socket_errors\\": %d, "
    .. "\\"p50_us\\": %d, \\"p99_us\\": %d}\\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class BenchmarkError(RuntimeError):
    pass


# --- identity: an RSA key, its JWKS document on loopback, and tokens signed with it ---


@dataclass(frozen=True, eq=False)  # hashed by identity, for the token cache
class Identity:
    key: rsa.RSAPrivateKey
    jwks: dict[str, Any]

    @classmethod
    def generate(cls) -> Identity:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = key.public_key().public_numbers()
        jwk = {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": KEY_ID,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
        }
        return cls(key=key, jwks={"keys": [jwk]})

    @functools.cache  # noqa: B019 (one identity per run; a token per subject)
    def token(self, subject: str, permission: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + 6 * 3600,
            "permissions": [permission],
        }
        header = {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
        signed = f"{_b64_json(header)}.{_b64_json(claims)}"
        # Signed here with `cryptography` (python-jose may fall back to pure-Python RSA).
        signature = self.key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{_b64_bytes(signature)}"


def _b64_bytes(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64_json(value: dict[str, Any]) -> str:
    return _b64_bytes(json.dumps(value, separators=(",", ":")).encode())


def _b64(number: int) -> str:
    return _b64_bytes(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@contextmanager
def jwks_server(identity: Identity) -> Iterator[str]:
    body = json.dumps(identity.jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


# --- the requests each endpoint rotates over ---


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]


def calls_for(endpoint: str, identity: Identity, *, bare: bool) -> list[Call]:
    """Every request the load rotates over, as the product (a bearer token) or the baseline
    (the subject in a header) is called."""

    def auth(subject: str, permission: str) -> dict[str, str]:
        if bare:
            return {SUBJECT_HEADER: subject}
        return {"Authorization": f"Bearer {identity.token(subject, permission)}"}

    sessions = range(1, api_seed.SESSIONS + 1)
    if endpoint == "health":
        return [Call("/health", {})]
    if endpoint == "submissions":
        return [
            Call(
                "/api/submissions?limit=50",
                auth(api_seed.recruiter_subject(company), "recruiter:access"),
            )
            for company in range(1, api_seed.COMPANIES + 1)
        ]
    if endpoint == "current_task":
        return [
            Call(
                f"/api/candidate/session/{cs}/current_task",
                auth(api_seed.candidate_subject(cs), "candidate:access"),
            )
            for cs in sessions
        ]
    if endpoint == "poll":
        calls = []
        for cs in sessions:
            headers = auth(api_seed.candidate_subject(cs), "candidate:access")
            headers["x-candidate-session-id"] = str(cs)
            run = api_seed.code_runs_of(cs)[cs % api_seed.RUNS_PER_WORKSPACE]
            calls.append(Call(f"/api/tasks/{api_seed.code_task_of(cs)}/run/{run}", headers))
        return calls
    raise ValueError(endpoint)


def lua_script(calls: list[Call]) -> str:
    entries = ",\n".join(
        "{"
        + json.dumps(call.path)
        + ", {"
        + ", ".join(
            f"[{json.dumps(name)}] = {json.dumps(value)}" for name, value in call.headers.items()
        )
        + "}}"
        for call in calls
    )
    return (
        f"local calls = {{\n{entries}\n}}\n"
        "local count = #calls\n"
        "init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end\n"
        "request = function()\n"
        "  local call = calls[math.random(count)]\n"
        '  return wrk.format("GET", call[1], call[2])\n'
        "end\n" + LUA_DONE
    )


# --- servers ---


@dataclass
class Contender:
    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    bare: bool
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    scripts: dict[str, Path] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def product(name: str, checkout: Path, database_url: str, jwks_url: str) -> Contender:
    tenon = checkout / ".venv" / "bin" / "tenon"
    if not tenon.exists():
        raise BenchmarkError(f"{tenon} is missing: create the checkout's venv first")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TENON_ENV": "production",
        "TENON_DATABASE_URL": database_url,
        "TENON_SECRET_KEY": secrets.token_urlsafe(48),
        "TENON_EMAIL_PROVIDER": "smtp",
        "TENON_AUTH0_ISSUER": ISSUER,
        "TENON_AUTH0_API_AUDIENCE": AUDIENCE,
        "TENON_AUTH0_JWKS_URL": jwks_url,
        # Jobs run in `tenon worker` processes, as when the API scales out: the API process
        # serves requests only, and its CPU and transactions are theirs.
        "TENON_JOBS_IN_PROCESS": "false",
    }
    return Contender(name, [str(tenon), "serve", "--host", "127.0.0.1"], env, checkout, False)


def bare(database_url: str) -> Contender:
    command = [sys.executable, "-m", "benchmarks.api_bare", "--database-url", database_url]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return Contender("bare", command, env, REPOSITORY_ROOT, True)


def start(contender: Contender, log_dir: Path) -> None:
    contender.port = _free_port()
    log = (log_dir / f"{contender.name}.log").open("wb")
    contender.process = subprocess.Popen(
        [*contender.command, "--port", str(contender.port)],
        env=contender.env,
        # Not the checkout: its .env must not reach the production settings.
        cwd=log_dir if not contender.bare else contender.cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if contender.process.poll() is not None:
            raise BenchmarkError(
                f"{contender.name} exited with {contender.process.returncode}; see "
                f"{log_dir / (contender.name + '.log')}:\n"
                + (log_dir / f"{contender.name}.log").read_text()[-3000:]
            )
        try:
            if httpx.get(f"{contender.base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise BenchmarkError(f"{contender.name} did not answer /health in {START_TIMEOUT_SECONDS} s")


def stop(contender: Contender) -> None:
    if contender.process is None or contender.process.poll() is not None:
        return
    contender.process.terminate()
    try:
        contender.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        contender.process.kill()
        contender.process.wait()


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and its descendants, in seconds."""
    ticks = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


# --- checks and load ---


def check_same_bodies(
    contenders: list[Contender], identity: Identity, endpoints: list[str]
) -> None:
    """The baseline must answer what the product answers, or it measures other work."""
    for endpoint in endpoints:
        samples = {c.name: calls_for(endpoint, identity, bare=c.bare) for c in contenders}
        picks = sorted({0, len(samples["bare"]) // 2, len(samples["bare"]) - 1})
        for index in picks:
            bodies = {}
            for contender in contenders:
                call = samples[contender.name][index]
                response = httpx.get(
                    contender.base_url + call.path, headers=call.headers, timeout=10
                )
                if response.status_code != 200:
                    raise BenchmarkError(
                        f"{contender.name} {call.path}: {response.status_code} "
                        f"{response.text[:500]}"
                    )
                bodies[contender.name] = response.json()
            reference = bodies["bare"]
            for name, body in bodies.items():
                if body != reference:
                    raise BenchmarkError(
                        f"{endpoint}: {name} and bare answer differently for "
                        f"{samples['bare'][index].path}:\n{json.dumps(body)[:800]}\n"
                        f"{json.dumps(reference)[:800]}"
                    )


@dataclass(frozen=True)
class Round:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk(contender: Contender, endpoint: str, connections: int, seconds: float) -> dict[str, Any]:
    threads = min(2, connections)
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        # Generous: a request still unanswered by then is a socket error, and stops the run.
        "--timeout",
        "30s",
        "-s",
        str(contender.scripts[endpoint]),
        contender.base_url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise BenchmarkError(f"wrk printed no summary:\n{output}")
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    if result["non2xx"] or result["socket_errors"]:
        raise BenchmarkError(
            f"{contender.name} {endpoint} at {connections} connections: "
            f"{result['non2xx']} non-2xx answers, {result['socket_errors']} socket errors"
        )
    return result


def wait_until_idle(contender: Contender) -> None:
    """wrk hangs up at the end of a run, but the server still finishes the requests it had
    taken: wait for them, so they cost neither the next round nor the other contender's."""
    deadline = time.monotonic() + IDLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        before = cpu_seconds(contender.pid)
        time.sleep(IDLE_SAMPLE_SECONDS)
        if cpu_seconds(contender.pid) - before < IDLE_CPU_SHARE * IDLE_SAMPLE_SECONDS:
            return
    raise BenchmarkError(f"{contender.name} was still busy {IDLE_TIMEOUT_SECONDS} s after a run")


def run_round(
    contender: Contender, endpoint: str, connections: int, warmup: float, duration: float
) -> Round:
    wrk(contender, endpoint, connections, warmup)
    wait_until_idle(contender)
    before = cpu_seconds(contender.pid)
    result = wrk(contender, endpoint, connections, duration)
    used = cpu_seconds(contender.pid) - before
    wait_until_idle(contender)
    return Round(
        requests=result["requests"],
        seconds=result["seconds"],
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        cpu_seconds=used,
    )


async def transactions(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        value = await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return int(value)
    finally:
        await connection.close()


def transactions_per_request(
    contender: Contender, endpoint: str, database_url: str, seconds: float
) -> float:
    """A short run on one connection (so at most one unfinished request is left out of the
    count) between two reads of the database's transaction counter, each after the
    statistics have been published. Our own reads count one each."""
    before = asyncio.run(transactions(database_url))
    result = wrk(contender, endpoint, 1, seconds)
    wait_until_idle(contender)
    time.sleep(STATS_FLUSH_SECONDS)
    after = asyncio.run(transactions(database_url))
    requests = int(result["requests"])
    return (after - before - 1) / requests if requests else math.nan


# --- the scratch database ---


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _is_seeded(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        return False
    try:
        return bool(await connection.fetchval("SELECT count(*) FROM submissions"))
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await connection.close()


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def database_name(keep: bool) -> str:
    return KEPT_DATABASE if keep else f"tenon_bench_api_{os.getpid()}"


def prepare_database(server_url: str, keep: bool) -> tuple[str, bool]:
    """The seeded database's URL, and whether it was made here (and is to be dropped)."""
    name = database_name(keep)
    url = _database_url(server_url, name)
    if keep and asyncio.run(_is_seeded(url)):
        print(f"reusing the seeded database {name}")
        return url, False
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    started = time.perf_counter()
    upgrade_to_head(async_url(url).render_as_string(hide_password=False))
    asyncio.run(_seed(url))
    print(f"seeded {name} in {time.perf_counter() - started:.0f} s")
    return url, not keep


async def _seed(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await api_seed.seed(connection)
        print(await api_seed.volume(connection))
    finally:
        await connection.close()


# --- the run ---


def ensure_wrk() -> str:
    """wrk's path, installed from Debian's packages when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    apt_get = shutil.which("apt-get")
    if os.geteuid() != 0 or apt_get is None:
        raise BenchmarkError("wrk is missing: run `sudo apt-get install -y wrk`")
    print("installing wrk (apt-get install -y wrk)")
    subprocess.run([apt_get, "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    installed = shutil.which("wrk")
    if installed is None:
        raise BenchmarkError("apt-get installed no wrk on PATH")
    return installed


def _summary(rounds: list[Round]) -> tuple[float, float, float, float]:
    """Median req/s, p50 and p99 over the rounds, and CPU ms per request over all of them
    (infinite when not one request finished: the server is far too slow for the rounds)."""
    requests = sum(r.requests for r in rounds)
    cpu_ms = 1000 * sum(r.cpu_seconds for r in rounds)
    return (
        statistics.median(r.rate for r in rounds),
        statistics.median(r.p50_ms for r in rounds),
        statistics.median(r.p99_ms for r in rounds),
        cpu_ms / requests if requests else math.inf,
    )


def benchmark(args: argparse.Namespace, server_url: str) -> None:
    ensure_wrk()
    url, drop = prepare_database(server_url, args.keep)
    identity = Identity.generate()
    log_dir = Path(tempfile.mkdtemp(prefix="tenon-bench-api-"))
    contenders: list[Contender] = []
    try:
        with jwks_server(identity) as jwks_url:
            contenders = [product("product", REPOSITORY_ROOT, url, jwks_url)]
            for index, directory in enumerate(args.product_dir, start=1):
                name = f"product{index + 1}:{Path(directory).name}"
                contenders.append(product(name, Path(directory).resolve(), url, jwks_url))
            contenders.append(bare(url))
            for contender in contenders:
                for endpoint in args.endpoints:
                    script = log_dir / f"{contender.name.replace(':', '_')}-{endpoint}.lua"
                    script.write_text(
                        lua_script(calls_for(endpoint, identity, bare=contender.bare))
                    )
                    contender.scripts[endpoint] = script
                start(contender, log_dir)
            check_same_bodies(contenders, identity, args.endpoints)
            print(
                f"servers up; the same bodies checked. rounds {args.rounds} x {args.duration} s "
                f"after {args.warmup} s warm-up, interleaved; logs in {log_dir}"
            )
            results: dict[tuple[str, int, str], list[Round]] = {}
            for endpoint in args.endpoints:
                for connections in args.connections:
                    for _ in range(args.rounds):
                        for contender in contenders:
                            results.setdefault((endpoint, connections, contender.name), []).append(
                                run_round(
                                    contender, endpoint, connections, args.warmup, args.duration
                                )
                            )
                    report(endpoint, connections, contenders, results)
            time.sleep(STATS_FLUSH_SECONDS)
            print("\ndatabase transactions per request (pg_stat_database, 1 connection):")
            for endpoint in args.endpoints:
                figures = ", ".join(
                    f"{c.name} {transactions_per_request(c, endpoint, url, args.probe):.2f}"
                    for c in contenders
                )
                print(f"  {endpoint}: {figures}")
    finally:
        for contender in contenders:
            stop(contender)
        if drop:
            asyncio.run(
                _admin(
                    server_url, f'DROP DATABASE IF EXISTS "{database_name(args.keep)}" WITH (FORCE)'
                )
            )
        shutil.rmtree(log_dir, ignore_errors=True)


def report(
    endpoint: str,
    connections: int,
    contenders: list[Contender],
    results: dict[tuple[str, int, str], list[Round]],
) -> None:
    bare_rounds = results[(endpoint, connections, "bare")]
    print(f"\n{endpoint}, {connections} connections")
    print(
        f"  {'server':<28} {'req/s':>8} {'/bare (min-max)':>20} {'p50':>8} {'p99':>8} "
        f"{'CPU/req':>9}"
    )
    for contender in contenders:
        rounds = results[(endpoint, connections, contender.name)]
        rate, p50, p99, cpu_ms = _summary(rounds)
        ratios = [mine.rate / base.rate for mine, base in zip(rounds, bare_rounds, strict=True)]
        ratio = (
            f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
            if not contender.bare
            else ""
        )
        print(
            f"  {contender.name:<28} {rate:>8.0f} {ratio:>20} {p50:>6.1f}ms {p99:>6.1f}ms "
            f"{cpu_ms:>7.2f}ms"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TENON_BENCH_DATABASE_URL"))
    parser.add_argument("--keep", action="store_true", help=f"keep and reuse {KEPT_DATABASE}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per round")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each round")
    parser.add_argument(
        "--probe", type=float, default=3.0, help="seconds of the transactions-per-request run"
    )
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=list(ENDPOINTS))
    parser.add_argument(
        "--product-dir",
        action="append",
        default=[],
        help="another Tenon checkout (with its .venv) to measure too; repeatable",
    )
    args = parser.parse_args()
    try:
        if args.database_url:
            benchmark(args, args.database_url)
            return
        scratch = tempfile.mkdtemp(prefix="tenon-bench-pg-")
        embedded = EmbeddedPostgres(Path(scratch))
        try:
            benchmark(args, embedded.start())
        finally:
            embedded.stop()
            shutil.rmtree(scratch, ignore_errors=True)
    except BenchmarkError as exc:
        sys.exit(f"benchmark failed: {exc}")


if __name__ == "__main__":
    cli()
