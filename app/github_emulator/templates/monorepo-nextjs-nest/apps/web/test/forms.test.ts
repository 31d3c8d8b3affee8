import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Group } from "../src/lib/api.ts";
import {
  checkExpenseForm,
  checkGroupForm,
  emptyExpenseForm,
  type ExpenseForm,
} from "../src/lib/forms.ts";

const group: Group = { id: 7, name: "Lisbon trip", members: ["Ana", "Ben", "Cy"] };

function expense(changes: Partial<ExpenseForm>) {
  return checkExpenseForm({ ...emptyExpenseForm(group), ...changes }, group);
}

describe("the group form", () => {
  it("reads the members from lines or commas", () => {
    assert.deepEqual(checkGroupForm({ name: " Flat 3B ", members: "Ana, Ben\n Cy \n\n" }), {
      ok: true,
      request: { name: "Flat 3B", members: ["Ana", "Ben", "Cy"] },
    });
  });

  it("needs a name and two to twelve different people", () => {
    const errorsOf = (name: string, members: string) => {
      const check = checkGroupForm({ name, members });
      return check.ok ? {} : check.errors;
    };
    assert.deepEqual(Object.keys(errorsOf(" ", "Ana")).sort(), ["members", "name"]);
    assert.equal(errorsOf("Trip", "Ana, ana").members, "Each person once, please");
    const thirteen = Array.from({ length: 13 }, (_, index) => `P${index}`).join(",");
    assert.ok(errorsOf("Trip", thirteen).members);
  });
});

describe("the expense form", () => {
  it("turns valid input into a request, shared in the group's order", () => {
    assert.deepEqual(
      expense({
        description: " Groceries ",
        amount: "45.5",
        paidBy: "Cy",
        splitAmong: ["Cy", "Ana"],
      }),
      {
        ok: true,
        request: {
          description: "Groceries",
          amountCents: 4550,
          paidBy: "Cy",
          splitAmong: ["Ana", "Cy"],
        },
      },
    );
    const everyone = expense({ description: "Rent", amount: "900" });
    assert.ok(everyone.ok);
    assert.deepEqual(everyone.request.splitAmong, ["Ana", "Ben", "Cy"]);
  });

  it("reports every mistake at once", () => {
    const check = expense({ description: "", amount: "12.345", paidBy: "Zed", splitAmong: [] });
    assert.equal(check.ok, false);
    assert.deepEqual(Object.keys(check.ok ? {} : check.errors).sort(), [
      "amount",
      "description",
      "paidBy",
      "splitAmong",
    ]);
    const tooMuch = expense({ description: "Car", amount: "100000.01" });
    assert.deepEqual(tooMuch.ok ? {} : Object.keys(tooMuch.errors), ["amount"]);
  });
});
