import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { balances, splitEvenly } from "../src/ledger.js";

const cents = (shares: { cents: number }[]) => shares.map((share) => share.cents);

describe("splitting an expense", () => {
  it("gives the leftover cents to the first people, one each", () => {
    assert.deepEqual(splitEvenly(1000, ["ana", "ben", "cy"]), [
      { member: "ana", cents: 334 },
      { member: "ben", cents: 333 },
      { member: "cy", cents: 333 },
    ]);
    assert.deepEqual(cents(splitEvenly(1001, ["ana", "ben", "cy"])), [334, 334, 333]);
    assert.deepEqual(cents(splitEvenly(100, ["ana", "ben", "cy", "dee"])), [25, 25, 25, 25]);
    assert.deepEqual(cents(splitEvenly(1, ["ana", "ben"])), [1, 0]);
    assert.deepEqual(cents(splitEvenly(999, ["ana"])), [999]);
  });

  it("always adds up to the amount", () => {
    for (let people = 1; people <= 12; people += 1) {
      const names = Array.from({ length: people }, (_, index) => `p${index}`);
      for (const amount of [1, 7, 99, 100, 1001, 123_457]) {
        const shares = cents(splitEvenly(amount, names));
        assert.equal(
          shares.reduce((sum, share) => sum + share, 0),
          amount,
          `${amount} among ${people}`,
        );
        assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `${amount} among ${people}`);
      }
    }
  });
});

describe("balances", () => {
  it("credit the payer and debit everyone who shares", () => {
    const dinner = {
      paidBy: "ana",
      amountCents: 9000,
      shares: splitEvenly(9000, ["ana", "ben", "cy"]),
    };
    const taxi = { paidBy: "ben", amountCents: 2000, shares: splitEvenly(2000, ["ana", "ben"]) };
    assert.deepEqual(balances(["ana", "ben", "cy"], [dinner, taxi]), [
      { member: "ana", cents: 5000 },
      { member: "ben", cents: -2000 },
      { member: "cy", cents: -3000 },
    ]);
  });

  it("list every member, at zero when nothing concerns them, and add up to zero", () => {
    const members = ["ana", "ben", "cy", "dee"];
    assert.deepEqual(cents(balances(members, [])), [0, 0, 0, 0]);
    const lunch = {
      paidBy: "cy",
      amountCents: 1000,
      shares: splitEvenly(1000, ["ana", "ben", "cy"]),
    };
    const result = balances(members, [lunch]);
    assert.deepEqual(
      result.map((share) => share.member),
      members,
    );
    assert.deepEqual(cents(result), [-334, -333, 667, 0]);
    assert.equal(
      cents(result).reduce((sum, value) => sum + value, 0),
      0,
    );
  });
});
