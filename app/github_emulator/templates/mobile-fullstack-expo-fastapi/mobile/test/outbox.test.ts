import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError } from "../src/lib/api";
import { enqueue, flush, type PendingChange } from "../src/lib/outbox";

const read = (day: string, done = true): PendingChange => ({ habitId: 1, day, done });
const run = (day: string, done = true): PendingChange => ({ habitId: 2, day, done });

test("only the latest change per habit and day waits", () => {
  let outbox: PendingChange[] = [];
  outbox = enqueue(outbox, read("2026-03-10"));
  outbox = enqueue(outbox, run("2026-03-10"));
  outbox = enqueue(outbox, read("2026-03-10", false));
  outbox = enqueue(outbox, read("2026-03-09"));

  assert.deepEqual(outbox, [run("2026-03-10"), read("2026-03-10", false), read("2026-03-09")]);
});

test("a flush sends every change, oldest first", async () => {
  const sent: PendingChange[] = [];
  const outbox = [read("2026-03-09"), run("2026-03-10")];

  const result = await flush(outbox, async (change) => {
    sent.push(change);
  });

  assert.deepEqual(sent, outbox);
  assert.deepEqual(result, { sent: outbox, rejected: [], remaining: [] });
});

test("offline, the change that failed and the ones after it stay, in order", async () => {
  const outbox = [read("2026-03-08"), read("2026-03-09"), run("2026-03-10")];
  let calls = 0;

  const result = await flush(outbox, async () => {
    calls += 1;
    if (calls === 2) throw new ApiError(0, "Offline");
  });

  assert.equal(calls, 2);
  assert.deepEqual(result.sent, [read("2026-03-08")]);
  assert.deepEqual(result.remaining, [read("2026-03-09"), run("2026-03-10")]);
});

test("a change the API refuses is dropped and reported; the rest go on", async () => {
  const outbox = [read("2026-03-09"), run("2026-03-10")];

  const result = await flush(outbox, async (change) => {
    if (change.habitId === 1) throw new ApiError(404, "habit not found");
  });

  assert.deepEqual(result.rejected, [{ change: read("2026-03-09"), reason: "habit not found" }]);
  assert.deepEqual(result.sent, [run("2026-03-10")]);
  assert.deepEqual(result.remaining, []);
});
