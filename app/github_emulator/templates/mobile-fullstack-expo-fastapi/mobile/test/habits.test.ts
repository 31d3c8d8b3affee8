import assert from "node:assert/strict";
import { test } from "node:test";

import { habitsReducer, initialHabitsState, shownHabits } from "../src/lib/habits";
import type { FlushResult } from "../src/lib/outbox";
import type { Habit } from "../src/lib/types";

const read: Habit = {
  id: 1,
  name: "Read",
  done_today: false,
  current_streak: 4,
  longest_streak: 4,
  total: 9,
  last_7_days: [false, false, true, true, true, true, false],
};
const readDoneToday: Habit = {
  ...read,
  done_today: true,
  current_streak: 5,
  longest_streak: 5,
  total: 10,
  last_7_days: [false, false, true, true, true, true, true],
};
const loaded = habitsReducer(initialHabitsState("2026-03-10"), {
  type: "loaded",
  today: "2026-03-10",
  habits: [read],
});

test("checking in shows at once and queues the change for the API", () => {
  const state = habitsReducer(loaded, { type: "toggled", habitId: 1 });

  assert.deepEqual(shownHabits(state), [readDoneToday]);
  assert.deepEqual(state.outbox, [{ habitId: 1, day: "2026-03-10", done: true }]);
});

test("checking in twice takes it back: the habit shows as loaded, one change waits", () => {
  const once = habitsReducer(loaded, { type: "toggled", habitId: 1 });
  const twice = habitsReducer(once, { type: "toggled", habitId: 1 });

  assert.deepEqual(shownHabits(twice), [read]);
  assert.deepEqual(twice.outbox, [{ habitId: 1, day: "2026-03-10", done: false }]);
});

test("a change queued while a flush runs stays in the outbox", () => {
  const queued = habitsReducer(loaded, { type: "toggled", habitId: 1 });
  const [inFlight] = queued.outbox;
  assert.ok(inFlight);
  // The user taps again while the check-in is on its way to the API.
  const tappedAgain = habitsReducer(queued, { type: "toggled", habitId: 1 });
  const result: FlushResult = { sent: [inFlight], rejected: [], remaining: [] };

  const state = habitsReducer(tappedAgain, { type: "flushed", result });

  assert.deepEqual(state.habits, [readDoneToday]);
  assert.deepEqual(state.outbox, [{ habitId: 1, day: "2026-03-10", done: false }]);
  const [shown] = shownHabits(state);
  assert.deepEqual([shown?.done_today, shown?.current_streak, shown?.total], [false, 4, 9]);
});

test("a refused change leaves the outbox and says why", () => {
  const queued = habitsReducer(loaded, { type: "toggled", habitId: 1 });
  const [change] = queued.outbox;
  assert.ok(change);

  const state = habitsReducer(queued, {
    type: "flushed",
    result: { sent: [], rejected: [{ change, reason: "habit not found" }], remaining: [] },
  });

  assert.deepEqual(state.outbox, []);
  assert.deepEqual(shownHabits(state), [read]);
  assert.equal(state.error, "A change was not saved: habit not found");
});
