"""The GitHub emulator over real HTTP: auth and rate limits, repositories, contents,
compare, collaborators, workflow runs and artifacts, webhooks, faults and stats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import sys
import time
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.github_emulator.config import EmulatorConfig
from app.github_emulator.emulator import RequestRecord
from app.github_emulator.faults import FaultRule
from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    WebhookReceiver,
    app_jwt,
    bare_repo,
    completed_run,
    dispatch,
    emulator_config,
    eventually,
    generate_repo,
    run_git,
    running_emulator,
    serving,
    write_template,
)

OWNER = "tenon-templates"
TEMPLATE = f"{OWNER}/fixture"
WEBHOOK_SECRET = "It's a Secret to Everybody"

CI_WORKFLOW = """\
name: Tenon CI
run-name: Tenon run ${{ inputs.tenon_run_id }}
on:
  workflow_dispatch:
    inputs:
      outcome:
        description: pass or fail
        default: pass
      tenon_run_id:
        required: false
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Tests
        run: python scripts/results.py "${{ inputs.outcome }}"
      - name: Upload results
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: tenon-test-results
          path: |
            out/tenon-test-results.json
"""

RESULTS_SCRIPT = """\
import json, pathlib, sys
passed = sys.argv[1] == "pass"
out = pathlib.Path("out")
out.mkdir(exist_ok=True)
results = {"passed": 3 if passed else 2, "failed": 0 if passed else 1, "total": 3}
(out / "tenon-test-results.json").write_text(json.dumps(results))
sys.exit(0 if passed else 1)
"""

PROBE_WORKFLOW = """\
name: Probe
on: [workflow_dispatch, push]
defaults:
  run:
    working-directory: sub
env:
  WORKFLOW_LEVEL: wf
jobs:
  probe:
    runs-on: ubuntu-latest
    env:
      JOB_LEVEL: job-${{ env.WORKFLOW_LEVEL }}
    steps:
      - uses: actions/checkout@v4
      - run: echo "FROM_ENV_FILE=carried" >> "$GITHUB_ENV"
      - name: fails but continues
        continue-on-error: true
        run: exit 3
      - name: record
        env:
          STEP_LEVEL: step
        run: |
          python - <<'PY'
          import json, os, sys
          keys = ["WORKFLOW_LEVEL", "JOB_LEVEL", "STEP_LEVEL", "FROM_ENV_FILE", "GITHUB_SHA",
                  "GITHUB_REF", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_WORKSPACE", "CI",
                  "RUNNER_TEMP"]
          data = {key: os.environ.get(key) for key in keys}
          data["python"] = sys.executable
          data["cwd"] = os.getcwd()
          data["expr"] = {
              "sha": "${{ github.sha }}", "ref": "${{ github.ref }}",
              "ref_name": "${{ github.ref_name }}", "repository": "${{ github.repository }}",
              "run_id": "${{ github.run_id }}", "workspace": "${{ github.workspace }}",
              "env": "${{ env.STEP_LEVEL }}", "input": "${{ inputs.label }}",
              "event_input": "${{ github.event.inputs.label }}",
          }
          with open(os.path.join(os.environ["GITHUB_WORKSPACE"], "probe.json"), "w") as f:
              json.dump(data, f)
          PY
      - name: only on failure, so skipped here
        if: failure()
        run: echo ran > ../failure-too-early.txt
      - name: break
        run: exit 1
      - name: cleanup after a failure
        if: failure()
        run: echo yes > ../after-failure.txt
      - name: skipped after a failure
        run: echo no > ../skipped.txt
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: probe
          if-no-files-found: ignore
          path: |
            probe.json
            after-failure.txt
            skipped.txt
            failure-too-early.txt
"""

SLOW_WORKFLOW = """\
on:
  workflow_dispatch:
    inputs:
      seconds:
        default: "30"
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: sleep ${{ inputs.seconds }}
"""

PUSH_ONLY_WORKFLOW = """\
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
"""


def _fixture_template(templates: Path) -> None:
    write_template(
        templates,
        "fixture",
        {
            ".github/workflows/tenon-ci.yml": CI_WORKFLOW,
            ".github/workflows/probe.yml": PROBE_WORKFLOW,
            ".github/workflows/slow.yml": SLOW_WORKFLOW,
            ".github/workflows/push-only.yml": PUSH_ONLY_WORKFLOW,
            "scripts/results.py": RESULTS_SCRIPT,
            "run.sh": "#!/bin/sh\necho hello\n",
            "sub/.keep": "",
            "README.md": "# fixture\n\nline two\nline three\n",
        },
        executable=("run.sh",),
    )
    write_template(templates, "plain", {"README.md": "# plain\n"})


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    _fixture_template(folder)
    return folder


def _config(tmp_path: Path, templates: Path, **overrides: Any) -> EmulatorConfig:
    defaults: dict[str, Any] = {"templates_dir": templates, "generate_delay_seconds": 0.05}
    return emulator_config(tmp_path, **(defaults | overrides))


@pytest.fixture
async def github(tmp_path: Path, templates: Path) -> AsyncIterator[RunningEmulator]:
    async with running_emulator(_config(tmp_path, templates)) as running:
        yield running


@pytest.fixture
async def client(github: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with github.client() as api:
        yield api


async def generate(client: httpx.AsyncClient, name: str, owner: str = "acme") -> dict[str, Any]:
    return await generate_repo(client, TEMPLATE, owner, name)


def b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


async def artifact_zip(client: httpx.AsyncClient, url: str) -> zipfile.ZipFile:
    redirect = await client.get(url)
    assert redirect.status_code == 302
    async with httpx.AsyncClient() as storage:  # no Authorization for the storage host
        response = await storage.get(redirect.headers["location"])
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


# --- auth and rate limits -------------------------------------------------------------


async def test_requests_without_a_valid_token_are_401(github: RunningEmulator) -> None:
    for token in (None, "wrong-token"):
        async with github.client(token=token) as api:
            response = await api.get(f"/repos/{TEMPLATE}")
        assert response.status_code == 401
        body = response.json()
        assert body["message"] == "Bad credentials"
        assert body["status"] == "401"
        assert body["documentation_url"].startswith("https://docs.github.com")
        assert response.headers["x-ratelimit-limit"] == "60"


async def test_token_scheme_is_accepted_as_well_as_bearer(github: RunningEmulator) -> None:
    async with github.client(token=None) as api:
        response = await api.get(
            f"/repos/{TEMPLATE}", headers={"Authorization": f"token {github.config.tokens[0]}"}
        )
    assert response.status_code == 200


async def test_rate_limit_headers_count_down_and_an_exhausted_budget_is_403(
    tmp_path: Path, templates: Path
) -> None:
    async with (
        running_emulator(_config(tmp_path, templates, rate_limit_per_hour=3)) as github,
        github.client() as api,
    ):
        remaining = []
        for _ in range(3):
            response = await api.get(f"/repos/{TEMPLATE}")
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "3"
            assert response.headers["x-ratelimit-resource"] == "core"
            assert int(response.headers["x-ratelimit-reset"]) > time.time()
            remaining.append(response.headers["x-ratelimit-remaining"])
        assert remaining == ["2", "1", "0"]
        exhausted = await api.get(f"/repos/{TEMPLATE}")
    assert exhausted.status_code == 403
    assert exhausted.headers["x-ratelimit-remaining"] == "0"
    assert exhausted.headers["x-ratelimit-used"] == "3"
    assert "rate limit exceeded" in exhausted.json()["message"]


# --- repositories ---------------------------------------------------------------------


async def test_template_is_loaded_with_one_commit_and_is_listed(
    github: RunningEmulator, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/_emulator/templates")).json() == [
        f"{OWNER}/fixture",
        f"{OWNER}/plain",
    ]
    repo = (await client.get(f"/repos/{TEMPLATE}")).json()
    assert repo["is_template"] is True
    assert repo["default_branch"] == "main"
    assert repo["owner"]["type"] == "Organization"
    commits = (await client.get(f"/repos/{TEMPLATE}/commits")).json()
    assert len(commits) == 1
    assert commits[0]["parents"] == []


async def test_generate_is_empty_for_a_moment_then_holds_one_fresh_commit(
    tmp_path: Path, templates: Path
) -> None:
    config = _config(tmp_path, templates, generate_delay_seconds=0.5)
    async with running_emulator(config) as github, github.client() as api:
        created = await api.post(
            f"/repos/{TEMPLATE}/generate",
            json={"name": "ws-1", "owner": "acme", "private": True, "description": "d"},
        )
        assert created.status_code == 201
        repo = created.json()
        assert repo["full_name"] == "acme/ws-1"
        assert repo["private"] is True
        assert repo["visibility"] == "private"
        assert repo["is_template"] is False
        assert repo["template_repository"]["full_name"] == TEMPLATE
        assert repo["owner"]["type"] == "Organization"

        assert (await api.get("/repos/acme/ws-1/branches/main")).status_code == 404
        empty = await api.get("/repos/acme/ws-1/commits")
        assert empty.status_code == 409
        assert empty.json()["message"] == "Git Repository is empty."

        async def branch() -> dict[str, Any] | None:
            response = await api.get("/repos/acme/ws-1/branches/main")
            return response.json() if response.status_code == 200 else None

        head = await eventually(branch)
        commits = (await api.get("/repos/acme/ws-1/commits")).json()
        template_commits = (await api.get(f"/repos/{TEMPLATE}/commits")).json()

        again = await api.post(
            f"/repos/{TEMPLATE}/generate", json={"name": "ws-1", "owner": "acme"}
        )
        not_a_template = await api.post(
            "/repos/acme/ws-1/generate", json={"name": "ws-2", "owner": "acme"}
        )
        listing = run_git("ls-tree", "-r", "main", cwd=bare_repo(github, "acme/ws-1"))

    assert [commit["sha"] for commit in commits] == [head["commit"]["sha"]]
    assert commits[0]["parents"] == []
    assert commits[0]["commit"]["committer"]["name"] == "GitHub"
    # A new root commit with the template's tree, like GitHub's generate.
    assert commits[0]["sha"] != template_commits[0]["sha"]
    assert commits[0]["commit"]["tree"]["sha"] == template_commits[0]["commit"]["tree"]["sha"]
    assert "100755 blob" in next(line for line in listing.splitlines() if line.endswith("run.sh"))
    assert again.status_code == 422
    assert again.json()["message"] == "Repository creation failed."
    assert again.json()["errors"] == [
        {
            "resource": "Repository",
            "code": "custom",
            "field": "name",
            "message": "name already exists on this account",
        }
    ]
    assert not_a_template.status_code == 422


async def test_unknown_repositories_and_routes_are_github_404s(client: httpx.AsyncClient) -> None:
    for path in ("/repos/acme/nothing", "/repos/acme/nothing/commits", "/no/such/route"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json()["message"] == "Not Found"


async def test_bad_json_is_400_and_a_bad_body_is_422(client: httpx.AsyncClient) -> None:
    broken = await client.post(
        f"/repos/{TEMPLATE}/generate",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    missing_name = await client.post(f"/repos/{TEMPLATE}/generate", json={"owner": "acme"})
    assert broken.status_code == 400
    assert broken.json()["message"] == "Problems parsing JSON"
    assert missing_name.status_code == 422
    assert missing_name.json()["message"].startswith("Invalid request.")


async def test_malformed_input_is_a_4xx_never_a_500(client: httpx.AsyncClient) -> None:
    await generate(client, "odd")
    put = "/repos/acme/odd/contents/a.txt"
    responses = [
        await client.get("/repos/acme/odd/contents/%00"),
        await client.get("/repos/acme/odd/contents/scripts/%2E%2E/README.md"),
        await client.get("/repos/acme/odd/branches/ma%0Ain"),
        await client.get("/repos/acme/odd/commits", params={"sha": "-p"}),
        await client.get("/repos/acme/odd/commits", params={"since": "yesterday"}),
        await client.get("/repos/acme/odd/compare/main"),
        await client.get("/repos/acme/odd/actions/runs/not-a-number"),
        await client.get("/repos/acme/odd/actions/workflows/%2E%2E/runs"),
        await client.get("/repos/acme/odd/actions/workflows/..%2F..%2Fx/runs"),
        await client.put(put, json={"message": "m", "content": "***"}),
        await client.put(
            put,
            json={"message": "m", "content": b64("x"), "author": {"name": "a\nb", "email": "e"}},
        ),
        await client.put(put, json={"message": "m\u0000", "content": b64("x")}),
        await client.put(put, json=["not", "an", "object"]),
        await client.post(
            "/repos/acme/odd/actions/workflows/tenon-ci.yml/dispatches",
            json={"ref": "main", "inputs": {str(n): "x" for n in range(26)}},
        ),
    ]
    assert [r.status_code for r in responses if not 400 <= r.status_code < 500] == []
    assert all("message" in r.json() for r in responses)


async def test_archiving_makes_a_repo_read_only_and_delete_removes_it(
    client: httpx.AsyncClient,
) -> None:
    await generate(client, "old")
    archived = await client.patch("/repos/acme/old", json={"archived": True})
    write = await client.put(
        "/repos/acme/old/contents/x.txt", json={"message": "m", "content": b64("x")}
    )
    deleted = await client.delete("/repos/acme/old")
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert write.status_code == 403
    assert deleted.status_code == 204
    assert (await client.get("/repos/acme/old")).status_code == 404


async def test_state_survives_a_restart(tmp_path: Path, templates: Path) -> None:
    config = _config(tmp_path, templates)
    async with running_emulator(config) as github, github.client() as api:
        repo = await generate(api, "kept")
        run_id = await dispatch(api, "acme/kept", "tenon-ci.yml")
        await completed_run(api, "acme/kept", run_id)
    async with running_emulator(config) as github, github.client() as api:
        again = (await api.get("/repos/acme/kept")).json()
        run = (await api.get(f"/repos/acme/kept/actions/runs/{run_id}")).json()
    assert again["id"] == repo["id"]
    assert run["conclusion"] == "success"


# --- contents, commits, compare -------------------------------------------------------


async def test_contents_put_creates_commits_and_updates_need_the_current_sha(
    client: httpx.AsyncClient,
) -> None:
    await generate(client, "files")
    url = "/repos/acme/files/contents/notes/todo.txt"
    created = await client.put(url, json={"message": "add todo", "content": b64("one\n")})
    assert created.status_code == 201
    blob_sha = created.json()["content"]["sha"]
    assert blob_sha == hashlib.sha1(b"blob 4\0one\n").hexdigest()  # noqa: S324 - git's id

    read = (await client.get(url)).json()
    assert read["type"] == "file"
    assert read["encoding"] == "base64"
    assert base64.b64decode(read["content"]) == b"one\n"
    assert read["sha"] == blob_sha

    no_sha = await client.put(url, json={"message": "edit", "content": b64("two\n")})
    stale = await client.put(
        url, json={"message": "edit", "content": b64("two\n"), "sha": "0" * 40}
    )
    updated = await client.put(
        url, json={"message": "edit todo", "content": b64("two\n"), "sha": blob_sha}
    )
    assert no_sha.status_code == 422
    assert stale.status_code == 409
    assert updated.status_code == 200
    commit = updated.json()["commit"]
    assert commit["message"] == "edit todo"
    assert commit["parents"][0]["sha"] == created.json()["commit"]["sha"]

    commits = (await client.get("/repos/acme/files/commits")).json()
    assert [c["commit"]["message"] for c in commits] == ["edit todo", "add todo", "Initial commit"]
    only_todo = (await client.get("/repos/acme/files/commits", params={"path": "notes"})).json()
    assert len(only_todo) == 2
    page = await client.get("/repos/acme/files/commits", params={"per_page": 1, "page": 2})
    assert [c["sha"] for c in page.json()] == [commits[1]["sha"]]
    assert 'rel="next"' in page.headers["link"]
    assert 'rel="prev"' in page.headers["link"]
    listing = (await client.get("/repos/acme/files/contents/notes")).json()
    assert [entry["name"] for entry in listing] == ["todo.txt"]
    raw = await client.get(url, headers={"Accept": "application/vnd.github.raw"})
    assert raw.content == b"two\n"


async def test_commits_since_and_until_filter_by_commit_date(client: httpx.AsyncClient) -> None:
    await generate(client, "dated")
    now = datetime.now(UTC)
    later = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await client.get("/repos/acme/dated/commits", params={"since": later})).json() == []
    assert len((await client.get("/repos/acme/dated/commits", params={"since": earlier})).json())
    assert (await client.get("/repos/acme/dated/commits", params={"until": earlier})).json() == []


async def test_compare_reports_what_git_diff_reports(
    github: RunningEmulator, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await generate(client, "cmp")
    bare = bare_repo(github, "acme/cmp")
    base = run_git("rev-parse", "main", cwd=bare).strip()
    work = tmp_path / "work"
    run_git("clone", "--quiet", str(bare), str(work))
    (work / "README.md").write_text("# fixture\n\nline 2 changed\nline three\nline four\n")
    (work / "scripts" / "results.py").rename(work / "scripts" / "make_results.py")
    (work / "run.sh").unlink()
    (work / "new.txt").write_text("a\nb\nc\n")
    (work / "blob.bin").write_bytes(bytes(range(256)))
    run_git("add", "--all", cwd=work)
    run_git("commit", "--quiet", "-m", "candidate work", cwd=work)
    (work / "new.txt").write_text("a\nc\n")
    run_git("commit", "--quiet", "-am", "more work", cwd=work)
    run_git("push", "--quiet", "origin", "main", cwd=work)

    response = await client.get(f"/repos/acme/cmp/compare/{base}...main")
    assert response.status_code == 200
    comparison = response.json()
    numstat = run_git("diff", "--numstat", "-M", base, "main", cwd=bare)
    statuses = run_git("diff", "--name-status", "-M", base, "main", cwd=bare)

    expected: dict[str, tuple[int, int]] = {}
    for line in numstat.splitlines():
        added, deleted, path = line.split("\t")
        path = path.split(" => ")[-1].rstrip("}")
        if "{" in line:  # scripts/{results.py => make_results.py}
            path = "scripts/make_results.py"
        expected[path] = (0 if added == "-" else int(added), 0 if deleted == "-" else int(deleted))
    files = {item["filename"]: item for item in comparison["files"]}
    assert {name: (f["additions"], f["deletions"]) for name, f in files.items()} == expected
    assert all(f["changes"] == f["additions"] + f["deletions"] for f in files.values())
    status_letters = {line.split("\t")[-1]: line[0] for line in statuses.splitlines()}
    names = {"A": "added", "D": "removed", "M": "modified", "R": "renamed"}
    assert {name: f["status"] for name, f in files.items()} == {
        name: names[letter] for name, letter in status_letters.items()
    }
    assert files["scripts/make_results.py"]["previous_filename"] == "scripts/results.py"
    assert files["README.md"]["patch"].startswith("@@ ")
    assert "+line 2 changed" in files["README.md"]["patch"]
    assert "patch" not in files["blob.bin"]
    assert comparison["status"] == "ahead"
    assert comparison["ahead_by"] == comparison["total_commits"] == 2
    assert comparison["behind_by"] == 0
    assert [c["commit"]["message"] for c in comparison["commits"]] == [
        "candidate work",
        "more work",
    ]
    assert comparison["merge_base_commit"]["sha"] == base

    second = await client.get(
        f"/repos/acme/cmp/compare/{base}...main", params={"per_page": 1, "page": 2}
    )
    assert [c["commit"]["message"] for c in second.json()["commits"]] == ["more work"]
    assert second.json()["files"] == []
    assert 'rel="prev"' in second.headers["link"]
    behind = (await client.get(f"/repos/acme/cmp/compare/main...{base}")).json()
    assert (behind["status"], behind["behind_by"], behind["files"]) == ("behind", 2, [])


async def test_compare_files_are_capped_at_300(
    github: RunningEmulator, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await generate(client, "many")
    bare = bare_repo(github, "acme/many")
    base = run_git("rev-parse", "main", cwd=bare).strip()
    work = tmp_path / "many"
    run_git("clone", "--quiet", str(bare), str(work))
    for index in range(305):
        (work / f"file{index:03}.txt").write_text(f"{index}\n")
    run_git("add", "--all", cwd=work)
    run_git("commit", "--quiet", "-m", "lots", cwd=work)
    run_git("push", "--quiet", "origin", "main", cwd=work)
    comparison = (await client.get(f"/repos/acme/many/compare/{base}...main")).json()
    assert len(comparison["files"]) == 300


# --- users and collaborators ----------------------------------------------------------


async def test_any_valid_login_exists_except_ghosts(client: httpx.AsyncClient) -> None:
    user = await client.get("/users/Some-Candidate")
    assert user.status_code == 200
    assert (user.json()["login"], user.json()["type"]) == ("Some-Candidate", "User")
    assert (await client.get("/users/some-candidate")).json()["id"] == user.json()["id"]
    assert (await client.get("/users/ghost-someone")).status_code == 404
    assert (await client.get("/users/-not-valid-")).status_code == 404


async def test_collaborators_are_invited_once_and_removal_revokes_access(
    client: httpx.AsyncClient,
) -> None:
    await generate(client, "collab")
    url = "/repos/acme/collab/collaborators/candidate-1"
    invited = await client.put(url, json={"permission": "push"})
    assert invited.status_code == 201
    invitation = invited.json()
    assert invitation["invitee"]["login"] == "candidate-1"
    assert invitation["permissions"] == "write"
    assert invitation["repository"]["full_name"] == "acme/collab"
    assert (await client.put(url, json={"permission": "push"})).status_code == 204
    permission = (await client.get(f"{url}/permission")).json()
    assert (permission["permission"], permission["user"]["login"]) == ("write", "candidate-1")

    assert (await client.delete(url)).status_code == 204
    assert (await client.get(f"{url}/permission")).json()["permission"] == "none"
    assert (await client.put("/repos/acme/collab/collaborators/ghost-x")).status_code == 404


async def test_at_most_50_invitations_per_repo_per_day(client: httpx.AsyncClient) -> None:
    await generate(client, "popular")
    statuses = [
        (await client.put(f"/repos/acme/popular/collaborators/user-{index}")).status_code
        for index in range(50)
    ]
    over = await client.put("/repos/acme/popular/collaborators/user-50")
    assert statuses == [201] * 50
    assert over.status_code == 422
    assert "maximum number of invitations" in over.json()["errors"][0]["message"]


# --- workflow runs and artifacts ------------------------------------------------------


async def test_a_dispatched_run_succeeds_or_fails_according_to_its_input(
    client: httpx.AsyncClient,
) -> None:
    await generate(client, "runs")
    head = (await client.get("/repos/acme/runs/branches/main")).json()["commit"]["sha"]
    before = datetime.now(UTC).replace(microsecond=0)

    details = await client.post(
        "/repos/acme/runs/actions/workflows/tenon-ci.yml/dispatches",
        json={"ref": "main", "inputs": {"tenon_run_id": "42"}, "return_run_details": True},
    )
    assert details.status_code == 200
    body = details.json()
    assert body["run_url"].endswith(f"/repos/acme/runs/actions/runs/{body['workflow_run_id']}")
    assert body["html_url"].endswith(f"/acme/runs/actions/runs/{body['workflow_run_id']}")
    passed = await completed_run(client, "acme/runs", body["workflow_run_id"])

    plain = await client.post(
        "/repos/acme/runs/actions/workflows/tenon-ci.yml/dispatches",
        json={"ref": "main", "inputs": {"outcome": "fail"}},
    )
    assert plain.status_code == 204
    assert plain.content == b""
    created = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = await client.get(
        "/repos/acme/runs/actions/workflows/tenon-ci.yml/runs",
        params={"event": "workflow_dispatch", "branch": "main", "created": f">={created}"},
    )
    runs = listed.json()
    assert runs["total_count"] == 2
    newest = runs["workflow_runs"][0]
    assert newest["id"] > body["workflow_run_id"]
    failed = await completed_run(client, "acme/runs", newest["id"])

    assert (passed["status"], passed["conclusion"]) == ("completed", "success")
    assert (failed["status"], failed["conclusion"]) == ("completed", "failure")
    assert passed["event"] == "workflow_dispatch"
    assert passed["head_sha"] == head
    assert passed["head_branch"] == "main"
    assert passed["display_title"] == "Tenon run 42"
    assert passed["path"] == ".github/workflows/tenon-ci.yml"
    assert passed["run_started_at"] is not None
    assert passed["run_number"] == 1
    assert failed["run_number"] == 2
    by_status = await client.get(
        "/repos/acme/runs/actions/workflows/tenon-ci.yml/runs", params={"status": "failure"}
    )
    assert [run["id"] for run in by_status.json()["workflow_runs"]] == [failed["id"]]
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    none_later = await client.get("/repos/acme/runs/actions/runs", params={"created": f">={later}"})
    assert none_later.json()["total_count"] == 0


async def test_dispatch_rejects_bad_requests_like_github(client: httpx.AsyncClient) -> None:
    await generate(client, "bad")
    url = "/repos/acme/bad/actions/workflows/{}/dispatches"
    push_only = await client.post(url.format("push-only.yml"), json={"ref": "main"})
    unknown = await client.post(url.format("nope.yml"), json={"ref": "main"})
    no_ref = await client.post(url.format("tenon-ci.yml"), json={})
    bad_ref = await client.post(url.format("tenon-ci.yml"), json={"ref": "no-such-branch"})
    unexpected = await client.post(
        url.format("tenon-ci.yml"), json={"ref": "main", "inputs": {"surprise": "x"}}
    )
    assert push_only.status_code == 422
    assert "workflow_dispatch" in push_only.json()["message"]
    assert unknown.status_code == 404
    assert no_ref.status_code == 422
    assert bad_ref.status_code == 422
    assert unexpected.status_code == 422


async def test_get_run_answers_if_none_match_with_304_free_of_charge(
    client: httpx.AsyncClient,
) -> None:
    await generate(client, "etag")
    run_id = await dispatch(client, "acme/etag", "tenon-ci.yml")
    await completed_run(client, "acme/etag", run_id)
    first = await client.get(f"/repos/acme/etag/actions/runs/{run_id}")
    etag = first.headers["etag"]
    cached = await client.get(
        f"/repos/acme/etag/actions/runs/{run_id}", headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]


async def test_artifacts_are_listed_and_downloaded_through_a_signed_redirect(
    client: httpx.AsyncClient, github: RunningEmulator
) -> None:
    await generate(client, "art")
    run_id = await dispatch(client, "acme/art", "tenon-ci.yml", outcome="fail")
    run = await completed_run(client, "acme/art", run_id)
    listing = (await client.get(run["artifacts_url"])).json()
    assert listing["total_count"] == 1
    artifact = listing["artifacts"][0]
    assert artifact["name"] == "tenon-test-results"
    assert artifact["expired"] is False
    assert artifact["workflow_run"]["id"] == run_id
    assert artifact["workflow_run"]["head_sha"] == run["head_sha"]

    redirect = await client.get(artifact["archive_download_url"])
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(f"{github.base_url}/_storage/artifacts/{artifact['id']}?")
    with_credentials = await client.get(location)
    assert with_credentials.status_code == 400
    assert "Authorization" in with_credentials.json()["message"]
    async with httpx.AsyncClient() as storage:
        tampered = await storage.get(location[:-1] + ("0" if location[-1] != "0" else "1"))
    assert tampered.status_code == 403

    archive = await artifact_zip(client, artifact["archive_download_url"])
    assert archive.namelist() == ["tenon-test-results.json"]
    results = json.loads(archive.read("tenon-test-results.json"))
    assert results == {"passed": 2, "failed": 1, "total": 3}
    assert artifact["size_in_bytes"] > 0


async def test_expired_artifacts_are_410(tmp_path: Path, templates: Path) -> None:
    config = _config(tmp_path, templates, artifact_retention_seconds=0)
    async with running_emulator(config) as github, github.client() as api:
        await generate(api, "expired")
        run_id = await dispatch(api, "acme/expired", "tenon-ci.yml")
        run = await completed_run(api, "acme/expired", run_id)
        artifact = (await api.get(run["artifacts_url"])).json()["artifacts"][0]
        download = await api.get(artifact["archive_download_url"])
    assert artifact["expired"] is True
    assert download.status_code == 410


async def test_the_runner_honours_env_expressions_conditions_and_working_directory(
    client: httpx.AsyncClient,
) -> None:
    repo = await generate(client, "probe")
    run_id = await dispatch(client, "acme/probe", "probe.yml")
    run = await completed_run(client, "acme/probe", run_id)
    assert run["conclusion"] == "failure"  # the `break` step
    artifact = (await client.get(run["artifacts_url"])).json()["artifacts"][0]
    archive = await artifact_zip(client, artifact["archive_download_url"])
    assert sorted(archive.namelist()) == ["after-failure.txt", "probe.json"]
    probe = json.loads(archive.read("probe.json"))
    workspace = probe["GITHUB_WORKSPACE"]
    assert probe["WORKFLOW_LEVEL"] == "wf"
    assert probe["JOB_LEVEL"] == "job-wf"
    assert probe["STEP_LEVEL"] == "step"
    assert probe["FROM_ENV_FILE"] == "carried"
    assert probe["GITHUB_SHA"] == run["head_sha"]
    assert probe["GITHUB_REF"] == "refs/heads/main"
    assert probe["GITHUB_REPOSITORY"] == repo["full_name"]
    assert probe["GITHUB_RUN_ID"] == str(run_id)
    assert probe["CI"] == "true"
    assert probe["RUNNER_TEMP"]
    assert probe["cwd"] == str(Path(workspace) / "sub")
    # `python` in a step is the interpreter running the emulator.
    assert Path(probe["python"]).parent == Path(sys.executable).parent
    assert probe["expr"] == {
        "sha": run["head_sha"],
        "ref": "refs/heads/main",
        "ref_name": "main",
        "repository": "acme/probe",
        "run_id": str(run_id),
        "workspace": workspace,
        "env": "step",
        "input": "",
        "event_input": "",
    }
    log = (await client.get(f"/_emulator/runs/{run_id}/log")).text
    assert "Process completed with exit code 3." in log


async def test_a_run_past_its_time_limit_is_timed_out(tmp_path: Path, templates: Path) -> None:
    config = _config(tmp_path, templates, run_timeout_seconds=1)
    async with running_emulator(config) as github, github.client() as api:
        await generate(api, "slow")
        started = time.monotonic()
        run_id = await dispatch(api, "acme/slow", "slow.yml")
        run = await completed_run(api, "acme/slow", run_id, within=15)
    assert run["conclusion"] == "timed_out"
    assert time.monotonic() - started < 10


async def test_runs_beyond_the_worker_pool_wait_in_the_queue(
    tmp_path: Path, templates: Path
) -> None:
    config = _config(tmp_path, templates, max_concurrent_runs=1)
    async with running_emulator(config) as github, github.client() as api:
        await generate(api, "pool")
        first = await dispatch(api, "acme/pool", "slow.yml", seconds="0.6")
        second = await dispatch(api, "acme/pool", "slow.yml", seconds="0.6")
        seen: set[tuple[str, str]] = set()

        async def both_done() -> bool | None:
            # One listing is one snapshot; two reads of single runs could see the first run
            # before it ends and the second after it starts.
            listing = await api.get("/repos/acme/pool/actions/runs")
            status = {run["id"]: run["status"] for run in listing.json()["workflow_runs"]}
            statuses = [status[first], status[second]]
            seen.add((statuses[0], statuses[1]))
            return True if statuses == ["completed", "completed"] else None

        await eventually(both_done, interval=0.05)
    assert ("in_progress", "in_progress") not in seen
    assert ("in_progress", "queued") in seen


# --- webhooks -------------------------------------------------------------------------


async def _run_with_receiver(
    tmp_path: Path, templates: Path, receiver: WebhookReceiver
) -> tuple[list[tuple[dict[str, str], dict[str, Any]]], dict[str, Any]]:
    async with serving(receiver.app) as receiver_url:
        config = _config(
            tmp_path,
            templates,
            webhook_url=f"{receiver_url}/hook",
            webhook_secret=WEBHOOK_SECRET,
            webhook_backoff_seconds=0.05,
        )
        async with running_emulator(config) as github, github.client() as api:
            await generate(api, "hooks")
            run_id = await dispatch(api, "acme/hooks", "tenon-ci.yml")
            await completed_run(api, "acme/hooks", run_id)

            async def all_three() -> list[tuple[dict[str, str], dict[str, Any]]] | None:
                accepted = receiver.accepted()
                return accepted if len(accepted) == 3 else None

            deliveries = await eventually(all_three)

            # The receiver has answered the last delivery; the emulator counts it once it has
            # read that answer, a moment later.
            async def settled_stats() -> dict[str, Any] | None:
                stats: dict[str, Any] = (await api.get("/_emulator/stats")).json()
                webhooks = stats["webhooks"]
                return stats if webhooks["delivered"] + webhooks["failed"] >= 3 else None

            stats = await eventually(settled_stats)
    return deliveries, stats


async def test_workflow_run_webhooks_are_signed_and_arrive_in_order(
    tmp_path: Path, templates: Path
) -> None:
    receiver = WebhookReceiver()
    deliveries, stats = await _run_with_receiver(tmp_path, templates, receiver)
    assert [payload["action"] for _, payload in deliveries] == [
        "requested",
        "in_progress",
        "completed",
    ]
    assert [payload["workflow_run"]["status"] for _, payload in deliveries] == [
        "queued",
        "in_progress",
        "completed",
    ]
    assert deliveries[-1][1]["workflow_run"]["conclusion"] == "success"
    assert deliveries[0][1]["workflow_run"]["conclusion"] is None
    for (headers, _), (_, body) in zip(deliveries, receiver.requests, strict=True):
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-hub-signature-256"] == f"sha256={digest}"
        assert headers["x-github-event"] == "workflow_run"
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"].startswith("GitHub-Hookshot/")
    assert len({headers["x-github-delivery"] for headers, _ in deliveries}) == 3
    payload = deliveries[-1][1]
    assert payload["repository"]["full_name"] == "acme/hooks"
    assert payload["workflow"]["path"] == ".github/workflows/tenon-ci.yml"
    assert payload["sender"]["login"] == "tenon-bot"
    assert stats["webhooks"] == {"delivered": 3, "failed": 0}


async def test_a_failing_webhook_receiver_gets_the_delivery_on_a_retry(
    tmp_path: Path, templates: Path
) -> None:
    receiver = WebhookReceiver(failures=2)
    deliveries, stats = await _run_with_receiver(tmp_path, templates, receiver)
    assert [payload["action"] for _, payload in deliveries] == [
        "requested",
        "in_progress",
        "completed",
    ]
    # Retries reuse the delivery id, as GitHub's redeliveries do.
    first_ids = {headers["x-github-delivery"] for headers, _ in receiver.requests[:3]}
    assert len(first_ids) == 1
    assert stats["webhooks"] == {"delivered": 3, "failed": 0}


# --- GitHub App -----------------------------------------------------------------------


async def test_app_installation_tokens_are_minted_and_accepted(
    github: RunningEmulator,
) -> None:
    now = int(time.time())
    jwt = app_jwt({"iat": now - 60, "exp": now + 540, "iss": "12345"})
    async with github.client(token=jwt) as app:
        installation = await app.get(f"/repos/{TEMPLATE}/installation")
        minted = await app.post(f"/app/installations/{installation.json()['id']}/access_tokens")
        unknown = await app.post("/app/installations/999/access_tokens")
    async with github.client(token=app_jwt({"exp": now - 1})) as stale:
        expired = await stale.get(f"/repos/{TEMPLATE}/installation")
    async with github.client() as pat:
        with_pat = await pat.get(f"/repos/{TEMPLATE}/installation")
    assert installation.status_code == 200
    assert installation.json()["account"]["login"] == OWNER
    assert minted.status_code == 201
    token = minted.json()
    expires_at = datetime.fromisoformat(token["expires_at"])
    assert timedelta(minutes=55) < expires_at - datetime.now(UTC) <= timedelta(hours=1)
    assert token["permissions"]["contents"] == "write"
    assert unknown.status_code == 404
    assert expired.status_code == 401
    assert with_pat.status_code == 401
    async with github.client(token=token["token"]) as installed:
        assert (await installed.get(f"/repos/{TEMPLATE}")).status_code == 200


# --- faults and stats -----------------------------------------------------------------


async def _faults(client: httpx.AsyncClient, *rules: dict[str, Any]) -> None:
    response = await client.post("/_emulator/faults", json=list(rules))
    assert response.status_code == 200, response.text


async def test_server_error_faults_apply_to_their_route_until_cleared(
    client: httpx.AsyncClient,
) -> None:
    await _faults(client, {"route": r"^GET /repos/[^/]+/[^/]+$", "status": 502})
    assert [(await client.get(f"/repos/{TEMPLATE}")).status_code for _ in range(3)] == [502] * 3
    assert (await client.get(f"/repos/{TEMPLATE}/commits")).status_code == 200
    assert (await client.delete("/_emulator/faults")).status_code == 204
    assert (await client.get(f"/repos/{TEMPLATE}")).status_code == 200


async def test_a_fault_with_times_applies_to_that_many_requests(client: httpx.AsyncClient) -> None:
    await _faults(client, {"route": "^GET /repos/", "status": 503, "times": 2})
    codes = [(await client.get(f"/repos/{TEMPLATE}")).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


async def test_rate_limit_faults_carry_github_headers(client: httpx.AsyncClient) -> None:
    await _faults(
        client,
        {"route": "^GET /users/", "rate_limit": "secondary", "retry_after": 7, "times": 1},
        {"route": "^GET /users/", "rate_limit": "primary", "status": 429, "times": 1},
    )
    secondary = await client.get("/users/someone")
    primary = await client.get("/users/someone")
    assert secondary.status_code == 403
    assert secondary.headers["retry-after"] == "7"
    assert "secondary rate limit" in secondary.json()["message"]
    assert primary.status_code == 429
    assert primary.headers["x-ratelimit-remaining"] == "0"
    assert int(primary.headers["x-ratelimit-reset"]) > time.time()
    assert (await client.get("/users/someone")).status_code == 200


async def test_latency_and_timeout_faults(tmp_path: Path, templates: Path) -> None:
    config = _config(tmp_path, templates, fault_timeout_seconds=1.0)
    async with running_emulator(config) as github, github.client() as api:
        await _faults(api, {"route": "^GET /users/", "latency_ms": 300})
        started = time.monotonic()
        slow = await api.get("/users/someone")
        elapsed = time.monotonic() - started
        await _faults(api, {"route": "^GET /users/", "timeout": True})
        with pytest.raises(httpx.ReadTimeout):
            await api.get("/users/someone", timeout=0.3)
        patient = await api.get("/users/someone")
    assert slow.status_code == 200
    assert elapsed >= 0.3
    assert patient.status_code == 504


async def test_fault_sampling_is_reproducible_with_a_seed(tmp_path: Path, templates: Path) -> None:
    rule = FaultRule(route="^GET /users/", status=500, error_rate=0.5)
    sequences = []
    for attempt in range(2):
        config = _config(tmp_path / str(attempt), templates, faults=(rule,), fault_seed=7)
        async with running_emulator(config) as github, github.client() as api:
            sequences.append([(await api.get("/users/someone")).status_code for _ in range(20)])
    assert sequences[0] == sequences[1]
    assert set(sequences[0]) == {200, 500}


async def test_invalid_fault_rules_are_422(client: httpx.AsyncClient) -> None:
    for rules in ([{"route": "("}], [{"error_rate": 2}], [{"status": 418}], {"route": "x"}):
        assert (await client.post("/_emulator/faults", json=rules)).status_code == 422


async def test_stats_count_requests_by_route_template_and_faults(
    client: httpx.AsyncClient,
) -> None:
    await client.get(f"/repos/{TEMPLATE}")
    await client.get(f"/repos/{OWNER}/plain")
    await client.get(f"/repos/{TEMPLATE}/contents/README.md")
    await _faults(client, {"route": "^GET /users/", "status": 500, "times": 1})
    await client.get("/users/someone")
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["requests"]["GET /repos/{owner}/{repo}"] == 2
    assert stats["requests"]["GET /repos/{owner}/{repo}/contents/{path}"] == 1
    assert stats["requests"]["GET /users/{username}"] == 1
    assert stats["total_requests"] == 4
    assert stats["faults_injected"] == {"500": 1}
    assert stats["responses_by_status"] == {"200": 3, "500": 1}


async def test_request_listeners_see_route_caller_and_status_of_api_requests(
    github: RunningEmulator, client: httpx.AsyncClient
) -> None:
    seen: list[RequestRecord] = []
    github.emulator.request_listeners.append(seen.append)
    first = await client.get(f"/repos/{TEMPLATE}")
    await client.get(f"/repos/{TEMPLATE}", headers={"If-None-Match": first.headers["etag"]})
    await client.get("/_emulator/stats")  # the emulator's own controls are not GitHub's
    async with github.client(token="wrong") as stranger:
        await stranger.get("/users/someone")
    route = "GET /repos/{owner}/{repo}"
    caller = f"token:{hashlib.sha256(TOKEN.encode()).hexdigest()[:16]}"
    assert seen == [
        RequestRecord(route, f"/repos/{TEMPLATE}", caller, 200),
        RequestRecord(route, f"/repos/{TEMPLATE}", caller, 304),
        RequestRecord("GET /users/{username}", "/users/someone", "anonymous", 401),
    ]


async def test_git_refs_create_a_tag_at_an_existing_commit_once(
    github: RunningEmulator, client: httpx.AsyncClient
) -> None:
    await generate(client, "tagged")
    head = (await client.get("/repos/acme/tagged/branches/main")).json()["commit"]["sha"]
    body = {"ref": "refs/tags/tenon-submission-1", "sha": head}
    created = await client.post("/repos/acme/tagged/git/refs", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["object"]["sha"] == head
    again = await client.post("/repos/acme/tagged/git/refs", json=body)
    assert (again.status_code, again.json()["message"]) == (422, "Reference already exists")
    missing = await client.post(
        "/repos/acme/tagged/git/refs", json={"ref": "refs/tags/x", "sha": "0" * 40}
    )
    assert (missing.status_code, missing.json()["message"]) == (422, "Object does not exist")
