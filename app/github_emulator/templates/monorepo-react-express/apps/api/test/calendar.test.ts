import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Calendar, CalendarError, type BookingRequest } from "../src/calendar.js";
import { parseTime } from "../src/rules.js";

const DATE = "2030-03-04";

function request(
  start: string,
  end: string,
  changes: Partial<BookingRequest> = {},
): BookingRequest {
  return {
    date: DATE,
    start: parseTime(start) as number,
    end: parseTime(end) as number,
    title: "Planning",
    organizer: "Ada",
    attendees: 2,
    ...changes,
  };
}

function failsWith(status: number, details: object = {}) {
  return (err: unknown) =>
    err instanceof CalendarError &&
    err.status === status &&
    Object.entries(details).every(([key, value]) => err.details[key as "field"] === value);
}

describe("Calendar", () => {
  it("lists a room's bookings for a date, earliest first", () => {
    const calendar = new Calendar();
    const room = calendar.addRoom("Atlas", 6);
    const other = calendar.addRoom("Borealis", 6);
    const late = calendar.book(room.id, request("15:00", "16:00"));
    const early = calendar.book(room.id, request("09:00", "10:00"));
    calendar.book(room.id, request("09:00", "10:00", { date: "2030-03-05" }));
    calendar.book(other.id, request("12:00", "13:00"));

    assert.deepEqual(
      calendar.bookings(room.id, DATE).map((booking) => booking.id),
      [early.id, late.id],
    );
    assert.equal(late.roomId, room.id);
    assert.throws(() => calendar.bookings(99, DATE), failsWith(404));
  });

  it("refuses a booking that overlaps another in the same room", () => {
    const calendar = new Calendar();
    const room = calendar.addRoom("Atlas", 6);
    const workshop = calendar.book(room.id, request("10:00", "11:00"));

    const clashes = [
      ["10:30", "11:30"],
      ["09:30", "10:15"],
      ["09:00", "12:00"],
      ["10:15", "10:45"],
    ];
    for (const [start, end] of clashes as [string, string][]) {
      assert.throws(
        () => calendar.book(room.id, request(start, end)),
        failsWith(409, { conflictsWith: workshop.id }),
        `${start}-${end}`,
      );
    }
    calendar.book(room.id, request("09:00", "10:00"));
    calendar.book(room.id, request("11:00", "11:30"));
    assert.equal(calendar.bookings(room.id, DATE).length, 3);
  });

  it("seats up to the room's capacity", () => {
    const calendar = new Calendar();
    const room = calendar.addRoom("Atlas", 4);

    const full = calendar.book(room.id, request("09:00", "10:00", { attendees: 4 }));
    assert.equal(full.attendees, 4);
    assert.throws(
      () => calendar.book(room.id, request("11:00", "12:00", { attendees: 5 })),
      failsWith(422, { field: "attendees" }),
    );
  });

  it("frees the time of a cancelled booking", () => {
    const calendar = new Calendar();
    const room = calendar.addRoom("Atlas", 4);
    const booking = calendar.book(room.id, request("09:00", "13:00"));

    assert.deepEqual(calendar.freeTime(room.id, DATE), [
      { start: 8 * 60, end: 9 * 60 },
      { start: 13 * 60, end: 20 * 60 },
    ]);
    calendar.cancel(booking.id);
    assert.deepEqual(calendar.freeTime(room.id, DATE), [{ start: 8 * 60, end: 20 * 60 }]);
    calendar.book(room.id, request("09:00", "10:00"));
    assert.throws(() => calendar.cancel(booking.id), failsWith(404));
  });
});
