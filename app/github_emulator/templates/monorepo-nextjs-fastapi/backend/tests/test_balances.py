from __future__ import annotations

from fastapi.testclient import TestClient

from app.ledger import settlements


def add(client: TestClient, group: int, amount_cents: int, paid_by: str, **extra: object) -> None:
    body = {"description": "shared", "amount_cents": amount_cents, "paid_by": paid_by, **extra}
    assert client.post(f"/groups/{group}/expenses", json=body).status_code == 201


def balances_of(client: TestClient, group: int) -> dict[str, int]:
    sheet = client.get(f"/groups/{group}/balances").json()
    return {balance["member"]: balance["cents"] for balance in sheet["balances"]}


def test_a_new_group_is_settled_up(client: TestClient, flat: int) -> None:
    sheet = client.get(f"/groups/{flat}/balances").json()

    assert sheet["balances"] == [
        {"member": "Ana", "cents": 0},
        {"member": "Ben", "cents": 0},
        {"member": "Cy", "cents": 0},
    ]
    assert sheet["settlements"] == []


def test_the_payer_is_owed_everyone_elses_share(client: TestClient, flat: int) -> None:
    add(client, flat, 3000, "Ana")

    assert balances_of(client, flat) == {"Ana": 2000, "Ben": -1000, "Cy": -1000}


def test_balances_always_add_up_to_zero(client: TestClient, flat: int) -> None:
    add(client, flat, 1000, "Ana")
    add(client, flat, 2999, "Ben", split_between=["Ben", "Cy"])
    add(client, flat, 701, "Cy", split_between=["Ana"])

    balances = balances_of(client, flat)

    assert balances == {"Ana": -35, "Ben": 1166, "Cy": -1131}
    assert sum(balances.values()) == 0


def test_the_suggested_transfers_settle_every_balance(client: TestClient, flat: int) -> None:
    add(client, flat, 9000, "Ana")
    add(client, flat, 1500, "Ben")

    sheet = client.get(f"/groups/{flat}/balances").json()
    remaining = balances_of(client, flat)
    for transfer in sheet["settlements"]:
        remaining[transfer["debtor"]] += transfer["cents"]
        remaining[transfer["creditor"]] -= transfer["cents"]

    assert sheet["settlements"] == [
        {"debtor": "Cy", "creditor": "Ana", "cents": 3500},
        {"debtor": "Ben", "creditor": "Ana", "cents": 2000},
    ]
    assert set(remaining.values()) == {0}


def test_the_biggest_debtor_pays_the_biggest_creditor_first() -> None:
    balances = {"Ana": 500, "Ben": -200, "Cy": 700, "Dee": -1000}

    assert settlements(balances) == [
        ("Dee", "Cy", 700),
        ("Dee", "Ana", 300),
        ("Ben", "Ana", 200),
    ]
    assert settlements({"Ana": 0, "Ben": 0}) == []
