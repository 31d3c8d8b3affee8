"""Simulations over HTTP: creation with the default plan or explicit tasks, template keys,
listing with cursor pagination or as capped arrays, and one company's simulations hidden
from another's recruiters."""

from __future__ import annotations

import base64

import pytest

from app.core import pagination
from app.core.db import Database
from app.integrations.github.template_catalog import TEMPLATE_KEYS
from tests.support.api import SIMULATION, TEXT_TASKS, assert_ids, assert_problem
from tests.support.recruiting import World, invite_candidate, new_simulation


async def test_simulation_is_created_with_the_default_five_day_plan(world: World) -> None:
    simulation = await new_simulation(world)
    tasks = simulation["tasks"]
    assert isinstance(tasks, list)
    assert_ids(simulation["id"], *(t["id"] for t in tasks))
    assert [(t["dayIndex"], t["type"]) for t in tasks] == [
        (1, "design"),
        (2, "code"),
        (3, "debug"),
        (4, "handoff"),
        (5, "documentation"),
    ]
    repos = {t["type"]: t["templateRepo"] for t in tasks}
    assert repos["code"] == "tenon-templates/python-fastapi"
    assert repos["debug"] == "tenon-templates/python-fastapi-debug"
    assert repos["design"] is None
    fetched = await world.client.get(
        f"/api/simulations/{simulation['id']}", headers=world.recruiter
    )
    assert fetched.json() == simulation


async def test_unknown_template_key_is_422_listing_every_catalog_key(world: World) -> None:
    response = await world.client.post(
        "/api/simulations", json=SIMULATION | {"templateKey": "cobol"}, headers=world.recruiter
    )
    assert_problem(response, 422, "TEMPLATE_KEY_UNKNOWN")
    assert response.json()["detail"] == (
        f"Unknown templateKey 'cobol'; available: {', '.join(TEMPLATE_KEYS)}."
    )
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "templateKey"]


async def test_any_catalog_key_makes_a_simulation_even_one_not_installed_here(
    world: World,
) -> None:
    # The emulator does not ship go-gin: installing it is the operator's business, which
    # template health reports and provisioning refuses with TEMPLATE_NOT_INSTALLED.
    response = await world.client.post(
        "/api/simulations", json=SIMULATION | {"templateKey": "go-gin"}, headers=world.recruiter
    )
    assert response.status_code == 201, response.text
    repos = {t["type"]: t["templateRepo"] for t in response.json()["tasks"]}
    assert repos["code"] == "tenon-templates/go-gin"
    assert repos["debug"] == "tenon-templates/go-gin-debug"


async def test_explicit_tasks_must_have_distinct_days(world: World) -> None:
    tasks = [TEXT_TASKS[0], TEXT_TASKS[0]]
    response = await world.client.post(
        "/api/simulations", json=SIMULATION | {"tasks": tasks}, headers=world.recruiter
    )
    assert_problem(response, 422, "VALIDATION_FAILED")


async def test_simulations_are_listed_newest_first_with_cursor_pagination(world: World) -> None:
    created = [await new_simulation(world, title=f"Sim {n}") for n in range(3)]
    first = (await world.client.get("/api/simulations?limit=2", headers=world.recruiter)).json()
    assert first["total"] == 3
    assert [item["id"] for item in first["items"]] == [created[2]["id"], created[1]["id"]]
    rest = await world.client.get(
        f"/api/simulations?limit=2&cursor={first['nextCursor']}", headers=world.recruiter
    )
    assert [item["id"] for item in rest.json()["items"]] == [created[0]["id"]]
    bad = await world.client.get("/api/simulations?cursor=garbage", headers=world.recruiter)
    assert_problem(bad, 422, "CURSOR_INVALID")
    # A well-formed cursor whose id no BIGINT can hold is refused the same way.
    moment = "2026-12-01T00:00:00+00:00"
    for item_id in ("0", "9223372036854775808"):
        cursor = base64.urlsafe_b64encode(f"{moment}|{item_id}".encode()).decode().rstrip("=")
        out_of_range = await world.client.get(
            f"/api/simulations?cursor={cursor}", headers=world.recruiter
        )
        assert_problem(out_of_range, 422, "CURSOR_INVALID")


async def test_without_paging_parameters_lists_are_capped_arrays_with_paging_headers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The original front end reads bare arrays here; the cap is lowered to see it bite.
    monkeypatch.setattr(pagination, "MAX_LIMIT", 2)
    created = [await new_simulation(world, title=f"Sim {n}") for n in range(3)]
    oldest = created[0]["id"]
    for n in range(2):
        await invite_candidate(world, oldest, email=f"c{n}@example.com")

    first = await world.client.get("/api/simulations", headers=world.recruiter)
    assert [item["id"] for item in first.json()] == [created[2]["id"], created[1]["id"]]
    assert first.headers["x-total-count"] == "3"
    next_url, rel = first.headers["link"].split("; ")
    assert rel == 'rel="next"'
    rest = await world.client.get(next_url.strip("<>"), headers=world.recruiter)
    assert rest.json()["total"] == 3
    [last] = rest.json()["items"]
    assert (last["id"], last["candidateCount"]) == (oldest, 2)
    assert first.json()[0]["candidateCount"] == 0

    candidates = await world.client.get(
        f"/api/simulations/{oldest}/candidates", headers=world.recruiter
    )
    assert [row["inviteEmail"] for row in candidates.json()] == [
        "c0@example.com",
        "c1@example.com",
    ]
    assert candidates.headers["x-total-count"] == "2"
    assert "link" not in candidates.headers  # everything fit
    paged = await world.client.get(
        f"/api/simulations/{oldest}/candidates?limit=1", headers=world.recruiter
    )
    assert paged.json()["total"] == 2
    assert len(paged.json()["items"]) == 1


async def test_another_companys_recruiter_sees_nothing(world: World, database: Database) -> None:
    simulation = await new_simulation(world, tasks=TEXT_TASKS)
    sim_id = simulation["id"]
    cs_id = (await invite_candidate(world, sim_id)).json()["candidateSessionId"]
    paths = [
        f"/api/simulations/{sim_id}",
        f"/api/simulations/{sim_id}/candidates",
        f"/api/simulations/{sim_id}/candidates/{cs_id}/events",
        f"/api/simulations/{sim_id}/results.csv",
    ]
    for path in paths:
        assert_problem(
            await world.client.get(path, headers=world.outsider), 404, "SIMULATION_NOT_FOUND"
        )
    invite = await world.client.post(
        f"/api/simulations/{sim_id}/invite",
        json={"candidateName": "X", "inviteEmail": "x@example.com"},
        headers=world.outsider,
    )
    assert_problem(invite, 404, "SIMULATION_NOT_FOUND")
    listing = await world.client.get("/api/simulations", headers=world.outsider)
    assert listing.json() == []
    assert listing.headers["x-total-count"] == "0"
    assert (await world.client.get("/api/submissions", headers=world.outsider)).json()["total"] == 0
