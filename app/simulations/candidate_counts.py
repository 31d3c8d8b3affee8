"""How many candidates each simulation has, which the simulation list shows.

Candidate sessions sit above simulations, so simulations do not count them: candidate
sessions provide the count, `app.assembly.candidate_counts()` hands it over, and the list
route gets it from `app.state` (`CurrentCandidateCounts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession


class CandidateCounts(Protocol):
    async def __call__(
        self, session: AsyncSession, simulation_ids: Sequence[int]
    ) -> Mapping[int, int]:
        """The number of candidate sessions, in any status, of each simulation that has any."""
        ...


def _candidate_counts_of(request: Request) -> CandidateCounts:
    counts: CandidateCounts = request.app.state.candidate_counts
    return counts


CurrentCandidateCounts = Annotated[CandidateCounts, Depends(_candidate_counts_of)]
