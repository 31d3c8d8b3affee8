from __future__ import annotations

from fastapi.testclient import TestClient


def add(client: TestClient, group: int, **body: object) -> dict[str, object]:
    response = client.post(f"/groups/{group}/expenses", json=body)
    assert response.status_code == 201, response.text
    expense: dict[str, object] = response.json()
    return expense


def test_an_expense_is_shared_by_everyone_by_default(client: TestClient, flat: int) -> None:
    expense = add(client, flat, description=" Groceries ", amount_cents=2400, paid_by="Ana")

    assert expense["description"] == "Groceries"
    assert expense["shares"] == {"Ana": 800, "Ben": 800, "Cy": 800}


def test_leftover_cents_go_one_each_to_the_first_members(client: TestClient, flat: int) -> None:
    expense = add(client, flat, description="Pizza", amount_cents=1000, paid_by="Cy")

    assert expense["shares"] == {"Ana": 334, "Ben": 333, "Cy": 333}


def test_only_the_members_it_is_split_between_share_it(client: TestClient, flat: int) -> None:
    # Listed out of order: shares still follow the group's order.
    taxi = {"description": "Taxi", "amount_cents": 1501, "paid_by": "Ana"}
    expense = add(client, flat, **taxi, split_between=["Cy", "Ben"])

    assert expense["shares"] == {"Ben": 751, "Cy": 750}


def test_an_expense_naming_someone_outside_the_group_is_refused(
    client: TestClient, flat: int
) -> None:
    stranger_paid = {"description": "Wine", "amount_cents": 900, "paid_by": "Dee"}
    stranger_shares = {**stranger_paid, "paid_by": "Ana", "split_between": ["Ana", "Dee"]}

    for body in (stranger_paid, stranger_shares):
        response = client.post(f"/groups/{flat}/expenses", json=body)
        assert response.status_code == 422
        assert "'Dee' is not a member" in response.json()["detail"]
    assert client.get(f"/groups/{flat}/expenses").json() == []


def test_amounts_are_whole_positive_cents_up_to_100000(client: TestClient, flat: int) -> None:
    base = {"description": "Rent", "paid_by": "Ana"}
    for amount in (0, -500, 10_000_001, 12.5, "lots"):
        response = client.post(f"/groups/{flat}/expenses", json={**base, "amount_cents": amount})
        assert response.status_code == 422, amount
    assert add(client, flat, **base, amount_cents=10_000_000)["amount_cents"] == 10_000_000


def test_expenses_are_listed_newest_first(client: TestClient, flat: int) -> None:
    for description in ("Bread", "Coffee", "Soap"):
        add(client, flat, description=description, amount_cents=300, paid_by="Ben")

    listed = client.get(f"/groups/{flat}/expenses").json()

    assert [expense["description"] for expense in listed] == ["Soap", "Coffee", "Bread"]
