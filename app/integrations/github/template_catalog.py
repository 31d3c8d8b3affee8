"""The template catalog: which repositories a simulation's code and debug days start from.

The keys and each stack's protected paths (its tests and the harness that runs and scores
them) are fixed here; where the repositories live
comes from settings: `TENON_GITHUB_TEMPLATE_OWNER` owns them, named `<key>` and
`<key>-debug` unless `TENON_GITHUB_TEMPLATE_REPOS` renames them. A graded key also has one
private grader repository per variant, `<key>-grader` and `<key>-debug-grader` under the
same owner, holding the hidden tests that grade a submission at its cutoff (SPEC §11.1).
Every key can be chosen for a simulation; whether its repositories are installed on this
GitHub is for template health to report and for provisioning to refuse clearly
(TEMPLATE_NOT_INSTALLED).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    # Settings validate `TENON_GITHUB_TEMPLATE_REPOS` against TEMPLATE_KEYS from here.
    from app.core.settings import GitHubSettings

WORKFLOWS_GLOB = ".github/workflows/**"
# GitHub has no repository by a template's name: reported by template health and by
# provisioning a workspace from it.
TEMPLATE_NOT_INSTALLED = "TEMPLATE_NOT_INSTALLED"
# GitHub has no grader repository for a graded template variant: its submissions cannot be
# graded.
GRADER_NOT_INSTALLED = "GRADER_NOT_INSTALLED"

# Protected test paths per stack; a monorepo's are the union of its parts'.
PYTHON_TESTS = ("tests/**",)
# A full-stack monorepo keeps its Python service in backend/.
BACKEND_PYTHON_TESTS = ("backend/tests/**",)
JS_TESTS = ("test/**", "**/*.test.ts", "**/*.spec.ts", "**/*.test.js", "**/*.spec.js")
JS_APP_TESTS = (*JS_TESTS, "**/*.test.tsx", "**/*.spec.tsx", "**/__tests__/**")
JAVA_TESTS = ("src/test/**",)
GO_TESTS = ("**/*_test.go", "**/testdata/**")
DOTNET_TESTS = ("*Tests/**", "**/*Tests/**", "**/*.Tests/**")


# The harness: what installs, runs and scores the tests (SPEC §11.1). Editing it can forge a
# green run without touching a test, so it is protected like the tests. A rule
# `<glob>#<key>` protects one top-level key of a JSON file: changing the file is a finding
# only when that key's value changed (`code_review`).
PYTHON_HARNESS = (
    "scripts/**",
    "**/conftest.py",
    "pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
    "**/requirements*.txt",
)
# A full-stack repository's backend runs pytest from backend/, where these would be read
# before the root's.
BACKEND_PYTHON_HARNESS = (
    "backend/pytest.ini",
    "backend/pyproject.toml",
    "backend/tox.ini",
    "backend/setup.cfg",
)
_JS_TEST_CONFIGS = ("**/jest.config.*", "**/vitest.config.*", "**/.mocharc*")
# scripts/tenon-results.mjs runs package.json's `build` script, then the tests in the
# folders its `config.testDir` names; dependencies are the candidate's normal work.
JS_HARNESS = (
    "scripts/**",
    *_JS_TEST_CONFIGS,
    "package.json#scripts",
    "package.json#config",
)
# Workspaces and front-end folders have package.json files of their own whose scripts the
# root's run (`npm run build --workspaces`, the front end's build).
JS_APP_HARNESS = (
    "scripts/**",
    *_JS_TEST_CONFIGS,
    "**/package.json#scripts",
    "**/package.json#config",
)
# A full-stack repository names its front-end folder there (scripts/tenon_fullstack.py).
FULLSTACK_HARNESS = ("tenon-ci.json",)


def _union(*parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(path for part in parts for path in part))


# Every key a recruiter can pick, with the paths its stack keeps its tests and harness in
# (whole-file rules before per-key ones, so a file gets the plainest rule it matches).
TEMPLATE_PROTECTED_PATHS: dict[str, tuple[str, ...]] = {
    "python-fastapi": _union(PYTHON_TESTS, PYTHON_HARNESS),
    "node-express-ts": _union(JS_TESTS, JS_HARNESS),
    "node-nest-ts": _union(JS_TESTS, JS_HARNESS),
    "java-springboot": JAVA_TESTS,
    "go-gin": GO_TESTS,
    "dotnet-webapi": DOTNET_TESTS,
    "monorepo-nextjs-nest": _union(JS_APP_TESTS, JS_APP_HARNESS),
    "monorepo-nextjs-fastapi": _union(
        JS_APP_TESTS,
        BACKEND_PYTHON_TESTS,
        PYTHON_HARNESS,
        BACKEND_PYTHON_HARNESS,
        FULLSTACK_HARNESS,
        JS_APP_HARNESS,
    ),
    "monorepo-react-express": _union(JS_APP_TESTS, JS_APP_HARNESS),
    "monorepo-react-springboot": _union(JS_APP_TESTS, JAVA_TESTS, JS_APP_HARNESS),
    "mobile-fullstack-expo-fastapi": _union(
        JS_APP_TESTS,
        BACKEND_PYTHON_TESTS,
        PYTHON_HARNESS,
        BACKEND_PYTHON_HARNESS,
        FULLSTACK_HARNESS,
        JS_APP_HARNESS,
    ),
    "mobile-backend-fastapi": _union(PYTHON_TESTS, PYTHON_HARNESS),
    "ml-backend-fastapi": _union(PYTHON_TESTS, PYTHON_HARNESS),
    "ml-infra-mlops": _union(PYTHON_TESTS, PYTHON_HARNESS),
}
TEMPLATE_KEYS: tuple[str, ...] = tuple(sorted(TEMPLATE_PROTECTED_PATHS))
# The keys whose submissions a grader repository grades.
GRADED_KEYS: frozenset[str] = frozenset({"python-fastapi", "node-express-ts"})


@dataclass(frozen=True)
class RepoNames:
    """A template's two repositories: bare names (under the template owner) or owner/name."""

    code: str
    # The same service with planted bugs: the debug day starts from failing tests.
    debug: str


def default_repo_names(key: str) -> RepoNames:
    return RepoNames(code=key, debug=f"{key}-debug")


@dataclass(frozen=True)
class Template:
    key: str
    code_repo: str
    debug_repo: str
    workflow_file: str
    protected_paths: tuple[str, ...]
    # Grader repositories of the code and debug variants; None when the key is not graded.
    grader_repo: str | None = None
    debug_grader_repo: str | None = None
    grading_workflow_file: str = "tenon-grade.yml"

    def grader_for(self, template_repo: str) -> str | None:
        """The grader of this template's code or debug repository (None: not graded)."""
        name = template_repo.lower()
        if name == self.code_repo.lower():
            return self.grader_repo
        if name == self.debug_repo.lower():
            return self.debug_grader_repo
        return None


class TemplateCatalog:
    def __init__(
        self,
        *,
        owner: str,
        workflow_file: str,
        grading_workflow_file: str = "tenon-grade.yml",
        repo_names: Mapping[str, RepoNames] | None = None,
    ) -> None:
        """`repo_names` overrides the default names of some keys (settings validate them)."""
        overrides = repo_names or {}

        def full_name(name: str) -> str:
            return name if "/" in name else f"{owner}/{name}"

        self._templates: dict[str, Template] = {}
        for key in TEMPLATE_KEYS:
            names = overrides.get(key) or default_repo_names(key)
            graded = key in GRADED_KEYS
            self._templates[key] = Template(
                key=key,
                code_repo=full_name(names.code),
                debug_repo=full_name(names.debug),
                workflow_file=workflow_file,
                protected_paths=(WORKFLOWS_GLOB, *TEMPLATE_PROTECTED_PATHS[key]),
                grader_repo=full_name(f"{key}-grader") if graded else None,
                debug_grader_repo=full_name(f"{key}-debug-grader") if graded else None,
                grading_workflow_file=grading_workflow_file,
            )

    @property
    def keys(self) -> list[str]:
        return list(TEMPLATE_KEYS)

    def get(self, key: str) -> Template | None:
        return self._templates.get(key)

    def for_repository(self, full_name: str) -> Template | None:
        """The template whose code or debug repository this is."""
        name = full_name.lower()
        return next(
            (
                t
                for t in self._templates.values()
                if name in (t.code_repo.lower(), t.debug_repo.lower())
            ),
            None,
        )


def catalog_from(settings: GitHubSettings) -> TemplateCatalog:
    return TemplateCatalog(
        owner=settings.template_owner,
        workflow_file=settings.actions_workflow_file,
        grading_workflow_file=settings.grading_workflow_file,
        repo_names={
            key: RepoNames(code=repos.code, debug=repos.debug)
            for key, repos in settings.template_repos.items()
        },
    )


def template_catalog_of(request: Request) -> TemplateCatalog:
    catalog: TemplateCatalog = request.app.state.template_catalog
    return catalog


Catalog = Annotated[TemplateCatalog, Depends(template_catalog_of)]
