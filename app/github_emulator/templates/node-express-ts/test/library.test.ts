import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { LATE_FEE_CENTS, Library, LibraryError, lateFeeCents } from "../src/library.js";

const DAY = 24 * 60 * 60 * 1000;

function clock(start: string) {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("late fees", () => {
  const due = new Date("2030-01-15T12:00:00Z");

  it("are nothing up to the due time", () => {
    assert.equal(lateFeeCents(due, new Date("2030-01-10T00:00:00Z")), 0);
    assert.equal(lateFeeCents(due, due), 0);
  });

  it("charge every started day late", () => {
    assert.equal(lateFeeCents(due, new Date(due.getTime() + 1000)), LATE_FEE_CENTS);
    assert.equal(lateFeeCents(due, new Date(due.getTime() + DAY)), LATE_FEE_CENTS);
    assert.equal(lateFeeCents(due, new Date(due.getTime() + DAY + 1)), 2 * LATE_FEE_CENTS);
  });
});

describe("Library", () => {
  it("lends copies until none is left", () => {
    const library = new Library();
    const book = library.addBook("Dune", 2);
    library.borrow(book.id, "ana");
    library.borrow(book.id, "ben");
    assert.equal(library.available(book.id), 0);
    assert.throws(() => library.borrow(book.id, "cy"), (err: LibraryError) => err.status === 409);
  });

  it("lets a member hold three loans, not four", () => {
    const library = new Library();
    const book = library.addBook("Dune", 10);
    for (let n = 0; n < 3; n += 1) library.borrow(book.id, "ana");
    assert.throws(() => library.borrow(book.id, "ana"), /at most 3 loans/);
  });

  it("frees the copy and charges the fee on return", () => {
    const time = clock("2030-01-01T09:00:00Z");
    const library = new Library(time.now);
    const book = library.addBook("Dune", 1);
    const loan = library.borrow(book.id, "ana");
    assert.equal(loan.dueAt, "2030-01-15T09:00:00.000Z");
    time.advance(16 * DAY);
    const returned = library.giveBack(loan.id);
    assert.equal(returned.feeCents, 2 * LATE_FEE_CENTS);
    assert.equal(library.available(book.id), 1);
  });

  it("refuses to return a loan twice", () => {
    const library = new Library();
    const loan = library.borrow(library.addBook("Dune", 1).id, "ana");
    library.giveBack(loan.id);
    assert.throws(() => library.giveBack(loan.id), /already returned/);
  });
});
