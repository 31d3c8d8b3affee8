import assert from "node:assert/strict";
import { test } from "node:test";

import { describeBalance, describeTransfer } from "../lib/balances";

test("a balance says who is owed and who owes", () => {
  assert.equal(describeBalance({ member: "Ana", cents: 1250 }), "Ana is owed 12.50");
  assert.equal(describeBalance({ member: "Ben", cents: -305 }), "Ben owes 3.05");
  assert.equal(describeBalance({ member: "Cy", cents: 0 }), "Cy is settled up");
});

test("a suggested transfer says who pays whom", () => {
  assert.equal(
    describeTransfer({ debtor: "Ben", creditor: "Ana", cents: 120000 }),
    "Ben pays Ana 1,200.00",
  );
});
