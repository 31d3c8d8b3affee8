// The template's test/api.test.ts, against the candidate's running service. Same names and
// checks, except that members are the test's own and unknown ids are ones no test creates.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MISSING, member } from "../library.mjs";
import { get, post } from "../service.mjs";

describe("HTTP API", () => {
  it("answers health checks", async () => {
    const response = await get("/health");
    assert.deepEqual(await response.json(), { status: "ok" });
  });

  it("adds a book and lends it", async () => {
    const book = await (await post("/books", { title: " Emma ", copies: 1 })).json();
    assert.equal(book.title, "Emma");
    const loan = await post("/loans", { bookId: book.id, memberId: member("ana") });
    assert.equal(loan.status, 201);
    const status = await (await get(`/books/${book.id}`)).json();
    assert.equal(status.available, 0);
    const again = await post("/loans", { bookId: book.id, memberId: member("ben") });
    assert.equal(again.status, 409);
  });

  it("returns a loan once", async () => {
    const book = await (await post("/books", { title: "Ulysses", copies: 1 })).json();
    const loan = await (await post("/loans", { bookId: book.id, memberId: member("cy") })).json();
    const returned = await post(`/loans/${loan.id}/return`, {});
    assert.equal(returned.status, 200);
    assert.equal((await returned.json()).feeCents, 0);
    assert.equal((await post(`/loans/${loan.id}/return`, {})).status, 409);
    assert.equal((await post(`/loans/${MISSING}/return`, {})).status, 404);
  });

  it("rejects invalid input", async () => {
    assert.equal((await post("/books", { title: "", copies: 1 })).status, 422);
    assert.equal((await post("/books", { title: "X", copies: 0 })).status, 422);
    assert.equal((await post("/loans", { bookId: 1, memberId: "Not Valid" })).status, 422);
    assert.equal((await post("/loans", { bookId: MISSING, memberId: member("ana") })).status, 404);
    assert.equal((await post("/books", "{")).status, 400);
  });

  it("lists a member's loans", async () => {
    const book = await (await post("/books", { title: "Beloved", copies: 3 })).json();
    const dee = member("dee");
    await post("/loans", { bookId: book.id, memberId: dee });
    await post("/loans", { bookId: book.id, memberId: dee });
    const loans = await (await get(`/members/${dee}/loans`)).json();
    assert.equal(loans.length, 2);
  });
});
