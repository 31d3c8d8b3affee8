import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, createKittyApi } from "../lib/api";

interface Call {
  url: string;
  init: RequestInit | undefined;
}

/** A stand-in for fetch that records its calls and answers with `status` and `body`. */
function fakeFetch(status: number, body: unknown) {
  const calls: Call[] = [];
  const fetchImpl = async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init });
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  };
  return { calls, fetchImpl: fetchImpl as typeof fetch };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => assert.fail("the call should have failed"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ApiError);
  return error;
}

test("an expense is posted as JSON to its group and the created one returned", async () => {
  const created = {
    id: 1,
    description: "Milk",
    amount_cents: 250,
    paid_by: "Ana",
    shares: { Ana: 250 },
  };
  const { calls, fetchImpl } = fakeFetch(201, created);
  const api = createKittyApi("/api", fetchImpl);

  const expense = await api.addExpense(7, {
    description: "Milk",
    amount_cents: 250,
    paid_by: "Ana",
    split_between: ["Ana"],
  });

  assert.deepEqual(expense, created);
  assert.equal(calls[0]?.url, "/api/groups/7/expenses");
  assert.equal(calls[0]?.init?.method, "POST");
  assert.deepEqual(JSON.parse(String(calls[0]?.init?.body)), {
    description: "Milk",
    amount_cents: 250,
    paid_by: "Ana",
    split_between: ["Ana"],
  });
});

test("the API's error detail becomes the error's message", async () => {
  const missing = createKittyApi("/api", fakeFetch(404, { detail: "group not found" }).fetchImpl);
  const invalid = createKittyApi(
    "/api",
    fakeFetch(422, {
      detail: [
        { loc: ["body", "amount_cents"], msg: "Input should be greater than 0" },
        { loc: ["body", "paid_by"], msg: "Field required" },
      ],
    }).fetchImpl,
  );

  const notFound = await rejection(missing.getGroup(9));
  const unprocessable = await rejection(invalid.getBalances(1));

  assert.equal(notFound.status, 404);
  assert.equal(notFound.message, "group not found");
  assert.equal(unprocessable.status, 422);
  assert.equal(
    unprocessable.message,
    "amount_cents: Input should be greater than 0; paid_by: Field required",
  );
});

test("an unreachable API is an error with status 0", async () => {
  const api = createKittyApi("/api", (async () => {
    throw new TypeError("fetch failed");
  }) as typeof fetch);

  const error = await rejection(api.listExpenses(1));

  assert.equal(error.status, 0);
  assert.match(error.message, /cannot be reached/);
});
