"""The HTTP API of Kitty, a shared-expenses service for a flat or a trip."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, status

from app import ledger
from app.models import Balance, BalanceSheet, Expense, ExpenseIn, Group, GroupIn, Transfer
from app.store import GroupRecord, Store, UnknownMember


def create_app() -> FastAPI:
    app = FastAPI(title="Kitty API")
    store = Store()

    def record_of(group_id: int) -> GroupRecord:
        try:
            return store.get(group_id)
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "group not found") from None

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/groups", status_code=status.HTTP_201_CREATED)
    def create_group(body: GroupIn) -> Group:
        return store.create_group(body)

    @app.get("/groups/{group_id}")
    def get_group(group_id: int) -> Group:
        return record_of(group_id).group

    @app.post("/groups/{group_id}/expenses", status_code=status.HTTP_201_CREATED)
    def add_expense(group_id: int, body: ExpenseIn) -> Expense:
        record_of(group_id)
        try:
            return store.add_expense(group_id, body)
        except UnknownMember as exc:
            raise HTTPException(422, str(exc)) from None

    @app.get("/groups/{group_id}/expenses")
    def list_expenses(group_id: int) -> list[Expense]:
        return list(reversed(record_of(group_id).expenses))

    @app.get("/groups/{group_id}/balances")
    def balance_sheet(group_id: int) -> BalanceSheet:
        record = record_of(group_id)
        totals = ledger.balances(record.group.members, record.expenses)
        return BalanceSheet(
            balances=[Balance(member=member, cents=cents) for member, cents in totals.items()],
            settlements=[
                Transfer(debtor=debtor, creditor=creditor, cents=cents)
                for debtor, creditor, cents in ledger.settlements(totals)
            ],
        )

    return app


app = create_app()
