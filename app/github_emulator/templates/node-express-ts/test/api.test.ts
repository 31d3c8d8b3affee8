import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Server } from "node:http";

import { createApp } from "../src/app.js";

let server: Server;
let base: string;

before(async () => {
  server = createApp().listen(0);
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("HTTP API", () => {
  it("answers health checks", async () => {
    const response = await fetch(`${base}/health`);
    assert.deepEqual(await response.json(), { status: "ok" });
  });

  it("adds a book and lends it", async () => {
    const book = await (await post("/books", { title: " Emma ", copies: 1 })).json();
    assert.equal(book.title, "Emma");
    const loan = await post("/loans", { bookId: book.id, memberId: "ana" });
    assert.equal(loan.status, 201);
    const status = await (await fetch(`${base}/books/${book.id}`)).json();
    assert.equal(status.available, 0);
    const again = await post("/loans", { bookId: book.id, memberId: "ben" });
    assert.equal(again.status, 409);
  });

  it("returns a loan once", async () => {
    const book = await (await post("/books", { title: "Ulysses", copies: 1 })).json();
    const loan = await (await post("/loans", { bookId: book.id, memberId: "cy" })).json();
    const returned = await post(`/loans/${loan.id}/return`, {});
    assert.equal(returned.status, 200);
    assert.equal((await returned.json()).feeCents, 0);
    assert.equal((await post(`/loans/${loan.id}/return`, {})).status, 409);
    assert.equal((await post("/loans/999/return", {})).status, 404);
  });

  it("rejects invalid input", async () => {
    assert.equal((await post("/books", { title: "", copies: 1 })).status, 422);
    assert.equal((await post("/books", { title: "X", copies: 0 })).status, 422);
    assert.equal((await post("/loans", { bookId: 1, memberId: "Not Valid" })).status, 422);
    assert.equal((await post("/loans", { bookId: 999, memberId: "ana" })).status, 404);
    const malformed = await fetch(`${base}/books`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    assert.equal(malformed.status, 400);
  });

  it("lists a member's loans", async () => {
    const book = await (await post("/books", { title: "Beloved", copies: 3 })).json();
    await post("/loans", { bookId: book.id, memberId: "dee" });
    await post("/loans", { bookId: book.id, memberId: "dee" });
    const loans = await (await fetch(`${base}/members/dee/loans`)).json();
    assert.equal(loans.length, 2);
  });
});
