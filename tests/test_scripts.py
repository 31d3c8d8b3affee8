"""scripts/run.sh and scripts/_venv.sh, run by bash in a copy of the scripts folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import command_env
from tests.support.paths import REPOSITORY_ROOT


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The scripts and pyproject.toml, alone: nothing installed, no .venv."""
    shutil.copytree(REPOSITORY_ROOT / "scripts", tmp_path / "scripts")
    shutil.copy(REPOSITORY_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _bash(checkout: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        cwd=checkout,
        env=command_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("environment", "env_file"),
    [
        ({"TENON_ENV": "production"}, None),
        ({"TENON_ENV": "staging"}, "TENON_ENV=local\n"),
        ({}, 'export TENON_ENV="production"  # deployed\n'),
        ({}, "TENON_ENV=local\nTENON_ENV=production\n"),
    ],
)
def test_run_sh_refuses_any_environment_but_local_before_installing(
    checkout: Path, environment: dict[str, str], env_file: str | None
) -> None:
    if env_file is not None:
        (checkout / ".env").write_text(env_file)
    result = _bash(checkout, "bash scripts/run.sh", **environment)
    assert result.returncode == 2
    expected_env = environment.get("TENON_ENV", "production")
    assert result.stderr.splitlines() == [
        f"scripts/run.sh runs Tenon for local development only, and TENON_ENV is {expected_env}.",
        "To deploy, run 'tenon migrate', then 'tenon serve' and 'tenon worker' "
        "(or 'docker compose up').",
    ]
    assert not (checkout / ".venv").exists()


# Stands in for python (as PYTHON and as .venv/bin/python): records venv creations and
# project installs in $LOG; `-c` snippets succeed unless .venv/broken exists.
FAKE_PYTHON = """#!/bin/sh
case "$*" in
  "-m venv --clear .venv")
    rm -rf .venv && mkdir -p .venv/bin && cp "$0" .venv/bin/python && echo venv >> "$LOG" ;;
  *"pip install"*"-e"*) echo "install ${*##* }" >> "$LOG" ;;
  *"pip install"*) ;;
  *) [ ! -e .venv/broken ] ;;
esac
"""


def _prepare(checkout: Path, extras: str) -> list[str]:
    """Source _venv.sh as run.sh and test.sh do; the steps it took."""
    log = checkout / "steps.log"
    log.unlink(missing_ok=True)
    script = f'TENON_EXTRAS="{extras}"; source scripts/_venv.sh'
    result = _bash(checkout, script, PYTHON=str(checkout / "python"), LOG=str(log))
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_venv_install_runs_only_when_pyproject_or_extras_change_or_the_venv_breaks(
    checkout: Path,
) -> None:
    fake = checkout / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)

    assert _prepare(checkout, "") == ["venv", "install ."]
    assert _prepare(checkout, "") == []
    assert _prepare(checkout, "[dev]") == ["install .[dev]"]
    # Both sets of extras stay installed: alternating run.sh and test.sh installs nothing.
    assert _prepare(checkout, "") == []
    assert _prepare(checkout, "[dev]") == []

    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# a new dependency\n")
    assert _prepare(checkout, "[dev]") == ["install .[dev]"]
    assert _prepare(checkout, "") == ["install ."]

    (checkout / ".venv" / "broken").touch()
    assert _prepare(checkout, "") == ["venv", "install ."]
    assert _prepare(checkout, "") == []

    (checkout / ".venv" / "tenon-installed").unlink()
    assert _prepare(checkout, "") == ["install ."]
