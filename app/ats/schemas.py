"""Request and response models: the recruiter's partner keys (camelCase, like the rest of
the API) and Greenhouse's Assessment Partner API (snake_case, as Greenhouse sends and
reads them; fields it may add later are ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, EmailStr, Field, StringConstraints, model_validator
from typing_extensions import TypeAliasType

from app.ats.models import AtsSystem
from app.core.schemas import ApiModel, example

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
_Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
_NAME_LIMIT = 200


# A test's state as Greenhouse is told it (docs/ats.md has the mapping); Greenhouse acts on
# `complete` alone and shows the others as they are.
GreenhousePartnerStatus = TypeAliasType(
    "GreenhousePartnerStatus",
    Literal["pending", "in_progress", "complete", "expired", "cancelled"],
)


class PartnerKeyOut(ApiModel):
    model_config = example(
        {
            "id": 7,
            "system": "greenhouse",
            "prefix": "tgh_Q3vZ",
            "last4": "x9Kf",
            "createdAt": "2026-12-01T09:00:00Z",
            "lastUsedAt": "2026-12-02T10:15:00Z",
            "revokedAt": None,
        }
    )

    id: int
    system: AtsSystem
    # The key's first and last characters: enough to tell keys apart, not to use one.
    prefix: str
    last4: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class PartnerKeyCreated(PartnerKeyOut):
    model_config = example(
        {
            "id": 7,
            "system": "greenhouse",
            "prefix": "tgh_Q3vZ",
            "last4": "x9Kf",
            "createdAt": "2026-12-01T09:00:00Z",
            "lastUsedAt": None,
            "revokedAt": None,
            "key": "tgh_Q3vZ…x9Kf",
        }
    )

    key: str = Field(description="The key itself: shown this once, never again.")


class PartnerKeyList(ApiModel):
    items: list[PartnerKeyOut]


class _Greenhouse(ApiModel):
    # Greenhouse's own (snake_case) names on the wire.
    model_config = ConfigDict(alias_generator=None, extra="ignore")


class GreenhouseTest(_Greenhouse):
    partner_test_id: str
    partner_test_name: str


class GreenhouseCandidate(_Greenhouse):
    first_name: _Text
    last_name: _Text
    preferred_name: _Text | None = None
    email: EmailStr
    phone_number: str | None = None
    resume_url: str | None = None
    # https://app.greenhouse.io/people/{person id}?application_id={application id}
    greenhouse_profile_url: _Url | None = None

    @model_validator(mode="after")
    def _full_name_fits(self) -> Self:
        # The invite's candidate name is "first last", held to the invite's own limit.
        if len(self.full_name) > _NAME_LIMIT:
            raise ValueError(f"first_name and last_name together exceed {_NAME_LIMIT} characters")
        return self

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class GreenhouseSendTest(_Greenhouse):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner_test_id": "12",
                    "candidate": {
                        "first_name": "Harry",
                        "last_name": "Potter",
                        "preferred_name": "The Chosen One",
                        "email": "hpotter@hogwarts.edu",
                        "phone_number": "123-456-7890",
                        "resume_url": "https://hogwarts.com/resume",
                        "greenhouse_profile_url": (
                            "https://app.greenhouse.io/people/17681532?application_id=26234709"
                        ),
                    },
                    "sent_by": "test_sender@example.org",
                    "url": (
                        "https://app.greenhouse.io/integrations/testing_partners/"
                        "take_home_tests/12345"
                    ),
                }
            ]
        },
    )

    # ASCII digits: the pattern's \d would take any script's digits.
    partner_test_id: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,18}$")
    ]
    candidate: GreenhouseCandidate
    sent_by: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] | None = None
    # Where Tenon PATCHes when the test is complete: it identifies the test instance.
    url: _Url


class GreenhouseSendTestResult(_Greenhouse):
    partner_interview_id: str


class GreenhouseTestStatus(_Greenhouse):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner_status": "complete",
                    "partner_profile_url": "https://app.tenon.dev/dashboard/simulations/12/candidates/412",
                    "partner_score": 81,
                    "metadata": {"Completed At": "2026-12-05T16:20:00+00:00"},
                }
            ]
        },
    )

    partner_status: GreenhousePartnerStatus
    partner_profile_url: str
    partner_score: int | None
    # Flat, every value a string (Greenhouse shows them as they are).
    metadata: dict[str, str]
