import assert from "node:assert/strict";
import { test } from "node:test";

import { validateExpense, validateGroup } from "../lib/validation";

const members = ["Ana", "Ben", "Cy"];

test("a valid expense becomes the API's body, shared in the group's order", () => {
  const result = validateExpense(
    { description: "  Groceries ", amount: "24.10", paidBy: "Ben", splitBetween: ["Cy", "Ana"] },
    members,
  );

  assert.deepEqual(result, {
    ok: true,
    value: {
      description: "Groceries",
      amount_cents: 2410,
      paid_by: "Ben",
      split_between: ["Ana", "Cy"],
    },
  });
});

test("every invalid field of an expense is reported", () => {
  const result = validateExpense(
    { description: " ", amount: "12.345", paidBy: "Dee", splitBetween: ["Dee"] },
    members,
  );

  assert.equal(result.ok, false);
  assert.deepEqual(Object.keys(result.ok ? {} : result.errors).sort(), [
    "amount",
    "description",
    "paidBy",
    "splitBetween",
  ]);
});

test("an expense amount is more than 0 and at most 100,000.00", () => {
  const draft = { description: "Rent", paidBy: "Ana", splitBetween: members };
  assert.equal(validateExpense({ ...draft, amount: "0" }, members).ok, false);
  assert.equal(validateExpense({ ...draft, amount: "100000.01" }, members).ok, false);
  assert.equal(validateExpense({ ...draft, amount: "100000" }, members).ok, true);
});

test("a group's members are read from lines or commas, each once", () => {
  assert.deepEqual(validateGroup({ name: " Flat 4B ", members: "Ana, Ben\n Cy \n" }), {
    ok: true,
    value: { name: "Flat 4B", members: ["Ana", "Ben", "Cy"] },
  });
  assert.deepEqual(validateGroup({ name: "Flat", members: "Ana" }), {
    ok: false,
    errors: { members: "Between 2 and 12 members" },
  });
  assert.deepEqual(validateGroup({ name: "", members: "Ana, ana" }), {
    ok: false,
    errors: { name: "Required", members: "Each member once" },
  });
});
