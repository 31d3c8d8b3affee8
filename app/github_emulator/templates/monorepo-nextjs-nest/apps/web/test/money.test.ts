import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { describeBalance, formatCents, parseAmount } from "../src/lib/money.ts";

describe("money", () => {
  it("reads amounts the way people type them", () => {
    assert.equal(parseAmount("12"), 1200);
    assert.equal(parseAmount("12.5"), 1250);
    assert.equal(parseAmount("12.05"), 1205);
    assert.equal(parseAmount(" 0.99 "), 99);
    assert.equal(parseAmount("$1,234.50"), 123450);
    assert.equal(parseAmount("1234"), 123400);
  });

  it("refuses what is not a positive amount in cents", () => {
    for (const text of ["", "abc", "-5", "0", "0.00", "1.234", "12.", "1,23", "1e3"]) {
      assert.equal(parseAmount(text), undefined, text);
    }
  });

  it("writes cents as dollars", () => {
    assert.equal(formatCents(5), "$0.05");
    assert.equal(formatCents(1250), "$12.50");
    assert.equal(formatCents(123456789), "$1,234,567.89");
    assert.equal(formatCents(-300), "-$3.00");
  });

  it("says who owes and who is owed", () => {
    assert.equal(describeBalance({ member: "Ana", cents: 1250 }), "Ana is owed $12.50");
    assert.equal(describeBalance({ member: "Ben", cents: -300 }), "Ben owes $3.00");
    assert.equal(describeBalance({ member: "Cy", cents: 0 }), "Cy is settled up");
  });
});
