// Hidden tests: the documented API's edge cases (README "The API and its rules").
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DAY, MISSING, addBook, available, borrow, member, memberLoans } from "../library.mjs";
import { get, post, setClock } from "../service.mjs";

const giveBack = (loanId) => post(`/loans/${loanId}/return`, {});

describe("books", () => {
  it("trims titles and keeps them to 1-200 characters", async () => {
    assert.equal((await addBook("  Middlemarch\t", 1)).title, "Middlemarch");
    assert.equal((await addBook("x".repeat(200), 1)).title, "x".repeat(200));
    for (const title of ["x".repeat(201), " \t ", 42, null]) {
      assert.equal((await post("/books", { title, copies: 1 })).status, 422, String(title));
    }
    assert.equal((await post("/books", { copies: 1 })).status, 422);
  });

  it("takes 1 to 100 copies, as whole numbers only", async () => {
    assert.equal((await addBook("One copy", 1)).copies, 1);
    assert.equal((await addBook("Many copies", 100)).copies, 100);
    for (const copies of [0, 101, 2.5, "3", -1, null]) {
      assert.equal((await post("/books", { title: "Odd", copies })).status, 422, String(copies));
    }
  });

  it("reports a new book's copies as available and unknown books as 404", async () => {
    const book = await addBook("Persuasion", 4);
    assert.deepEqual(await (await get(`/books/${book.id}`)).json(), { id: book.id, available: 4 });
    assert.equal((await get(`/books/${MISSING}`)).status, 404);
    assert.equal((await get("/books/first")).status, 404);
    assert.equal((await get("/books/0")).status, 404);
  });
});

describe("loans", () => {
  it("validates the member id and the book id", async () => {
    const book = await addBook("Validated", 5);
    for (const memberId of ["Ana", "ana bell", "a".repeat(41), "", 7, undefined]) {
      const response = await post("/loans", { bookId: book.id, memberId });
      assert.equal(response.status, 422, String(memberId));
    }
    assert.equal((await post("/loans", { bookId: String(book.id), memberId: "ana" })).status, 422);
    const longest = `${member("m")}-${"a".repeat(30)}`.slice(0, 40);
    assert.equal((await borrow(book.id, longest)).memberId, longest);
    assert.equal(await available(book.id), 4);
  });

  it("are due 14 days after they are borrowed", async () => {
    setClock("2030-03-01T08:30:00Z");
    const book = await addBook("Due dates", 1);
    const memberId = member("due");
    const loan = await borrow(book.id, memberId);
    assert.deepEqual(
      { ...loan, id: undefined },
      {
        id: undefined,
        bookId: book.id,
        memberId,
        borrowedAt: "2030-03-01T08:30:00.000Z",
        dueAt: "2030-03-15T08:30:00.000Z",
        returnedAt: null,
        feeCents: 0,
      },
    );
  });

  it("cost 25 cents per started day late, nothing up to the due time", async () => {
    const due = new Date("2030-04-15T10:00:00Z").getTime();
    for (const [returnedAt, fee] of [
      [due - DAY, 0],
      [due, 0],
      [due + 1, 25],
      [due + 3 * DAY, 75],
      [due + 3 * DAY + 1, 100],
    ]) {
      setClock(due - 14 * DAY);
      const loan = await borrow((await addBook("Late", 1)).id, member("late"));
      setClock(returnedAt);
      const returned = await (await giveBack(loan.id)).json();
      assert.equal(returned.feeCents, fee, new Date(returnedAt).toISOString());
      assert.equal(returned.returnedAt, new Date(returnedAt).toISOString());
    }
  });

  it("free their copy on return for the next member", async () => {
    const book = await addBook("Passed on", 1);
    const loan = await borrow(book.id, member("first"));
    assert.equal((await giveBack(loan.id)).status, 200);
    assert.equal(await available(book.id), 1);
    const next = await borrow(book.id, member("next"));
    assert.equal(next.bookId, book.id);
    assert.equal(await available(book.id), 0);
  });

  it("count only active loans toward the limit of 3", async () => {
    const book = await addBook("Limits", 10);
    const reader = member("reader");
    const loans = [];
    for (let n = 0; n < 3; n += 1) loans.push(await borrow(book.id, reader));
    await giveBack(loans[0].id);
    await borrow(book.id, reader);
    const fourth = await post("/loans", { bookId: book.id, memberId: reader });
    assert.equal(fourth.status, 409);
    assert.equal(await available(book.id), 7);
  });

  it("are refused when no copy is left, recording nothing", async () => {
    const book = await addBook("Scarce", 1);
    await borrow(book.id, member("holder"));
    const waiting = member("waiting");
    const refused = await post("/loans", { bookId: book.id, memberId: waiting });
    assert.equal(refused.status, 409);
    assert.deepEqual(await memberLoans(waiting), []);
  });

  it("answer unknown or malformed loan ids on return with 404", async () => {
    for (const id of [MISSING, "abc", 0, -1]) {
      assert.equal((await giveBack(id)).status, 404, String(id));
    }
  });
});

describe("members", () => {
  it("see their own loans, returned ones included, and nobody else's", async () => {
    const book = await addBook("Shared", 5);
    const reader = member("reader");
    const first = await borrow(book.id, reader);
    const second = await borrow(book.id, reader);
    await borrow(book.id, member("other"));
    await giveBack(first.id);
    const loans = await memberLoans(reader);
    assert.deepEqual(
      loans.map((loan) => [loan.id, loan.returnedAt !== null]),
      [
        [first.id, true],
        [second.id, false],
      ],
    );
    assert.deepEqual(await memberLoans(member("nobody")), []);
  });
});
