// Hidden tests aimed at the debug variant's planted regressions, one rule each. The grader's
// other tests come from the code variant's grader (this repository's layer).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { addBook, borrow, member, memberLoans } from "../library.mjs";
import { post, setClock } from "../service.mjs";

describe("regressions", () => {
  it("refuses a fourth active loan and records none", async () => {
    const book = await addBook("Fourth", 10);
    const reader = member("greedy");
    for (let n = 0; n < 3; n += 1) await borrow(book.id, reader);
    const fourth = await post("/loans", { bookId: book.id, memberId: reader });
    assert.equal(fourth.status, 409);
    assert.equal((await memberLoans(reader)).length, 3);
  });

  it("refuses to return a returned loan and keeps its first return", async () => {
    setClock("2030-05-01T00:00:00Z");
    const loan = await borrow((await addBook("Returned", 1)).id, member("twice"));
    setClock("2030-05-16T00:00:00Z");
    const first = await (await post(`/loans/${loan.id}/return`, {})).json();
    setClock("2030-05-30T00:00:00Z");
    const again = await post(`/loans/${loan.id}/return`, {});
    assert.equal(again.status, 409);
    assert.deepEqual(await memberLoans(loan.memberId), [first]);
  });

  it("charges a full day for a return a few minutes late", async () => {
    setClock("2030-06-01T00:00:00Z");
    const loan = await borrow((await addBook("Minutes", 1)).id, member("late"));
    setClock(new Date(loan.dueAt).getTime() + 5 * 60 * 1000);
    assert.equal((await (await post(`/loans/${loan.id}/return`, {})).json()).feeCents, 25);
  });
});
