import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Booking } from "../src/lib/api.js";
import {
  initialSchedule,
  scheduleReducer,
  type Schedule,
  type ScheduleAction,
} from "../src/lib/schedule.js";

const DATE = "2030-03-04";

function booking(id: number, start: string, end: string, changes: Partial<Booking> = {}): Booking {
  return {
    id,
    roomId: 1,
    date: DATE,
    start,
    end,
    title: `#${id}`,
    organizer: "Ada",
    attendees: 2,
    ...changes,
  };
}

function run(...actions: ScheduleAction[]): Schedule {
  return actions.reduce(scheduleReducer, initialSchedule(DATE));
}

const wholeDay = [{ start: "08:00", end: "20:00" }];

describe("the day's schedule", () => {
  it("shows the day it was asked for, dropping late answers for another", () => {
    const state = run(
      { type: "daySelected", roomId: 1, date: DATE },
      { type: "daySelected", roomId: 2, date: DATE },
      {
        type: "dayLoaded",
        roomId: 1,
        date: DATE,
        bookings: [booking(1, "09:00", "10:00")],
        free: [],
      },
    );
    assert.equal(state.status, "loading");
    assert.deepEqual(state.bookings, []);

    const loaded = scheduleReducer(state, {
      type: "dayLoaded",
      roomId: 2,
      date: DATE,
      bookings: [],
      free: wholeDay,
    });
    assert.equal(loaded.status, "ready");
    assert.deepEqual(loaded.free, wholeDay);
    const failed = scheduleReducer(state, {
      type: "dayFailed",
      roomId: 2,
      date: DATE,
      message: "down",
    });
    assert.deepEqual([failed.status, failed.error], ["failed", "down"]);
  });

  it("adds a new booking in order of start and takes its time out of the free time", () => {
    const state = run(
      { type: "daySelected", roomId: 1, date: DATE },
      {
        type: "dayLoaded",
        roomId: 1,
        date: DATE,
        bookings: [booking(1, "14:00", "15:00")],
        free: [
          { start: "08:00", end: "14:00" },
          { start: "15:00", end: "20:00" },
        ],
      },
      { type: "bookingAdded", booking: booking(2, "09:00", "10:30") },
      { type: "bookingAdded", booking: booking(3, "09:00", "10:00", { date: "2030-03-05" }) },
    );
    assert.deepEqual(
      state.bookings.map((b) => b.id),
      [2, 1],
    );
    assert.deepEqual(state.free, [
      { start: "08:00", end: "09:00" },
      { start: "10:30", end: "14:00" },
      { start: "15:00", end: "20:00" },
    ]);
  });

  it("gives a cancelled booking's time back, merged with its neighbours", () => {
    const state = run(
      { type: "daySelected", roomId: 1, date: DATE },
      {
        type: "dayLoaded",
        roomId: 1,
        date: DATE,
        bookings: [booking(1, "08:00", "09:00"), booking(2, "09:00", "10:00")],
        free: [{ start: "10:00", end: "20:00" }],
      },
      { type: "bookingCancelled", bookingId: 2 },
    );
    assert.deepEqual(
      state.bookings.map((b) => b.id),
      [1],
    );
    assert.deepEqual(state.free, [{ start: "09:00", end: "20:00" }]);
    const again = scheduleReducer(state, { type: "bookingCancelled", bookingId: 1 });
    assert.deepEqual(again.free, wholeDay);
    assert.equal(scheduleReducer(again, { type: "bookingCancelled", bookingId: 1 }), again);
  });
});
