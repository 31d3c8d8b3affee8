"""docker-compose.yml and the Dockerfile, checked against the settings, the `tenon` command
and the health routes (there is no Docker engine to run them here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from app.cli import _parser
from app.health.router import router as health_router
from tests.support.dockerfile import Stage, read_dockerfile
from tests.support.paths import REPOSITORY_ROOT
from tests.support.settings import accepted_env_names

COMPOSE: dict[str, Any] = yaml.safe_load((REPOSITORY_ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
# The services running our image, and those of them that keep running.
TENON_SERVICES = sorted(name for name, service in SERVICES.items() if "build" in service)
LONG_RUNNING = ("api", "worker")
RUNTIME: Stage = read_dockerfile(REPOSITORY_ROOT / "Dockerfile")[-1]

# Values for what production refuses to start without, to find out what else it wants.
SAMPLE_VALUES = {
    "TENON_SECRET_KEY": "s" * 40,
    "TENON_AUTH0_ISSUER": "https://tenant.example/",
    "TENON_AUTH0_DOMAIN": "tenant.example",
    "TENON_AUTH0_API_AUDIENCE": "https://api.example",
    "TENON_EMAIL_PROVIDER": "smtp",
    "TENON_PUBLIC_API_URL": "https://api.example",
}
# What a deployment must be able to set although no setting can insist on it (a token or
# an App; one email provider or another).
DEPLOYMENT_SETTINGS = {
    "TENON_CANDIDATE_PORTAL_BASE_URL",
    "TENON_ADMIN_API_KEY",
    "TENON_GITHUB_TOKEN",
    "TENON_GITHUB_APP_ID",
    "TENON_GITHUB_APP_PRIVATE_KEY",
    "TENON_GITHUB_APP_INSTALLATION_ID",
    "TENON_GITHUB_ORG",
    "TENON_GITHUB_TEMPLATE_OWNER",
    "TENON_GITHUB_WEBHOOK_SECRET",
    "TENON_EMAIL_PROVIDER",
    "TENON_EMAIL_FROM",
    "TENON_RESEND_API_KEY",
    "TENON_SENDGRID_API_KEY",
    "TENON_SMTP_HOST",
    "TENON_SMTP_USERNAME",
    "TENON_SMTP_PASSWORD",
}
ENV_NAME = re.compile(r"\b(?:TENON_[A-Z0-9_]+|DEV_AUTH_BYPASS)\b")
HEALTH_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)")


def _environment(service: str) -> dict[str, Any]:
    environment: dict[str, Any] = SERVICES[service]["environment"]
    return environment


def _assert_tenon_command(command: list[str]) -> None:
    assert command[0] == "tenon", command
    try:
        _parser().parse_args(command[1:])
    except SystemExit:
        pytest.fail(f"not a valid tenon command: {command}")


def _refused_in_production(supplied: dict[str, str], cwd: Path) -> set[str]:
    """The variables `tenon` names when it refuses to start in production (none: it starts)."""
    clean = {name: value for name, value in os.environ.items() if not ENV_NAME.match(name)}
    # `worker --check` loads the settings and needs no database.
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "worker", "--check"],
        env=clean | {"TENON_ENV": "production"} | supplied,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 2:
        return set()
    named = set(ENV_NAME.findall(result.stderr)) - {"TENON_ENV"}
    assert named, f"the refusal names no variable: {result.stderr}"
    return named


@pytest.fixture(scope="module")
def required_in_production(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every variable production refuses to start without, found by supplying each one the
    refusal names until `tenon` starts."""
    cwd = tmp_path_factory.mktemp("no-dotenv")
    required: set[str] = set()
    while refused := _refused_in_production({n: SAMPLE_VALUES[n] for n in required}, cwd):
        assert refused - required, f"still refused after supplying {sorted(required)}"
        assert refused <= SAMPLE_VALUES.keys(), "add sample values for the new requirements"
        required |= refused
    return required


def test_compose_passes_only_real_settings() -> None:
    settings = accepted_env_names()
    for service in TENON_SERVICES:
        unknown = set(_environment(service)) - settings
        assert not unknown, f"{service} passes variables no setting reads: {sorted(unknown)}"


def test_compose_runs_production_on_its_database_with_jobs_in_the_worker() -> None:
    for service in TENON_SERVICES:
        environment = _environment(service)
        assert environment["TENON_ENV"] in ("staging", "production")
        assert make_url(environment["TENON_DATABASE_URL"]).host == "db"
        assert environment["TENON_JOBS_IN_PROCESS"] == "false"
    assert "db" in SERVICES


def test_compose_passes_what_production_requires_to_every_tenon_service(
    required_in_production: set[str],
) -> None:
    assert {"TENON_SECRET_KEY", "TENON_AUTH0_API_AUDIENCE"} <= required_in_production
    for service in TENON_SERVICES:
        missing = (required_in_production | DEPLOYMENT_SETTINGS) - set(_environment(service))
        assert not missing, f"{service} does not pass {sorted(missing)}"


def test_every_service_and_health_check_runs_a_real_tenon_command() -> None:
    for service in TENON_SERVICES:
        _assert_tenon_command(SERVICES[service]["command"])
    worker_check = SERVICES["worker"]["healthcheck"]["test"]
    assert worker_check[0] == "CMD"
    _assert_tenon_command(worker_check[1:])
    _assert_tenon_command(RUNTIME.last("CMD").exec_form())


def test_long_running_services_have_health_checks_and_restart() -> None:
    for service in (*LONG_RUNNING, "db"):
        healthcheck = SERVICES[service]["healthcheck"]
        assert healthcheck["test"], service
        assert not healthcheck.get("disable"), service
        assert SERVICES[service]["restart"] in ("always", "unless-stopped", "on-failure")
    assert SERVICES["migrate"]["restart"] == "no"


def test_migrations_run_once_before_the_api_and_worker_start() -> None:
    assert SERVICES["migrate"]["command"] == ["tenon", "migrate"]
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for service in LONG_RUNNING:
        condition = SERVICES[service]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def _health_path(check: list[str], serve: list[str]) -> str:
    """The health route a check requests, after checking it asks the port served on."""
    match = HEALTH_URL.search(" ".join(check))
    assert match, f"no local health URL in {check}"
    port, path = match.groups()
    assert serve[serve.index("--port") + 1] == port
    return path


def test_api_health_checks_request_real_health_routes() -> None:
    routes = {getattr(route, "path", None) for route in health_router.routes}
    compose_check = SERVICES["api"]["healthcheck"]["test"]
    assert _health_path(compose_check, SERVICES["api"]["command"]) in routes
    image_check = RUNTIME.last("HEALTHCHECK").exec_form()
    assert _health_path(image_check, RUNTIME.last("CMD").exec_form()) in routes


def test_runtime_image_runs_unprivileged_without_the_embedded_extra() -> None:
    user = RUNTIME.last("USER").arguments.split(":")[0]
    assert user not in ("root", "0")
    runs = [item.arguments for item in RUNTIME.all("RUN")]
    assert any("pip install" in run and ".whl" in run for run in runs)
    assert not any("embedded" in run for run in runs)
    environment = RUNTIME.env()
    data_dir = environment["TENON_DATA_DIR"]
    assert any(data_dir in run and f"--owner={user}" in run for run in runs), (
        "the data dir is created for the runtime user"
    )
    assert "TENON_JOBS_HEARTBEAT_FILE" in environment


def test_the_api_and_the_worker_share_the_local_media_folder() -> None:
    """The local media store is {data dir}/media: the API writes uploads there and the worker
    reads them, so both mount one volume there, and the image makes it for its user."""
    media_dir = f"{RUNTIME.env()['TENON_DATA_DIR']}/media"
    for service in LONG_RUNNING:
        assert f"media:{media_dir}" in SERVICES[service].get("volumes", []), service
    assert "media" in COMPOSE["volumes"]
    user = RUNTIME.last("USER").arguments.split(":")[0]
    runs = [item.arguments for item in RUNTIME.all("RUN")]
    assert any(media_dir in run and f"--owner={user}" in run for run in runs)
