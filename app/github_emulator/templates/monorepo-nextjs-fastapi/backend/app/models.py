"""Request and response models of the Kitty API, with the input rules."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MemberName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
# 100,000.00 in cents: anything bigger is a typo, not a flat's shopping.
MAX_AMOUNT_CENTS = 10_000_000


def _distinct(names: list[str]) -> list[str]:
    """The names, unless one is listed twice (ignoring case)."""
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise ValueError(f"{name!r} is listed twice")
        seen.add(name.casefold())
    return names


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    members: list[MemberName] = Field(min_length=2, max_length=12)

    @field_validator("members")
    @classmethod
    def members_are_distinct(cls, names: list[str]) -> list[str]:
        return _distinct(names)


class Group(BaseModel):
    id: int
    name: str
    members: list[str]


class ExpenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
    ]
    amount_cents: int = Field(gt=0, le=MAX_AMOUNT_CENTS)
    paid_by: str
    # None: everyone in the group shares the expense.
    split_between: list[str] | None = Field(default=None, min_length=1)

    @field_validator("split_between")
    @classmethod
    def sharing_members_are_distinct(cls, names: list[str] | None) -> list[str] | None:
        return None if names is None else _distinct(names)


class Expense(BaseModel):
    id: int
    description: str
    amount_cents: int
    paid_by: str
    # What each member's part of the expense is, in cents; the parts add up to the amount.
    shares: dict[str, int]


class Balance(BaseModel):
    member: str
    # Positive: the group owes this member; negative: the member owes the group.
    cents: int


class Transfer(BaseModel):
    debtor: str
    creditor: str
    cents: int


class BalanceSheet(BaseModel):
    balances: list[Balance]
    settlements: list[Transfer]
