"""The template catalog: which repositories a simulation's code and debug days start from.

The source of truth is this module; the owner of the template repositories and the
workflow file come from settings (`TENON_GITHUB_TEMPLATE_OWNER`,
`TENON_GITHUB_ACTIONS_WORKFLOW_FILE`). A template is *offered* (simulations can be created
from it, template health checks it by default) once its repositories ship; the others stay
in the catalog so existing simulations keep their protected paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

WORKFLOWS_GLOB = ".github/workflows/**"


@dataclass(frozen=True)
class TemplateSpec:
    key: str
    code_repo_name: str
    # The same service with planted bugs: the debug day starts from failing tests.
    debug_repo_name: str
    test_paths: tuple[str, ...]
    offered: bool = True


TEMPLATES: tuple[TemplateSpec, ...] = (
    TemplateSpec("python-fastapi", "python-fastapi", "python-fastapi-debug", ("tests/**",)),
    TemplateSpec(
        "node-express-ts",
        "node-express-ts",
        "node-express-ts-debug",
        ("test/**", "**/*.test.ts", "**/*.spec.ts"),
        # Its repositories (and the emulator's copy) come with the trusted-grading work.
        offered=False,
    ),
)


@dataclass(frozen=True)
class Template:
    key: str
    code_repo: str
    debug_repo: str
    workflow_file: str
    protected_paths: tuple[str, ...]
    offered: bool


class TemplateCatalog:
    def __init__(self, *, owner: str, workflow_file: str) -> None:
        self._templates = {
            spec.key: Template(
                key=spec.key,
                code_repo=f"{owner}/{spec.code_repo_name}",
                debug_repo=f"{owner}/{spec.debug_repo_name}",
                workflow_file=workflow_file,
                protected_paths=(WORKFLOWS_GLOB, *spec.test_paths),
                offered=spec.offered,
            )
            for spec in TEMPLATES
        }

    @property
    def keys(self) -> list[str]:
        """Every template's key, offered or not."""
        return sorted(self._templates)

    @property
    def offered_keys(self) -> list[str]:
        return sorted(key for key, template in self._templates.items() if template.offered)

    def get(self, key: str) -> Template | None:
        return self._templates.get(key)

    def for_repository(self, full_name: str) -> Template | None:
        """The template whose code or debug repository this is."""
        return next(
            (t for t in self._templates.values() if full_name in (t.code_repo, t.debug_repo)),
            None,
        )


def template_catalog_of(request: Request) -> TemplateCatalog:
    catalog: TemplateCatalog = request.app.state.template_catalog
    return catalog


Catalog = Annotated[TemplateCatalog, Depends(template_catalog_of)]
