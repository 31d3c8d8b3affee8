import assert from "node:assert/strict";
import { test } from "node:test";

import { groupReducer, initialGroupState } from "../lib/groupState";
import type { BalanceSheet, Expense, Group } from "../lib/types";

const group: Group = { id: 1, name: "Flat 4B", members: ["Ana", "Ben"] };
const settled: BalanceSheet = {
  balances: [
    { member: "Ana", cents: 0 },
    { member: "Ben", cents: 0 },
  ],
  settlements: [],
};

function expense(id: number, description: string): Expense {
  return { id, description, amount_cents: 200, paid_by: "Ana", shares: { Ana: 100, Ben: 100 } };
}

test("a new expense goes on top and brings the new balances", () => {
  const loaded = groupReducer(initialGroupState, {
    type: "loaded",
    group,
    expenses: [expense(1, "Bread")],
    sheet: settled,
  });
  const owing: BalanceSheet = {
    balances: [
      { member: "Ana", cents: 100 },
      { member: "Ben", cents: -100 },
    ],
    settlements: [{ debtor: "Ben", creditor: "Ana", cents: 100 }],
  };

  const state = groupReducer(loaded, {
    type: "expenseAdded",
    expense: expense(2, "Soap"),
    sheet: owing,
  });

  assert.equal(state.status, "ready");
  assert.deepEqual(
    state.expenses.map((item) => item.description),
    ["Soap", "Bread"],
  );
  assert.equal(state.sheet, owing);
});

test("a failure keeps the loaded group on screen, and fails the page only before it loads", () => {
  const loaded = groupReducer(initialGroupState, {
    type: "loaded",
    group,
    expenses: [],
    sheet: settled,
  });

  const refused = groupReducer(loaded, {
    type: "failed",
    error: "'Dee' is not a member of this group",
  });
  const unreachable = groupReducer(initialGroupState, {
    type: "failed",
    error: "cannot be reached",
  });

  assert.equal(refused.status, "ready");
  assert.equal(refused.group, group);
  assert.equal(refused.error, "'Dee' is not a member of this group");
  assert.equal(unreachable.status, "failed");
});
