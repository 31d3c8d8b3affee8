"""The recruiter's partner keys for Greenhouse: create (the key shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.ats import service
from app.ats.schemas import PartnerKeyCreated, PartnerKeyList
from app.ats.service import PARTNER_KEY_NOT_FOUND
from app.auth.dependencies import RecruiterUser
from app.core.clock import CurrentClock
from app.core.db import DbReader, DbSession
from app.core.openapi import raises
from app.core.schemas import EntityId
from app.services import CurrentServices

router = APIRouter(prefix="/integrations/greenhouse/keys", tags=["ats"])


@router.post("", response_model=PartnerKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_greenhouse_key(
    recruiter: RecruiterUser, session: DbSession, services: CurrentServices
) -> PartnerKeyCreated:
    """Create a Greenhouse partner key for your company; the key is shown this once."""
    return await service.create_key(session, recruiter, "greenhouse", cipher=services.token_cipher)


@router.get("", response_model=PartnerKeyList)
async def list_greenhouse_keys(recruiter: RecruiterUser, session: DbReader) -> PartnerKeyList:
    """List your company's Greenhouse partner keys (never the keys themselves)."""
    return await service.list_keys(session, recruiter, "greenhouse")


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
@raises(PARTNER_KEY_NOT_FOUND)
async def revoke_greenhouse_key(
    key_id: EntityId, recruiter: RecruiterUser, session: DbSession, clock: CurrentClock
) -> None:
    """Revoke a Greenhouse partner key: Greenhouse's calls with it are refused from now on."""
    await service.revoke_key(session, recruiter, "greenhouse", key_id, now=clock.now())
