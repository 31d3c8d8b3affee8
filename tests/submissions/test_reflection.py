"""The Day 5 structured reflection over HTTP with real tokens: sections stored as JSON and
rendered as Markdown, refused whole when any section breaks a rule, only for documentation
tasks, and never together with contentText; plain contentText still works there."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.submissions.models import Submission
from app.submissions.schemas import MAX_REFLECTION_SECTION_LENGTH
from tests.support.api import assert_problem
from tests.support.recruiting import World, invite_candidate, new_simulation

REFLECTION = {
    "challenges": "Refund totals drifted when *partial refunds* overlapped.",
    "decisions": "Integer cents.\n\n```python\n## a comment, not a heading\n```",
    "tradeoffs": "  Row locks serialise one payment's refunds.\n",
    "communication": "### Early questions\n- rounding\n- currencies",
    "nextSteps": "> ## Quoted is fine\n\nIdempotency keys.",
}
MARKDOWN = (
    "## Challenges\n\nRefund totals drifted when *partial refunds* overlapped.\n\n"
    "## Decisions\n\nInteger cents.\n\n```python\n## a comment, not a heading\n```\n\n"
    "## Trade-offs\n\n  Row locks serialise one payment's refunds.\n\n\n"
    "## Communication\n\n### Early questions\n- rounding\n- currencies\n\n"
    "## Next steps\n\n> ## Quoted is fine\n\nIdempotency keys."
)


async def _session_at(
    world: World, tasks: list[dict[str, Any]]
) -> tuple[list[int], dict[str, str]]:
    """A claimed session of a new simulation with these tasks: its task ids and the
    candidate's headers for it."""
    simulation = await new_simulation(world, tasks=tasks)
    invite = (await invite_candidate(world, simulation["id"])).json()
    opened = await world.client.get(
        f"/api/candidate/session/{invite['token']}", headers=world.candidate
    )
    assert opened.status_code == 200, opened.text
    headers = world.candidate | {"x-candidate-session-id": str(invite["candidateSessionId"])}
    return [task["id"] for task in simulation["tasks"]], headers


def _task(day: int, kind: str) -> dict[str, Any]:
    return {"dayIndex": day, "type": kind, "title": kind, "description": f"Day {day}."}


async def _stored(db_session: AsyncSession, task_id: int) -> list[Submission]:
    return list(
        (await db_session.scalars(select(Submission).where(Submission.task_id == task_id))).all()
    )


async def test_a_reflection_is_stored_as_json_and_markdown_and_shown_to_the_recruiter(
    world: World, db_session: AsyncSession
) -> None:
    [task_id], headers = await _session_at(world, [_task(1, "documentation")])

    response = await world.client.post(
        f"/api/tasks/{task_id}/submit", json={"reflection": REFLECTION}, headers=headers
    )

    assert response.status_code == 201, response.text
    [stored] = await _stored(db_session, task_id)
    assert stored.reflection == REFLECTION
    assert stored.content_text == MARKDOWN
    detail = await world.client.get(
        f"/api/submissions/{response.json()['submissionId']}", headers=world.recruiter
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["reflection"] == REFLECTION
    assert detail.json()["contentText"] == MARKDOWN


async def test_a_stored_reflection_is_shown_as_stored_even_if_the_rules_no_longer_accept_it(
    world: World, db_session: AsyncSession
) -> None:
    [task_id], headers = await _session_at(world, [_task(1, "documentation")])
    response = await world.client.post(
        f"/api/tasks/{task_id}/submit", json={"reflection": REFLECTION}, headers=headers
    )
    assert response.status_code == 201, response.text
    # As if the sections' rules had been tightened after this submission was stored.
    earlier = REFLECTION | {"challenges": "## A heading today's rules refuse\n\n" + "x" * 5000}
    await db_session.execute(
        update(Submission).where(Submission.task_id == task_id).values(reflection=earlier)
    )
    await db_session.flush()

    detail = await world.client.get(
        f"/api/submissions/{response.json()['submissionId']}", headers=world.recruiter
    )

    assert detail.status_code == 200, detail.text
    assert detail.json()["reflection"] == earlier


def _with(**section: str | None) -> dict[str, Any]:
    """REFLECTION with some sections replaced, or left out when None."""
    changed = REFLECTION | section
    return {name: text for name, text in changed.items() if text is not None}


@pytest.mark.parametrize(
    ("reflection", "loc"),
    [
        (_with(decisions="x" * (MAX_REFLECTION_SECTION_LENGTH + 1)), "decisions"),
        (_with(tradeoffs=" \n\t "), "tradeoffs"),
        (_with(nextSteps=None), "nextSteps"),
        (_with(challenges="Fine.\n\n## Decisions\nNot the real ones."), "challenges"),
        (_with(challenges="Fine.\nDecisions\n---"), "challenges"),
        (_with(communication="```\nnever closed"), "communication"),
        (_with(decisions="<h2>Trade-offs</h2>"), "decisions"),
    ],
    ids=["too-long", "blank", "missing", "atx-heading", "setext-heading", "open-fence", "html"],
)
async def test_a_reflection_breaking_a_section_rule_is_422_and_stores_nothing(
    world: World, db_session: AsyncSession, reflection: dict[str, Any], loc: str
) -> None:
    [task_id], headers = await _session_at(world, [_task(1, "documentation")])

    response = await world.client.post(
        f"/api/tasks/{task_id}/submit", json={"reflection": reflection}, headers=headers
    )

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert [error["loc"] for error in body["errors"]] == [["body", "reflection", loc]]
    assert await _stored(db_session, task_id) == []


async def test_a_reflection_with_content_text_is_422(
    world: World, db_session: AsyncSession
) -> None:
    [task_id], headers = await _session_at(world, [_task(1, "documentation")])

    response = await world.client.post(
        f"/api/tasks/{task_id}/submit",
        json={"reflection": REFLECTION, "contentText": "Also this."},
        headers=headers,
    )

    assert_problem(response, 422, "CONTENT_AND_REFLECTION")
    assert await _stored(db_session, task_id) == []


async def test_a_reflection_on_a_design_task_is_422(world: World, db_session: AsyncSession) -> None:
    [design, _], headers = await _session_at(world, [_task(1, "design"), _task(2, "documentation")])

    response = await world.client.post(
        f"/api/tasks/{design}/submit", json={"reflection": REFLECTION}, headers=headers
    )

    assert_problem(response, 422, "REFLECTION_NOT_EXPECTED")
    assert await _stored(db_session, design) == []


async def test_plain_content_text_still_submits_a_documentation_task(
    world: World, db_session: AsyncSession
) -> None:
    [task_id], headers = await _session_at(world, [_task(1, "documentation")])

    response = await world.client.post(
        f"/api/tasks/{task_id}/submit", json={"contentText": "## My notes\n"}, headers=headers
    )

    assert response.status_code == 201, response.text
    [stored] = await _stored(db_session, task_id)
    assert (stored.content_text, stored.reflection) == ("## My notes\n", None)
    detail = await world.client.get(
        f"/api/submissions/{response.json()['submissionId']}", headers=world.recruiter
    )
    assert (detail.json()["contentText"], detail.json()["reflection"]) == ("## My notes\n", None)
