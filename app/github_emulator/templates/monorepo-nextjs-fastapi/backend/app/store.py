"""Groups and their expenses, in memory: every restart starts empty."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.ledger import split_evenly
from app.models import Expense, ExpenseIn, Group, GroupIn


class UnknownMember(ValueError):
    """An expense names someone who is not in the group."""


@dataclass
class GroupRecord:
    group: Group
    expenses: list[Expense] = field(default_factory=list)


class Store:
    def __init__(self) -> None:
        self._groups: dict[int, GroupRecord] = {}

    def create_group(self, body: GroupIn) -> Group:
        group = Group(id=len(self._groups) + 1, name=body.name, members=body.members)
        self._groups[group.id] = GroupRecord(group)
        return group

    def get(self, group_id: int) -> GroupRecord:
        """The group's record; KeyError when there is none."""
        return self._groups[group_id]

    def add_expense(self, group_id: int, body: ExpenseIn) -> Expense:
        record = self.get(group_id)
        members = record.group.members
        sharing = members if body.split_between is None else body.split_between
        for name in (body.paid_by, *sharing):
            if name not in members:
                raise UnknownMember(f"{name!r} is not a member of this group")
        # Shares follow the group's order, so the leftover cents always go the same way.
        ordered = [member for member in members if member in sharing]
        expense = Expense(
            id=len(record.expenses) + 1,
            description=body.description,
            amount_cents=body.amount_cents,
            paid_by=body.paid_by,
            shares=split_evenly(body.amount_cents, ordered),
        )
        record.expenses.append(expense)
        return expense
