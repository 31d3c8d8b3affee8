"""Who is calling: the authenticated principal and the permissions that gate the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RECRUITER_ACCESS = "recruiter:access"
CANDIDATE_ACCESS = "candidate:access"

PrincipalSource = Literal["auth0", "dev"]


@dataclass(frozen=True)
class Principal:
    subject: str
    email: str | None
    email_verified: bool
    permissions: frozenset[str]
    source: PrincipalSource

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def roles(self) -> list[str]:
        return sorted(p.removesuffix(":access") for p in self.permissions if p.endswith(":access"))

    @property
    def verified_email(self) -> str | None:
        """The email, lower-cased, only when the identity provider verified it."""
        return self.email.lower() if self.email and self.email_verified else None
