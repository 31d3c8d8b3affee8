import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Expense, Group, Share } from "../src/lib/api.ts";
import {
  initialLedger,
  ledgerReducer,
  totalSpent,
  type Ledger,
  type LedgerAction,
} from "../src/lib/ledger-state.ts";

const group: Group = { id: 1, name: "Flat 3B", members: ["Ana", "Ben"] };

function expense(id: number, amountCents: number): Expense {
  return {
    id,
    groupId: 1,
    description: `#${id}`,
    amountCents,
    paidBy: "Ana",
    shares: [
      { member: "Ana", cents: amountCents / 2 },
      { member: "Ben", cents: amountCents / 2 },
    ],
  };
}

const square: Share[] = [
  { member: "Ana", cents: 0 },
  { member: "Ben", cents: 0 },
];
const owing = (cents: number): Share[] => [
  { member: "Ana", cents },
  { member: "Ben", cents: -cents },
];

function run(...actions: LedgerAction[]): Ledger {
  return actions.reduce(ledgerReducer, initialLedger);
}

const loaded: LedgerAction = {
  type: "loaded",
  group,
  expenses: [expense(1, 1000), expense(3, 600), expense(2, 400)],
  balances: owing(1000),
};

describe("the group page's state", () => {
  it("shows expenses newest first and adds new ones on top", () => {
    const state = run(loaded, {
      type: "expenseAdded",
      expense: expense(4, 200),
      balances: owing(1100),
    });
    assert.equal(state.status, "ready");
    assert.deepEqual(
      state.expenses.map((item) => item.id),
      [4, 3, 2, 1],
    );
    assert.deepEqual(state.balances, owing(1100));
    assert.equal(totalSpent(state.expenses), 2200);
  });

  it("removes an expense once the API agrees", () => {
    const removing = run(loaded, { type: "removeStarted", expenseId: 3 });
    assert.deepEqual(removing.removing, [3]);
    assert.equal(removing.expenses.length, 3);

    const removed = ledgerReducer(removing, {
      type: "removeSucceeded",
      expenseId: 3,
      balances: square,
    });
    assert.deepEqual(
      removed.expenses.map((item) => item.id),
      [2, 1],
    );
    assert.deepEqual(removed.removing, []);
    assert.deepEqual(removed.balances, square);
  });

  it("keeps an expense the API would not remove, and says why", () => {
    const state = run(
      loaded,
      { type: "removeStarted", expenseId: 2 },
      { type: "removeStarted", expenseId: 1 },
      { type: "removeFailed", expenseId: 2, message: "expense not found" },
    );
    assert.deepEqual(state.removing, [1]);
    assert.equal(state.expenses.length, 3);
    assert.equal(state.error, "expense not found");
    assert.equal(ledgerReducer(state, { type: "removeStarted", expenseId: 2 }).error, null);
  });

  it("reports a group that could not be loaded", () => {
    const state = run({ type: "loadFailed", message: "group not found" });
    assert.deepEqual([state.status, state.group, state.error], ["failed", null, "group not found"]);
  });
});
