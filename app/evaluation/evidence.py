"""INTERFACE STUB (replaced by the evidence helper's implementation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.evaluation.schemas import Evidence
from app.integrations.github.client import GitHubClient


@dataclass(frozen=True)
class EvidenceProblem:
    """Why one evidence item did not verify: `code` is one of EVIDENCE_REF_INVALID,
    EVIDENCE_SOURCE_NOT_FOUND, EVIDENCE_QUOTE_NOT_FOUND, EVIDENCE_SPAN_INVALID,
    EVIDENCE_KIND_UNAVAILABLE; `message` says it in a sentence naming the ref."""

    code: str
    message: str


async def verify_evidence(
    session: AsyncSession,
    github: GitHubClient | None,
    cs_id: int,
    items: Sequence[Evidence],
) -> list[EvidenceProblem | None]:
    """One result per item, in order: None when it verified."""
    raise NotImplementedError
