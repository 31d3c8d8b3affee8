// Library Loans helpers over the shared service (tests/service.mjs starts it). Every test
// talks to one service, so tests use members of their own and ids no test creates.
import assert from "node:assert/strict";

import { get, post } from "./service.mjs";

export const DAY = 24 * 60 * 60 * 1000;
export const MISSING = 999_999_999;

let members = 0;

/** A member id no other test uses, e.g. `ana-7`. */
export function member(name) {
  members += 1;
  return `${name}-${members}`;
}

export async function addBook(title, copies) {
  const response = await post("/books", { title, copies });
  assert.equal(response.status, 201, await response.clone().text());
  return response.json();
}

export async function borrow(bookId, memberId) {
  const response = await post("/loans", { bookId, memberId });
  assert.equal(response.status, 201, await response.clone().text());
  return response.json();
}

export async function available(bookId) {
  return (await (await get(`/books/${bookId}`)).json()).available;
}

export async function memberLoans(memberId) {
  return (await get(`/members/${memberId}/loans`)).json();
}
