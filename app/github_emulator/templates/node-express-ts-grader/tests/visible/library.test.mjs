// The template's test/library.test.ts, over HTTP: the rules it tests on a Library object are
// exercised through the API, with the service's clock frozen where the test moves time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DAY, addBook, available, borrow, member } from "../library.mjs";
import { post, setClock } from "../service.mjs";

const LATE_FEE_CENTS = 25;
// A loan borrowed at BORROWED is due 14 days later, at DUE.
const BORROWED = "2030-01-01T12:00:00Z";
const DUE = new Date("2030-01-15T12:00:00Z").getTime();

async function feeWhenReturnedAt(instant) {
  setClock(BORROWED);
  const loan = await borrow((await addBook("Fees", 1)).id, member("fee"));
  setClock(instant);
  const returned = await post(`/loans/${loan.id}/return`, {});
  assert.equal(returned.status, 200);
  return (await returned.json()).feeCents;
}

describe("late fees", () => {
  it("are nothing up to the due time", async () => {
    assert.equal(await feeWhenReturnedAt("2030-01-10T00:00:00Z"), 0);
    assert.equal(await feeWhenReturnedAt(DUE), 0);
  });

  it("charge every started day late", async () => {
    assert.equal(await feeWhenReturnedAt(DUE + 1000), LATE_FEE_CENTS);
    assert.equal(await feeWhenReturnedAt(DUE + DAY), LATE_FEE_CENTS);
    assert.equal(await feeWhenReturnedAt(DUE + DAY + 1), 2 * LATE_FEE_CENTS);
  });
});

describe("Library", () => {
  it("lends copies until none is left", async () => {
    const book = await addBook("Dune", 2);
    await borrow(book.id, member("ana"));
    await borrow(book.id, member("ben"));
    assert.equal(await available(book.id), 0);
    assert.equal((await post("/loans", { bookId: book.id, memberId: member("cy") })).status, 409);
  });

  it("lets a member hold three loans, not four", async () => {
    const book = await addBook("Dune", 10);
    const ana = member("ana");
    for (let n = 0; n < 3; n += 1) await borrow(book.id, ana);
    const fourth = await post("/loans", { bookId: book.id, memberId: ana });
    assert.equal(fourth.status, 409);
    assert.match((await fourth.json()).error, /at most 3 loans/);
  });

  it("frees the copy and charges the fee on return", async () => {
    setClock("2030-01-01T09:00:00Z");
    const book = await addBook("Dune", 1);
    const loan = await borrow(book.id, member("ana"));
    assert.equal(loan.dueAt, "2030-01-15T09:00:00.000Z");
    setClock(new Date("2030-01-01T09:00:00Z").getTime() + 16 * DAY);
    const returned = await (await post(`/loans/${loan.id}/return`, {})).json();
    assert.equal(returned.feeCents, 2 * LATE_FEE_CENTS);
    assert.equal(await available(book.id), 1);
  });

  it("refuses to return a loan twice", async () => {
    const loan = await borrow((await addBook("Dune", 1)).id, member("ana"));
    await post(`/loans/${loan.id}/return`, {});
    const again = await post(`/loans/${loan.id}/return`, {});
    assert.equal(again.status, 409);
    assert.match((await again.json()).error, /already returned/);
  });
});
