"""The layering of app/: each top-level package imports only from layers below it.

Layers, lowest first; packages in one layer do not import each other, except in the top one,
which assembles the application. An import from a lower layer into a higher or the same one
(an "upward" import) is a design decision and is listed, with its reason, in ALLOWED_UPWARD;
any other makes this test fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("jobs",),
    # Object storage (app.media) sits beside the other external systems.
    ("integrations", "notifications", "media"),
    ("services",),
    # Companies and their recruiters; auth resolves a caller into one of them.
    ("companies",),
    ("auth",),
    ("events",),
    ("simulations",),
    # Outbound webhooks: the domains where events happen publish them.
    ("webhooks",),
    ("candidate_sessions",),
    ("workspaces",),
    ("runs",),
    ("grading",),
    # The Day 4 recording: the submission detail shows it to recruiters.
    ("recordings",),
    # Fingerprints and pairs of code submissions: the submit queues the job; the submission
    # export and the fit profile read the pairs.
    ("similarity",),
    ("submissions",),
    # Rubrics, scorecards and the fit profile read everything a candidate produced.
    ("evaluation",),
    # Drafts of text tasks: the recruiter's view reuses evaluation's tenancy check.
    ("drafts",),
    # Orders from applicant tracking systems: an invite, and a callback from everything below.
    ("ats",),
    ("admin", "health"),
    # What assembles the application from every layer.
    ("assembly", "main", "cli", "commands", "models", "local_dev", "migrations"),
)
# A separate program (the local GitHub) that uses Tenon's core, never imported by it.
OUTSIDE_LAYERS = ("github_emulator",)

ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    ("core", "integrations"): "settings validate template keys and AI models against catalogs",
    ("candidate_sessions", "submissions"): (
        "a session's progress is its submissions: the current-task gate and the progress "
        "counts read them"
    ),
}


def _rank() -> dict[str, int]:
    return {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "app" and len(parts) > 1 else None


def _imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def _edges() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) -> the importing files."""
    edges: dict[tuple[str, str], set[str]] = {}
    for source in sorted(APP.rglob("*.py")):
        relative = source.relative_to(APP)
        package = relative.parts[0].removesuffix(".py")
        if package in OUTSIDE_LAYERS or package == "__init__":
            continue
        for module in _imported_modules(source):
            target = _package(module)
            if target is not None and target != package:
                edges.setdefault((package, target), set()).add(str(relative))
    return edges


def test_every_package_has_a_layer() -> None:
    packages = {
        path.name.removesuffix(".py")
        for path in APP.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py"
    } - {"__init__", *OUTSIDE_LAYERS}
    assert packages - _rank().keys() == set()


def test_imports_go_down_the_layers() -> None:
    rank = _rank()
    upward = {
        edge: sorted(files)
        for edge, files in _edges().items()
        if rank.get(edge[1], -1) > rank[edge[0]]
        or rank.get(edge[1], -1) == rank[edge[0]] < len(LAYERS) - 1
    }
    assert {edge: files for edge, files in upward.items() if edge not in ALLOWED_UPWARD} == {}
    # A listed exception that no longer occurs is removed from the list.
    assert ALLOWED_UPWARD.keys() <= upward.keys()


def test_the_layering_sees_real_imports() -> None:
    # Guards the parser: the API's assembly imports the domains it serves.
    edges = _edges()
    assert ("main", "runs") in edges
    assert ("runs", "core") in edges
