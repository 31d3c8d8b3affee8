"""Template folders built from layers, so that files shared by templates are written once.

A template folder may hold a `.tenon-layers` file naming sibling folders, one per line.
Their files (each composed the same way) are laid down first, in order, and the folder's own
files over them: every template of a stack shares one CI layer, and a debug variant holds
only its planted bugs and its README over its code variant. Folders named `_…` are layers
only, never repositories. A seeded repository holds the composed files and stands alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

LAYERS_FILE = ".tenon-layers"
LAYER_ONLY_PREFIX = "_"
# What a developer's local runs leave in a template folder; never part of a repository.
_IGNORED = shutil.ignore_patterns(
    LAYERS_FILE, "__pycache__", "*.pyc", ".pytest_cache", "node_modules", "dist"
)


class TemplateLayerError(ValueError):
    pass


def template_folders(folder: Path) -> list[Path]:
    """The sub-folders of `folder` that are template repositories."""
    if not folder.is_dir():
        return []
    return sorted(
        child
        for child in folder.iterdir()
        if child.is_dir() and not child.name.startswith(LAYER_ONLY_PREFIX)
    )


def compose(template: Path, into: Path) -> None:
    """Write `template`'s files, with those of its layers under them, into `into`."""
    _lay(template, into, chain=())


def _lay(folder: Path, into: Path, chain: tuple[str, ...]) -> None:
    if folder.name in chain:
        raise TemplateLayerError(f"layer cycle: {' -> '.join((*chain, folder.name))}")
    layers_file = folder / LAYERS_FILE
    names = layers_file.read_text().split() if layers_file.is_file() else []
    for name in names:
        layer = folder.parent / name
        if "/" in name or not layer.is_dir():
            raise TemplateLayerError(f"{folder.name}: no layer folder {name!r} beside it")
        _lay(layer, into, (*chain, folder.name))
    shutil.copytree(folder, into, dirs_exist_ok=True, ignore=_IGNORED)
