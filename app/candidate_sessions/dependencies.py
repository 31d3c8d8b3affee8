"""Request dependencies of the candidate's task routes (runs, workspaces, submissions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from app.core.schemas import EntityId

CandidateSessionHeader = Annotated[
    EntityId, Header(alias="x-candidate-session-id", description="The caller's session.")
]
