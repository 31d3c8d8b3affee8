"""GitHub client conditional requests and pagination: ETag-cached answers, Link-header
pages bounded and kept on GitHub's host, and comparisons across pages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from app.core.metrics import Metrics
from app.integrations.github.client import GitHubClient, next_link
from app.integrations.github.errors import GitHubError
from tests.support.github_client import REPO, commit, repo_url, workflow_run
from tests.support.metrics import sample

# Conditional requests


async def test_unchanged_run_is_served_from_the_etag_cache(
    api: respx.MockRouter, github: GitHubClient, metrics: Metrics
) -> None:
    route = api.get(repo_url("/actions/runs/99")).mock(
        side_effect=[
            httpx.Response(200, json=workflow_run("in_progress"), headers={"ETag": 'W/"v1"'}),
            httpx.Response(304, headers={"ETag": 'W/"v1"'}),
        ]
    )

    first = await github.get_workflow_run(REPO, 99)
    second = await github.get_workflow_run(REPO, 99)

    assert "If-None-Match" not in route.calls[0].request.headers
    assert route.calls[1].request.headers["If-None-Match"] == 'W/"v1"'
    assert second == first
    assert second.status == "in_progress"
    assert sample(metrics, "tenon_github_not_modified_total") == 1


async def test_changed_run_replaces_the_cached_body(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.get(repo_url("/actions/runs/99")).mock(
        side_effect=[
            httpx.Response(200, json=workflow_run("in_progress"), headers={"ETag": '"v1"'}),
            httpx.Response(200, json=workflow_run("completed"), headers={"ETag": '"v2"'}),
            httpx.Response(304),
        ]
    )

    await github.get_workflow_run(REPO, 99)
    await github.get_workflow_run(REPO, 99)
    third = await github.get_workflow_run(REPO, 99)

    assert route.calls[2].request.headers["If-None-Match"] == '"v2"'
    assert third.status == "completed"
    assert third.conclusion == "success"


# Pagination


def paged_commits(pages: int) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        headers = {}
        if page < pages:
            next_url = f"{repo_url('/commits')}?per_page=2&sha=main&page={page + 1}"
            last_url = f"{repo_url('/commits')}?per_page=2&sha=main&page={pages}"
            headers["Link"] = f'<{next_url}>; rel="next", <{last_url}>; rel="last"'
        return httpx.Response(200, json=[commit(f"{page}a"), commit(f"{page}b")], headers=headers)

    return respond


async def test_link_pagination_follows_next_over_three_pages(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.get(repo_url("/commits")).mock(side_effect=paged_commits(3))

    commits = await github.list_commits(REPO, sha="main", per_page=2)

    assert [item.sha for item in commits] == ["1a", "1b", "2a", "2b", "3a", "3b"]
    assert route.call_count == 3
    assert dict(route.calls[0].request.url.params) == {"sha": "main", "per_page": "2"}
    assert route.calls[2].request.url.params["page"] == "3"


async def test_pagination_stops_at_max_pages(api: respx.MockRouter, github: GitHubClient) -> None:
    route = api.get(repo_url("/commits")).mock(side_effect=paged_commits(5))

    commits = await github.list_commits(REPO, sha="main", per_page=2, max_pages=2)

    assert len(commits) == 4
    assert route.call_count == 2


async def test_next_link_to_another_host_is_refused(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    api.get(repo_url("/commits")).respond(
        200, json=[commit("1a")], headers={"Link": '<https://evil.test/commits?page=2>; rel="next"'}
    )

    with pytest.raises(GitHubError, match="another host"):
        await github.list_commits(REPO)


def test_next_link_parses_real_link_headers() -> None:
    # Recorded from api.github.com (tests/fixtures/github/responses/paginate-issues).
    header = (
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="prev", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=3>; rel="next", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="first"'
    )
    assert next_link(header) == "https://api.github.com/repositories/1000/issues?per_page=3&page=3"
    assert next_link('<https://x.test/?page=2>; rel="prev"') is None
    assert next_link("<https://x.test/?a=1,2>;rel=next") == "https://x.test/?a=1,2"
    assert next_link(None) is None


async def test_empty_repository_has_no_commits(api: respx.MockRouter, github: GitHubClient) -> None:
    api.get(repo_url("/commits")).respond(409, json={"message": "Git Repository is empty."})

    assert await github.list_commits(REPO) == []


async def test_compare_takes_files_from_the_first_page_and_commits_from_all(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    url = repo_url("/compare/base123...feature/x")
    files = [
        {
            "filename": "app.py",
            "status": "modified",
            "additions": 3,
            "deletions": 1,
            "changes": 4,
            "patch": "@@ -1 +1 @@",
        },
        {
            "filename": "new.py",
            "status": "renamed",
            "additions": 0,
            "deletions": 0,
            "changes": 0,
            "previous_filename": "old.py",
        },
    ]
    first = {
        "status": "ahead",
        "ahead_by": 3,
        "behind_by": 0,
        "total_commits": 3,
        "commits": [commit("c1"), commit("c2")],
        "files": files,
    }
    second = {
        "status": "ahead",
        "ahead_by": 3,
        "behind_by": 0,
        "total_commits": 3,
        "commits": [commit("c3")],
    }
    route = api.get(url).mock(
        side_effect=[
            httpx.Response(200, json=first, headers={"Link": f'<{url}?page=2>; rel="next"'}),
            httpx.Response(200, json=second),
        ]
    )

    comparison = await github.compare(REPO, "base123", "feature/x")

    assert route.call_count == 2
    assert [item.sha for item in comparison.commits] == ["c1", "c2", "c3"]
    assert [item.filename for item in comparison.files] == ["app.py", "new.py"]
    assert comparison.files[1].previous_filename == "old.py"
    assert comparison.ahead_by == 3
