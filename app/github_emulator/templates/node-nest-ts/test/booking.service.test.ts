import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { BookingError, BookingService, type NewBooking, overlaps } from "../src/booking.service.js";

const HOUR = 60 * 60 * 1000;

/** A clock standing at `start` until moved. */
function clock(start: string) {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** A booking request for room 1 on Monday 2030-01-07 (UTC), between two times of day. */
function request(
  from: string,
  to: string,
  changes: Partial<NewBooking> = {},
  day = "2030-01-07",
): NewBooking {
  return {
    roomId: 1,
    title: "Planning",
    organizer: "ana",
    start: `${day}T${from}:00.000Z`,
    end: `${day}T${to}:00.000Z`,
    attendees: 4,
    ...changes,
  };
}

/** A service on Sunday 2030-01-06, noon, with one 6-seat room (id 1). */
function service(time = clock("2030-01-06T12:00:00Z")): BookingService {
  const bookings = new BookingService(time.now);
  bookings.addRoom("Fjord", 6);
  return bookings;
}

function refusal(status: number, message: RegExp) {
  return (error: unknown) =>
    error instanceof BookingError && error.status === status && message.test(error.message);
}

describe("overlaps", () => {
  const morning = { start: "2030-01-07T09:00:00.000Z", end: "2030-01-07T10:00:00.000Z" };

  it("sees partial and whole overlaps", () => {
    const laterHalf = { start: "2030-01-07T09:30:00.000Z", end: "2030-01-07T10:30:00.000Z" };
    const inside = { start: "2030-01-07T09:15:00.000Z", end: "2030-01-07T09:45:00.000Z" };
    assert.equal(overlaps(morning, laterHalf), true);
    assert.equal(overlaps(laterHalf, morning), true);
    assert.equal(overlaps(morning, inside), true);
    assert.equal(overlaps(inside, morning), true);
  });

  it("lets one meeting end as the next starts", () => {
    const next = { start: "2030-01-07T10:00:00.000Z", end: "2030-01-07T11:00:00.000Z" };
    assert.equal(overlaps(morning, next), false);
    assert.equal(overlaps(next, morning), false);
  });
});

describe("BookingService", () => {
  it("books a room and lists the day's schedule, earliest first", () => {
    const bookings = service();
    const late = bookings.book(request("14:00", "15:00"));
    const early = bookings.book(request("09:00", "10:00", { organizer: "ben" }));
    bookings.book(request("09:00", "10:00", {}, "2030-01-08"));
    assert.equal(late.status, "confirmed");
    assert.deepEqual(
      bookings.schedule(1, "2030-01-07").map((booking) => booking.id),
      [early.id, late.id],
    );
  });

  it("refuses a room that is taken, naming the clashing booking", () => {
    const bookings = service();
    bookings.book(request("09:00", "10:00"));
    assert.throws(
      () => bookings.book(request("09:30", "10:30", { organizer: "ben" })),
      refusal(409, /Fjord is booked from 2030-01-07T09:00:00.000Z to 2030-01-07T10:00:00.000Z/),
    );
    const other = bookings.addRoom("Glacier", 6);
    assert.equal(
      bookings.book(request("09:30", "10:30", { roomId: other.id, organizer: "ben" })).roomId,
      other.id,
    );
  });

  it("books back-to-back meetings in a room", () => {
    const bookings = service();
    bookings.book(request("09:00", "10:00"));
    bookings.book(request("10:00", "11:00", { organizer: "ben" }));
    bookings.book(request("08:00", "09:00", { organizer: "cy" }));
    assert.equal(bookings.schedule(1, "2030-01-07").length, 3);
  });

  it("fills a room up to its capacity, not beyond", () => {
    const bookings = service();
    assert.equal(bookings.book(request("09:00", "10:00", { attendees: 6 })).attendees, 6);
    assert.throws(
      () => bookings.book(request("10:00", "11:00", { attendees: 7 })),
      refusal(409, /Fjord seats at most 6/),
    );
  });

  it("keeps an organizer to one meeting at a time, across rooms", () => {
    const bookings = service();
    const other = bookings.addRoom("Glacier", 10);
    bookings.book(request("09:00", "10:00"));
    assert.throws(
      () => bookings.book(request("09:45", "10:15", { roomId: other.id })),
      refusal(409, /ana already has a meeting/),
    );
  });

  it("frees the slot of a cancelled booking", () => {
    const bookings = service();
    const first = bookings.book(request("09:00", "10:00"));
    const cancelled = bookings.cancel(first.id);
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.cancelledAt, "2030-01-06T12:00:00.000Z");
    const again = bookings.book(request("09:00", "10:00", { organizer: "ben" }));
    assert.deepEqual(bookings.schedule(1, "2030-01-07"), [again]);
  });

  it("cancels a booking once, and only before it starts", () => {
    const time = clock("2030-01-06T12:00:00Z");
    const bookings = service(time);
    const standup = bookings.book(request("09:00", "09:15"));
    const review = bookings.book(request("10:00", "11:00"));
    bookings.cancel(standup.id);
    assert.throws(() => bookings.cancel(standup.id), refusal(409, /already cancelled/));
    time.advance(22 * HOUR); // 2030-01-07T10:00Z: the review starts
    assert.throws(() => bookings.cancel(review.id), refusal(409, /has started/));
    assert.throws(() => bookings.cancel(99), refusal(404, /booking not found/));
  });

  it("holds every booking to the slot rules", () => {
    const bookings = service();
    const cases: [NewBooking, RegExp][] = [
      [request("10:00", "10:00"), /end must be after start/],
      [request("11:00", "10:00"), /end must be after start/],
      [request("09:10", "10:00"), /15-minute marks/],
      [request("09:00", "13:15"), /at most 4 hours/],
      [request("12:00", "13:00", {}, "2030-01-06"), /in the future/],
    ];
    for (const [bad, message] of cases) {
      assert.throws(() => bookings.book(bad), refusal(422, message));
    }
    assert.equal(bookings.book(request("09:00", "13:00")).end, "2030-01-07T13:00:00.000Z");
    assert.throws(
      () => bookings.book(request("09:00", "10:00", { roomId: 9 })),
      refusal(404, /room not found/),
    );
  });

  it("offers the smallest free room that seats everyone", () => {
    const bookings = service(); // Fjord seats 6
    bookings.addRoom("Hall", 30);
    const booth = bookings.addRoom("Booth", 2);
    const den = bookings.addRoom("Den", 8);
    bookings.book(request("09:00", "10:00", { roomId: den.id }));
    const slot = { start: "2030-01-07T09:30:00.000Z", end: "2030-01-07T10:30:00.000Z" };
    assert.deepEqual(
      bookings.available(slot, 5).map((room) => room.name),
      ["Fjord", "Hall"],
    );
    assert.deepEqual(bookings.available(slot, 1)[0], booth);
    assert.deepEqual(bookings.available(slot, 31), []);
  });

  it("keeps room names unique, whatever their case", () => {
    const bookings = service();
    assert.throws(() => bookings.addRoom("FJORD", 4), refusal(409, /already exists/));
    assert.deepEqual(
      bookings.listRooms().map((room) => room.name),
      ["Fjord"],
    );
  });
});
