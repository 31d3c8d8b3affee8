"""What a grading workflow relies on in the runner: an empty workspace, `actions/checkout`
cloning the emulator's own repositories with the token's scope checked, tokens from the
emulated `actions/create-github-app-token`, the run's own `github.token`, repository
secrets (seeded for grader repositories, masked in the log) and step outputs."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.github_emulator.storage import PLACEHOLDER_APP_PRIVATE_KEY
from tests.support.emulator import (
    RunningEmulator,
    completed_run,
    dispatch,
    emulator_config,
    generate_repo,
    running_emulator,
    write_template,
)

OWNER = "tenon-templates"
GRADER = f"{OWNER}/probe-grader"
APP_ID = 4242
PROBE_SECRET = "probe-secret-value-7f3a"

GRADE_WORKFLOW = """\
name: grade
on:
  workflow_dispatch:
    inputs:
      candidate_repo: {required: true}
      candidate_sha: {required: true}
      token_repositories: {required: true}
jobs:
  grade:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with: {path: grader}
      - id: candidate
        env: {CANDIDATE_REPO: "${{ inputs.candidate_repo }}"}
        run: |
          echo "owner=${CANDIDATE_REPO%%/*}" >> "$GITHUB_OUTPUT"
          echo "name=${CANDIDATE_REPO#*/}" >> "$GITHUB_OUTPUT"
      - id: token
        uses: actions/create-github-app-token@v1
        with:
          app-id: ${{ secrets.TENON_APP_ID }}
          private-key: ${{ secrets.TENON_APP_PRIVATE_KEY }}
          owner: ${{ steps.candidate.outputs.owner }}
          repositories: ${{ inputs.token_repositories }}
          permission-contents: read
      - uses: actions/checkout@v4
        with:
          repository: ${{ inputs.candidate_repo }}
          ref: ${{ inputs.candidate_sha }}
          token: ${{ steps.token.outputs.token }}
          path: candidate
          persist-credentials: false
      - name: The checkout is the cutoff commit
        env: {CANDIDATE_SHA: "${{ inputs.candidate_sha }}"}
        run: test "$(git -C candidate rev-parse HEAD)" = "$CANDIDATE_SHA"
      - name: Report
        run: |
          mkdir out
          cp candidate/answer.txt out/answer.txt
          ls grader > out/grader-files.txt
          echo "${{ steps.token.outputs.token }}" > out/app-token.txt
          echo "${{ github.token }}" > out/run-token.txt
          echo "GITHUB_TOKEN in env: ${GITHUB_TOKEN:-no}"
          echo "app token ${{ steps.token.outputs.token }} and probe ${{ secrets.PROBE_SECRET }}"
          echo "key ${{ secrets.TENON_APP_PRIVATE_KEY }}"
      - if: always()
        uses: actions/upload-artifact@v4
        with:
          name: report
          if-no-files-found: ignore
          path: out
"""

OWN_TOKEN_WORKFLOW = """\
name: own-token
on:
  workflow_dispatch:
    inputs:
      repository: {required: true}
      path: {default: other}
jobs:
  own:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          repository: ${{ inputs.repository }}
          path: ${{ inputs.path }}
      - run: test -f other/README.md
"""

OUTPUTS_WORKFLOW = """\
name: outputs
on: workflow_dispatch
jobs:
  outputs:
    runs-on: ubuntu-latest
    steps:
      - id: first
        run: |
          echo "greeting=hello world" >> "$GITHUB_OUTPUT"
          {
            echo "poem<<END"
            echo "line one"
            echo "line two"
            echo "END"
          } >> "$GITHUB_OUTPUT"
      - id: never
        if: steps.first.outputs.greeting == 'goodbye'
        run: echo "never=ran" >> "$GITHUB_OUTPUT"
      - env:
          GREETING: ${{ steps.first.outputs.greeting }}
          POEM: ${{ steps.first.outputs.poem }}
          FIRST: ${{ steps.first.outcome }}
          NEVER: ${{ steps.never.outcome }}
          NEVER_OUTPUT: ${{ steps.never.outputs.never }}
        run: |
          mkdir out
          python - <<'PY'
          import json, os
          names = ("GREETING", "POEM", "FIRST", "NEVER", "NEVER_OUTPUT")
          with open("out/outputs.json", "w") as out:
              json.dump({name: os.environ[name] for name in names}, out)
          PY
      - uses: actions/upload-artifact@v4
        with: {name: outputs, path: out}
"""


@dataclass
class Scene:
    github: RunningEmulator
    api: httpx.AsyncClient
    # The candidate repository's first commit (the cutoff), then its head.
    cutoff: str
    head: str


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    templates = tmp_path / "templates"
    write_template(
        templates,
        "probe-grader",
        {
            ".github/workflows/grade.yml": GRADE_WORKFLOW,
            ".github/workflows/own-token.yml": OWN_TOKEN_WORKFLOW,
            ".github/workflows/outputs.yml": OUTPUTS_WORKFLOW,
            "hidden_test.py": "def test_hidden(): pass\n",
        },
    )
    write_template(templates, "candidate", {"README.md": "# candidate\n", "answer.txt": "v1\n"})
    config = emulator_config(
        tmp_path, templates_dir=templates, generate_delay_seconds=0.05, app_id=APP_ID
    )
    async with running_emulator(config) as github, github.client() as api:
        for name in ("cand-1", "cand-2"):
            await generate_repo(api, f"{OWNER}/candidate", "acme", name, private=True)
        cutoff = (await api.get("/repos/acme/cand-1/branches/main")).json()["commit"]["sha"]
        readme = (await api.get("/repos/acme/cand-1/contents/answer.txt")).json()
        later = await api.put(
            "/repos/acme/cand-1/contents/answer.txt",
            json={
                "message": "After the cutoff",
                "content": base64.b64encode(b"v2\n").decode(),
                "sha": readme["sha"],
            },
        )
        assert later.status_code == 200, later.text
        secret = await api.put(
            f"/_emulator/repos/{GRADER}/secrets/probe_secret", json={"value": PROBE_SECRET}
        )
        assert secret.status_code == 204
        yield Scene(github, api, cutoff, later.json()["commit"]["sha"])


async def _run(scene: Scene, workflow: str, **inputs: str) -> tuple[dict[str, Any], str]:
    """Dispatch `workflow` in the grader repository; the completed run and its log."""
    run_id = await dispatch(scene.api, GRADER, workflow, **inputs)
    run = await completed_run(scene.api, GRADER, run_id)
    log = (await scene.api.get(f"/_emulator/runs/{run_id}/log")).text
    return run, log


async def _artifact(scene: Scene, run: dict[str, Any]) -> zipfile.ZipFile:
    artifact = (await scene.api.get(run["artifacts_url"])).json()["artifacts"][0]
    redirect = await scene.api.get(artifact["archive_download_url"])
    async with httpx.AsyncClient() as storage:
        response = await storage.get(redirect.headers["location"])
    return zipfile.ZipFile(io.BytesIO(response.content))


async def test_grader_repositories_are_private_and_seeded_with_the_apps_secrets(
    scene: Scene,
) -> None:
    repo = await scene.api.get(f"/repos/{GRADER}")
    candidate_template = await scene.api.get(f"/repos/{OWNER}/candidate")
    assert repo.json()["private"] is True
    assert candidate_template.json()["private"] is False
    stored = scene.github.emulator.store.repo(OWNER, "probe-grader")
    assert stored is not None
    assert stored.secrets == {
        "TENON_APP_ID": str(APP_ID),
        "TENON_APP_PRIVATE_KEY": PLACEHOLDER_APP_PRIVATE_KEY,
        "PROBE_SECRET": PROBE_SECRET,
    }
    assert PROBE_SECRET not in repo.text
    state = (scene.github.config.data_dir / "state.json").read_text()
    assert PROBE_SECRET in state  # persisted with the rest of the state


async def test_secret_routes_refuse_bad_names_and_unknown_repositories(scene: Scene) -> None:
    url = f"/_emulator/repos/{GRADER}/secrets"
    bad_name = await scene.api.put(f"{url}/GITHUB_X", json={"value": "v"})
    digit = await scene.api.put(f"{url}/1ABC", json={"value": "v"})
    no_value = await scene.api.put(f"{url}/OK", json={})
    unknown = await scene.api.put("/_emulator/repos/acme/nope/secrets/OK", json={"value": "v"})
    removed = await scene.api.delete(f"{url}/PROBE_SECRET")
    assert [bad_name.status_code, digit.status_code, no_value.status_code] == [422, 422, 422]
    assert unknown.status_code == 404
    assert removed.status_code == 204
    stored = scene.github.emulator.store.repo(OWNER, "probe-grader")
    assert stored is not None
    assert "PROBE_SECRET" not in stored.secrets


async def test_a_grader_checks_out_the_candidate_at_the_cutoff_with_an_app_token(
    scene: Scene,
) -> None:
    run, log = await _run(
        scene,
        "grade.yml",
        candidate_repo="acme/cand-1",
        candidate_sha=scene.cutoff,
        token_repositories="cand-1",
    )
    assert run["conclusion"] == "success", log
    report = await _artifact(scene, run)
    # The cutoff's file, not the later commit's.
    assert report.read("answer.txt") == b"v1\n"
    assert report.read("grader-files.txt") == b"hidden_test.py\n"
    assert "GITHUB_TOKEN in env: no" in log

    # Tokens and secrets are masked in the log, and every token dies with the run.
    app_token = report.read("app-token.txt").decode().strip()
    run_token = report.read("run-token.txt").decode().strip()
    assert app_token.startswith("ghs_")
    assert run_token.startswith("ghs_")
    for secret in (app_token, run_token, PROBE_SECRET, "placeholder: the GitHub emulator"):
        assert secret not in log
    assert "app token *** and probe ***" in log
    for token in (app_token, run_token):
        async with scene.github.client(token=token) as revoked:
            assert (await revoked.get("/repos/acme/cand-1")).status_code == 401


async def test_a_token_for_another_repository_cannot_check_out_the_candidate(
    scene: Scene,
) -> None:
    run, log = await _run(
        scene,
        "grade.yml",
        candidate_repo="acme/cand-1",
        candidate_sha=scene.cutoff,
        token_repositories="cand-2",
    )
    assert run["conclusion"] == "failure"
    assert "remote: Repository not found." in log
    assert f"##[error]fatal: repository '{scene.github.base_url}/acme/cand-1/' not found" in log
    assert "Process completed" not in log  # the HEAD check never ran


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("no-such-branch", "A branch or tag with the name 'no-such-branch' could not be found"),
        ("0" * 40, f"upload-pack: not our ref {'0' * 40}"),
    ],
)
async def test_a_ref_that_does_not_exist_fails_the_checkout(
    scene: Scene, ref: str, error: str
) -> None:
    run, log = await _run(
        scene,
        "grade.yml",
        candidate_repo="acme/cand-1",
        candidate_sha=ref,
        token_repositories="cand-1",
    )
    assert run["conclusion"] == "failure"
    assert error in log


async def test_a_branch_ref_checks_out_its_head(scene: Scene) -> None:
    run, log = await _run(
        scene,
        "grade.yml",
        candidate_repo="acme/cand-1",
        candidate_sha=scene.head,
        token_repositories="cand-1",
    )
    assert run["conclusion"] == "success", log
    assert (await _artifact(scene, run)).read("answer.txt") == b"v2\n"


async def test_the_runs_own_token_reaches_its_repository_only(scene: Scene) -> None:
    private, private_log = await _run(scene, "own-token.yml", repository="acme/cand-1")
    public, public_log = await _run(scene, "own-token.yml", repository=f"{OWNER}/candidate")
    escaping, escaping_log = await _run(
        scene, "own-token.yml", repository=f"{OWNER}/candidate", path="../outside"
    )
    assert private["conclusion"] == "failure"
    assert "remote: Repository not found." in private_log
    # Public repositories are readable with any token, as on GitHub.
    assert public["conclusion"] == "success", public_log
    assert escaping["conclusion"] == "failure"
    assert "Repository path '../outside' is not under" in escaping_log


@pytest.mark.parametrize(
    ("secret", "value", "error"),
    [
        ("TENON_APP_ID", "999", "app-id 999 is not this GitHub's App"),
        ("TENON_APP_PRIVATE_KEY", None, "Input required and not supplied: private-key"),
    ],
)
async def test_the_app_token_action_needs_the_apps_id_and_a_key(
    scene: Scene, secret: str, value: str | None, error: str
) -> None:
    url = f"/_emulator/repos/{GRADER}/secrets/{secret}"
    if value is None:
        assert (await scene.api.delete(url)).status_code == 204
    else:
        assert (await scene.api.put(url, json={"value": value})).status_code == 204
    run, log = await _run(
        scene,
        "grade.yml",
        candidate_repo="acme/cand-1",
        candidate_sha=scene.cutoff,
        token_repositories="cand-1",
    )
    assert run["conclusion"] == "failure"
    assert error in log


async def test_steps_expose_their_outputs_and_outcomes(scene: Scene) -> None:
    run, log = await _run(scene, "outputs.yml")
    assert run["conclusion"] == "success", log
    outputs = json.loads((await _artifact(scene, run)).read("outputs.json"))
    assert outputs == {
        "GREETING": "hello world",
        "POEM": "line one\nline two",
        "FIRST": "success",
        "NEVER": "skipped",
        "NEVER_OUTPUT": "",
    }
