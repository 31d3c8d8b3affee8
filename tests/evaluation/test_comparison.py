"""The simulation's comparison over HTTP: candidates ranked by weighted score, their scores
and the reviewers' agreement only where the reader may see them (blind review), the CSV,
and tenancy."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import krippendorff
import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from tests.support.api import assert_problem, bearer
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_recruiter,
    create_simulation,
)
from tests.support.identity import IdentityProvider
from tests.support.recruiting import World
from tests.support.reviewing import review_scene
from tests.support.scorecard_rows import add_rubric, add_scorecard, criterion

INJECTED_NAME = '=HYPERLINK("http://evil.example","x")'


@dataclass
class Scene:
    client: httpx.AsyncClient
    simulation_id: int
    # By the name each candidate was invited with.
    sessions: dict[str, CandidateSession]
    # Tokens: Ann, Ben and Cy review; Dee is a recruiter of the company who has not; Otto
    # is another company's recruiter.
    headers: dict[str, dict[str, str]]

    async def comparison(self, reader: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/api/simulations/{self.simulation_id}/comparison", headers=self.headers[reader]
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def csv_rows(self, reader: str) -> list[dict[str, str]]:
        response = await self.client.get(
            f"/api/simulations/{self.simulation_id}/comparison.csv", headers=self.headers[reader]
        )
        assert response.status_code == 200, response.text
        return list(csv.DictReader(io.StringIO(response.text)))

    def row(self, body: dict[str, Any], name: str) -> dict[str, Any]:
        cs_id = self.sessions[name].id
        found: dict[str, Any] = next(
            row for row in body["candidates"] if row["candidateSessionId"] == cs_id
        )
        return found


@pytest.fixture
async def scene(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> Scene:
    """A rubric weighing `a` 3 and `b` 1; levels (a, b) per reviewer:

    | candidate | Ann    | Ben    | Cy     | weighted (a*3 + b) / 4   |
    | Grace     | (4, 2) | (3, 3) |        | 3.5, 3.0 -> 3.25         |
    | Linus     | (2, 4) | (4, 4) |        | 2.5, 4.0 -> 3.25         |
    | Hopper    | (4, 4) |        |        | 4.0                      |
    | Ritchie   | (1, 1) |        |        | 1.0                      |
    | Hidden    | draft  | (1, 4) | (4, 1) | Ann has not submitted    |
    | Nobody    |        |        |        | no scorecards            |
    """
    ours, theirs = await create_company(db_session), await create_company(db_session)
    people = {}
    headers = {}
    for name in ("Ann", "Ben", "Cy", "Dee", "Otto"):
        email = f"{name.lower()}@comparison.example"
        company = theirs if name == "Otto" else ours
        people[name] = await create_recruiter(db_session, company, email=email, name=name)
        headers[name] = bearer(idp.token(subject=f"auth0|{name.lower()}", email=email))
    simulation = await create_simulation(db_session, ours, title="Comparison simulation")
    rubric = await add_rubric(db_session, simulation, [criterion("a", 3), criterion("b", 1)])
    sessions = {
        name: await create_candidate_session(
            db_session,
            simulation,
            candidate_name=INJECTED_NAME if name == "Ritchie" else name,
            invite_email=f"{name.lower()}@candidates.example",
            status="completed",
        )
        for name in ("Grace", "Linus", "Hopper", "Ritchie", "Hidden", "Nobody")
    }
    scores = {
        ("Grace", "Ann"): (4, 2, "strong_yes"),
        ("Grace", "Ben"): (3, 3, "yes"),
        ("Linus", "Ann"): (2, 4, "no"),
        ("Linus", "Ben"): (4, 4, "strong_yes"),
        ("Hopper", "Ann"): (4, 4, "strong_yes"),
        ("Ritchie", "Ann"): (1, 1, "strong_no"),
        ("Hidden", "Ben"): (1, 4, "no"),
        ("Hidden", "Cy"): (4, 1, "yes"),
    }
    for (candidate, reviewer), (a, b, recommendation) in scores.items():
        await add_scorecard(
            db_session,
            sessions[candidate],
            people[reviewer],
            rubric,
            {"a": a, "b": b},
            recommendation=recommendation,
        )
    await add_scorecard(
        db_session, sessions["Hidden"], people["Ann"], rubric, {"a": 4, "b": 4}, submitted=False
    )
    return Scene(client=client, simulation_id=simulation.id, sessions=sessions, headers=headers)


def _alpha(matrix: list[list[float]]) -> float:
    data = np.array(matrix, dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"))


async def test_candidates_are_ranked_by_weighted_score(scene: Scene) -> None:
    body = await scene.comparison("Ann")
    assert body["simulationId"] == scene.simulation_id
    order = [row["candidateSessionId"] for row in body["candidates"]]
    names = ("Hopper", "Grace", "Linus", "Ritchie", "Hidden", "Nobody")
    assert order == [scene.sessions[name].id for name in names]
    # Grace and Linus tie at 3.25 and share rank 2; Ritchie is 4th; the rest are unranked.
    assert [row["rank"] for row in body["candidates"]] == [1, 2, 2, 4, None, None]
    assert [row["weightedScore"] for row in body["candidates"]] == pytest.approx(
        [4.0, 3.25, 3.25, 1.0, None, None]
    )
    grace = scene.row(body, "Grace")
    assert grace == {
        "rank": 2,
        "candidateSessionId": scene.sessions["Grace"].id,
        "candidateName": "Grace",
        "inviteEmail": "grace@candidates.example",
        "status": "completed",
        "submittedCount": 2,
        "revealed": True,
        # Ann (4*3 + 2) / 4 = 3.5, Ben (3*3 + 3) / 4 = 3.0.
        "weightedScore": 3.25,
        "spread": 0.5,
        "recommendations": {"strongNo": 0, "no": 0, "yes": 1, "strongYes": 1},
        "criteria": [{"key": "a", "mean": 3.5}, {"key": "b", "mean": 2.5}],
        "similarity": None,
    }
    assert scene.row(body, "Linus")["spread"] == 1.5


async def test_a_session_the_reader_has_not_scored_shows_no_scores(scene: Scene) -> None:
    body = await scene.comparison("Ann")
    # Ann's draft does not reveal Ben's and Cy's scorecards of Hidden.
    hidden = scene.row(body, "Hidden")
    assert hidden["submittedCount"] == 2
    assert hidden["revealed"] is False
    for field in ("rank", "weightedScore", "spread", "recommendations", "criteria"):
        assert hidden[field] is None, field
    nobody = scene.row(body, "Nobody")
    assert (nobody["submittedCount"], nobody["revealed"]) == (0, False)
    assert nobody["weightedScore"] is None


async def test_each_reader_sees_the_sessions_they_scored(scene: Scene) -> None:
    body = await scene.comparison("Ben")
    revealed = {row["candidateName"] for row in body["candidates"] if row["revealed"]}
    assert revealed == {"Grace", "Linus", "Hidden"}
    # Hidden: Ben (1*3 + 4) / 4 = 1.75, Cy (4*3 + 1) / 4 = 3.25 -> 2.5.
    assert scene.row(body, "Hidden")["weightedScore"] == 2.5
    assert [row["candidateName"] for row in body["candidates"][:3]] == ["Grace", "Linus", "Hidden"]


async def test_agreement_rests_on_the_revealed_sessions_only(scene: Scene) -> None:
    body = await scene.comparison("Ann")
    # Units scored by two reviewers among Ann's revealed sessions: Grace a, Grace b, Linus a,
    # Linus b (Hopper and Ritchie have one reviewer each; Hidden is not revealed to Ann).
    revealed = _alpha([[4, 2, 2, 4], [3, 3, 4, 4]])
    assert body["agreement"] == {"alpha": pytest.approx(revealed), "units": 4, "reviewers": 2}
    # Hidden's units would have changed it.
    with_hidden = _alpha([[4, 2, 2, 4, np.nan, np.nan], [3, 3, 4, 4, 1, 4], [np.nan] * 4 + [4, 1]])
    assert revealed != pytest.approx(with_hidden)

    ben = await scene.comparison("Ben")
    assert ben["agreement"] == {"alpha": pytest.approx(with_hidden), "units": 6, "reviewers": 3}


async def test_a_recruiter_who_scored_nothing_sees_counts_only(scene: Scene) -> None:
    body = await scene.comparison("Dee")
    assert body["agreement"] == {"alpha": None, "units": 0, "reviewers": 0}
    for row in body["candidates"]:
        assert row["revealed"] is False
        assert row["rank"] is row["weightedScore"] is row["criteria"] is None
    assert [row["submittedCount"] for row in body["candidates"]] == [2, 2, 1, 1, 2, 0]
    for row in await scene.csv_rows("Dee"):
        assert row["revealed"] == "no"
        scores = {k: v for k, v in row.items() if k not in _IDENTITY_COLUMNS}
        assert set(scores.values()) == {""}, row
    # Without revealed rows there are no per-criterion columns either.
    assert not any(key.startswith("mean_") for key in (await scene.csv_rows("Dee"))[0])


_IDENTITY_COLUMNS = {
    "candidate_session_id",
    "candidate_name",
    "invite_email",
    "status",
    "submitted_count",
    "revealed",
}


async def test_the_csv_has_the_comparisons_rows(scene: Scene) -> None:
    response = await scene.client.get(
        f"/api/simulations/{scene.simulation_id}/comparison.csv", headers=scene.headers["Ann"]
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="comparison-{scene.simulation_id}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["candidate_session_id"] for row in rows] == [
        str(scene.sessions[name].id)
        for name in ("Hopper", "Grace", "Linus", "Ritchie", "Hidden", "Nobody")
    ]
    assert rows[1] == {
        "rank": "2",
        "candidate_session_id": str(scene.sessions["Grace"].id),
        "candidate_name": "Grace",
        "invite_email": "grace@candidates.example",
        "status": "completed",
        "submitted_count": "2",
        "revealed": "yes",
        "weighted_score": "3.250",
        "spread": "0.500",
        "recommendations_strong_no": "0",
        "recommendations_no": "0",
        "recommendations_yes": "1",
        "recommendations_strong_yes": "1",
        "mean_a": "3.500",
        "mean_b": "2.500",
        "similarity_max_score": "",
        "similarity_other_candidate_session_id": "",
        "similarity_other_candidate_name": "",
    }
    # A name a spreadsheet would run as a formula is written as text.
    assert rows[3]["candidate_name"] == "'" + INJECTED_NAME
    hidden = rows[4]
    assert (hidden["revealed"], hidden["submitted_count"]) == ("no", "2")
    assert hidden["weighted_score"] == hidden["mean_a"] == hidden["recommendations_no"] == ""


@pytest.mark.parametrize("path", ["comparison", "comparison.csv"])
async def test_another_companys_recruiter_gets_404(scene: Scene, path: str) -> None:
    response = await scene.client.get(
        f"/api/simulations/{scene.simulation_id}/{path}", headers=scene.headers["Otto"]
    )
    body = assert_problem(response, 404, "SIMULATION_NOT_FOUND")
    assert "Comparison simulation" not in response.text
    assert "Grace" not in str(body)


async def test_scorecards_scored_through_the_routes_are_compared(
    world: World, db_session: AsyncSession
) -> None:
    review = await review_scene(world, db_session)
    criteria = (await review.rubric())["criteria"]
    weights = [criterion["weight"] for criterion in criteria]
    await review.score("bea", level=2, recommendation="no")
    # Carl: 4 on the first criterion, 1 on the others; then an edit raises the last to 3.
    levels = [4] + [1] * (len(criteria) - 1)
    entries = [
        {"criterionKey": criterion["key"], "level": level}
        for criterion, level in zip(criteria, levels, strict=True)
    ]
    assert (await review.save("carl", entries, "yes")).status_code == 200
    assert (await review.submit("carl")).status_code == 200
    entries[-1]["level"] = levels[-1] = 3
    assert (await review.save("carl", entries, "strong_yes")).status_code == 200

    url = f"/api/simulations/{review.simulation_id}/comparison"
    owner = (await review.client.get(url, headers=review.headers["rita"])).json()
    [row] = owner["candidates"]
    assert (row["revealed"], row["submittedCount"], row["weightedScore"]) == (False, 2, None)

    [row] = (await review.client.get(url, headers=review.headers["bea"])).json()["candidates"]
    carl = sum(w * level for w, level in zip(weights, levels, strict=True)) / sum(weights)
    assert row["weightedScore"] == pytest.approx((2.0 + carl) / 2)
    assert row["spread"] == pytest.approx(abs(carl - 2.0))
    assert row["rank"] == 1
    assert row["recommendations"] == {"strongNo": 0, "no": 1, "yes": 0, "strongYes": 1}
    assert [c["key"] for c in row["criteria"]] == [c["key"] for c in criteria]
