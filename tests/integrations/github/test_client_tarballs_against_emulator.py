"""Tenon's GitHub client downloads tarballs from the GitHub emulator over real HTTP, and the
reader turns them into the tree's text files: at a new commit and at a tag on the older one;
unknown refs and the size cap end as the client's typed errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.core.metrics import Metrics
from app.core.settings import GitHubSettings
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubNotFoundError, TarballTooLargeError
from app.integrations.github.tarball import TreeFile, read_text_files
from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    emulator_config,
    eventually,
    running_emulator,
    write_template,
)

TEMPLATE_FILES: dict[str, str | bytes] = {
    "README.md": "# Orders service\n",
    "app/orders.py": "def total(items):\n    return sum(items)\n",
    "scripts/run.sh": "#!/bin/sh\npython -m app\n",
    "assets/logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
}
ORDERS_V2 = "def total(items):\n    return sum(item.price for item in items)\n"


@asynccontextmanager
async def _client(
    github: RunningEmulator, *, tarball_max_bytes: int = 1024 * 1024
) -> AsyncIterator[GitHubClient]:
    config = GitHubSettings(
        _env_file=None,
        api_base=github.base_url,
        token=SecretStr(TOKEN),
        mutation_interval_seconds=0,
        tarball_max_bytes=tarball_max_bytes,
    )
    async with httpx.AsyncClient(timeout=30) as http:
        yield GitHubClient(http, config, TokenAuth(SecretStr(TOKEN)), Metrics())


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[RunningEmulator]:
    templates = tmp_path / "templates"
    write_template(templates, "orders", TEMPLATE_FILES, executable=("scripts/run.sh",))
    config = emulator_config(tmp_path, templates_dir=templates, generate_delay_seconds=0.05)
    async with running_emulator(config) as running:
        yield running


async def _generated(client: GitHubClient, name: str) -> tuple[str, str]:
    """A repository generated from the template: its full name and first commit."""
    repo = await client.generate_repository(
        "tenon-templates/orders", owner="acme-workspaces", name=name
    )

    async def head() -> str | None:
        try:
            return (await client.get_branch(repo.full_name, "main")).commit.sha
        except GitHubNotFoundError:
            return None  # a freshly generated repository is empty for a moment

    return repo.full_name, await eventually(head)


async def _tree(
    client: GitHubClient, full_name: str, ref: str, destination: Path
) -> list[TreeFile]:
    size = await client.download_tarball(full_name, ref, destination)
    assert size == (await asyncio.to_thread(destination.stat)).st_size
    return await asyncio.to_thread(read_text_files, destination)


async def test_the_tree_at_a_new_commit_and_at_a_tag_on_the_first(
    github: RunningEmulator, tmp_path: Path
) -> None:
    async with _client(github) as client:
        full_name, first = await _generated(client, "ws-tree")
        current = await client.get_file(full_name, "app/orders.py")
        await client.put_file(
            full_name,
            "app/orders.py",
            message="Price the items",
            content=ORDERS_V2.encode(),
            sha=current.sha,
        )
        await client.put_file(full_name, "NOTES.md", message="Notes", content=b"Day 2\n")
        await client.create_tag(full_name, "submitted-v1", first)

        head_tree = await _tree(client, full_name, "main", tmp_path / "head.tar.gz")
        tag_tree = await _tree(client, full_name, "submitted-v1", tmp_path / "tag.tar.gz")

    assert head_tree == [
        TreeFile("NOTES.md", "Day 2\n"),
        TreeFile("README.md", "# Orders service\n"),
        TreeFile("app/orders.py", ORDERS_V2),
        TreeFile("scripts/run.sh", "#!/bin/sh\npython -m app\n"),
    ]
    # The template's files; the PNG is binary and left out.
    assert tag_tree == [
        TreeFile(path, text)
        for path, text in sorted(TEMPLATE_FILES.items())
        if isinstance(text, str)
    ]


async def test_an_unknown_ref_is_not_found_and_leaves_no_file(
    github: RunningEmulator, tmp_path: Path
) -> None:
    destination = tmp_path / "tree.tar.gz"
    async with _client(github) as client:
        full_name, _ = await _generated(client, "ws-unknown")
        with pytest.raises(GitHubNotFoundError):
            await client.download_tarball(full_name, "no-such-branch", destination)

    assert not destination.exists()


async def test_a_tarball_over_the_cap_is_refused_and_leaves_no_file(
    github: RunningEmulator, tmp_path: Path
) -> None:
    destination = tmp_path / "tree.tar.gz"
    async with _client(github, tarball_max_bytes=64) as client:
        full_name, _ = await _generated(client, "ws-large")
        with pytest.raises(TarballTooLargeError, match="64 byte limit"):
            await client.download_tarball(full_name, "main", destination)

    assert not destination.exists()
