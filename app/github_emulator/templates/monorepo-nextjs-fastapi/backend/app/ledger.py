"""The money rules: how an expense is shared, what everyone's balance is, how to settle up.

All amounts are whole cents, so nothing is lost to rounding: shares add up to the amount
exactly and balances add up to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.models import Expense


def split_evenly(amount_cents: int, members: Sequence[str]) -> dict[str, int]:
    """Equal shares in whole cents; the cents left over go one each to the first members."""
    base, leftover = divmod(amount_cents, len(members))
    return {member: base + (1 if index < leftover else 0) for index, member in enumerate(members)}


def balances(members: Sequence[str], expenses: Iterable[Expense]) -> dict[str, int]:
    """What each member paid minus their shares: positive when the group owes them."""
    totals = dict.fromkeys(members, 0)
    for expense in expenses:
        totals[expense.paid_by] += expense.amount_cents
        for member, share in expense.shares.items():
            totals[member] -= share
    return totals


def settlements(balances: dict[str, int]) -> list[tuple[str, str, int]]:
    """Transfers (debtor, creditor, cents) that bring every balance to zero.

    The member who owes the most pays the member owed the most, as much as settles one of
    them, until no one owes anything: never more transfers than members minus one. Ties go
    to the member listed first.
    """
    debts = {member: -cents for member, cents in balances.items() if cents < 0}
    credits = {member: cents for member, cents in balances.items() if cents > 0}
    transfers = []
    while debts and credits:
        debtor = max(debts, key=debts.__getitem__)
        creditor = max(credits, key=credits.__getitem__)
        cents = min(debts[debtor], credits[creditor])
        transfers.append((debtor, creditor, cents))
        for book, member in ((debts, debtor), (credits, creditor)):
            book[member] -= cents
            if book[member] == 0:
                del book[member]
    return transfers
