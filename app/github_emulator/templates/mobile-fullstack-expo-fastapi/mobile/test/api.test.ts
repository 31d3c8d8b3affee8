import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, createStreaksApi } from "../src/lib/api";

/** A stand-in for fetch that records the requests and answers with `status` and `body`. */
function fakeFetch(status: number, body?: unknown) {
  const requests: string[] = [];
  const fetchImpl = async (url: string | URL | Request, init?: RequestInit) => {
    requests.push(`${init?.method} ${String(url)}`);
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
  return { requests, fetchImpl: fetchImpl as typeof fetch };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => assert.fail("the call should have failed"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ApiError);
  return error;
}

test("habits are listed for the phone's today, and check-ins go to their day", async () => {
  const { requests, fetchImpl } = fakeFetch(200, []);
  const api = createStreaksApi("http://api.test", fetchImpl);

  assert.deepEqual(await api.listHabits("2026-03-10"), []);
  await api.checkIn(3, "2026-03-10");

  assert.deepEqual(requests, [
    "GET http://api.test/habits?today=2026-03-10",
    "PUT http://api.test/habits/3/checkins/2026-03-10",
  ]);
});

test("undoing a check-in accepts the API's empty 204", async () => {
  const { requests, fetchImpl } = fakeFetch(204);

  await createStreaksApi("http://api.test", fetchImpl).undoCheckIn(3, "2026-03-10");

  assert.deepEqual(requests, ["DELETE http://api.test/habits/3/checkins/2026-03-10"]);
});

test("an API error keeps its status and message; no network is status 0", async () => {
  const taken = createStreaksApi(
    "http://api.test",
    fakeFetch(409, { detail: "there is a habit called 'Read' already" }).fetchImpl,
  );
  const offline = createStreaksApi("http://api.test", (async () => {
    throw new TypeError("Network request failed");
  }) as typeof fetch);

  const conflict = await rejection(taken.createHabit("Read"));
  const unreachable = await rejection(offline.checkIn(1, "2026-03-10"));

  assert.equal(conflict.status, 409);
  assert.equal(conflict.message, "there is a habit called 'Read' already");
  assert.equal(unreachable.status, 0);
});
