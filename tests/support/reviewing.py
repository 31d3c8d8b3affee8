"""A scene for the evaluation tests over HTTP: a simulation of three text tasks owned by
the `world`'s recruiter (Rita), an invited candidate, and more recruiters of Rita's company
with tokens of their own, with helpers that read the rubric, score, submit and complete
the candidate's days."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies.models import Company, User
from app.evaluation.models import Recommendation
from tests.support.api import TEXT_TASKS, bearer
from tests.support.factories import create_recruiter
from tests.support.recruiting import World, invite_candidate, new_simulation

OWNER = "rita"


@dataclass
class ReviewScene:
    world: World
    simulation: dict[str, Any]
    cs_id: int
    invite_token: str
    # Reviewer name -> the Authorization header of their token; "rita" is the owner.
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, int]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.client

    @property
    def simulation_id(self) -> int:
        return int(self.simulation["id"])

    @property
    def scorecards_url(self) -> str:
        return f"/api/candidate-sessions/{self.cs_id}/scorecards"

    async def rubric(self, reviewer: str = OWNER) -> dict[str, Any]:
        response = await self.client.get(
            f"/api/simulations/{self.simulation_id}/rubric", headers=self.headers[reviewer]
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def save(
        self,
        reviewer: str,
        entries: list[dict[str, Any]],
        recommendation: Recommendation | None = None,
    ) -> httpx.Response:
        return await self.client.put(
            f"{self.scorecards_url}/mine",
            json={"entries": entries, "recommendation": recommendation},
            headers=self.headers[reviewer],
        )

    async def submit(self, reviewer: str) -> httpx.Response:
        return await self.client.post(
            f"{self.scorecards_url}/mine/submit", headers=self.headers[reviewer]
        )

    async def scorecards(self, reviewer: str) -> dict[str, Any]:
        response = await self.client.get(self.scorecards_url, headers=self.headers[reviewer])
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def score(
        self,
        reviewer: str,
        *,
        level: int = 3,
        note: str = "",
        recommendation: Recommendation = "yes",
    ) -> dict[str, Any]:
        """Score every criterion of the current rubric at `level` and submit."""
        saved = await self.save(reviewer, await self.entries(level, note), recommendation)
        assert saved.status_code == 200, saved.text
        submitted = await self.submit(reviewer)
        assert submitted.status_code == 200, submitted.text
        body: dict[str, Any] = submitted.json()
        return body

    async def entries(self, level: int = 3, note: str = "") -> list[dict[str, Any]]:
        """An entry at `level` for every criterion of the current rubric."""
        rubric = await self.rubric()
        return [
            {"criterionKey": criterion["key"], "level": level, "note": note}
            for criterion in rubric["criteria"]
        ]

    async def set_reviewers(self, *names: str, by: str = OWNER) -> httpx.Response:
        return await self.client.put(
            f"/api/candidate-sessions/{self.cs_id}/reviewers",
            json={"reviewerUserIds": [self.user_ids[name] for name in names]},
            headers=self.headers[by],
        )

    async def complete_candidate(self) -> dict[int, int]:
        """The candidate claims the invite and turns in every day (the answer of day N is
        `My answer for day N.`); their submission ids by day."""
        client, candidate = self.client, self.world.candidate
        claimed = await client.post(
            f"/api/candidate/session/{self.invite_token}/claim", headers=candidate
        )
        assert claimed.status_code == 200, claimed.text
        session_header = candidate | {"x-candidate-session-id": str(self.cs_id)}
        submissions = {}
        for task in self.simulation["tasks"]:
            submitted = await client.post(
                f"/api/tasks/{task['id']}/submit",
                json={"contentText": f"My answer for day {task['dayIndex']}."},
                headers=session_header,
            )
            assert submitted.status_code == 201, submitted.text
            submissions[task["dayIndex"]] = submitted.json()["submissionId"]
        return submissions


async def review_scene(
    world: World, db_session: AsyncSession, *, reviewers: tuple[str, ...] = ("bea", "carl")
) -> ReviewScene:
    """The scene, with `reviewers` (names) as recruiters of Rita's company besides her."""
    simulation = await new_simulation(world, tasks=TEXT_TASKS)
    invited = await invite_candidate(world, simulation["id"])
    assert invited.status_code == 201, invited.text
    company = await db_session.scalar(select(Company).where(Company.name == world.company_name))
    assert company is not None
    rita = await db_session.scalar(select(User).where(User.email == "rita@ours.example"))
    assert rita is not None
    headers, user_ids = {OWNER: world.recruiter}, {OWNER: rita.id}
    for name in reviewers:
        email = f"{name}@ours.example"
        user = await create_recruiter(db_session, company, email=email, name=name.title())
        headers[name] = bearer(world.idp.token(subject=f"auth0|{name}", email=email))
        user_ids[name] = user.id
    return ReviewScene(
        world=world,
        simulation=simulation,
        cs_id=invited.json()["candidateSessionId"],
        invite_token=invited.json()["token"],
        headers=headers,
        user_ids=user_ids,
    )
