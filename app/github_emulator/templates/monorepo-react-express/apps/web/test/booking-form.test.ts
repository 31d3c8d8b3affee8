import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Room } from "../src/lib/api.js";
import {
  checkBookingForm,
  emptyForm,
  formField,
  type BookingForm,
} from "../src/lib/booking-form.js";

const room: Room = { id: 3, name: "Atlas", capacity: 4 };

function form(changes: Partial<BookingForm> = {}): BookingForm {
  return { ...emptyForm("2030-03-04"), title: "Retro", organizer: "Linus", ...changes };
}

function errorsOf(changes: Partial<BookingForm>) {
  const check = checkBookingForm(form(changes), room);
  return check.ok ? {} : check.errors;
}

describe("the booking form", () => {
  it("turns valid input into a request for the API", () => {
    const check = checkBookingForm(
      form({ title: "  Retro ", start: "16:45", minutes: "90", attendees: " 4 " }),
      room,
    );
    assert.deepEqual(check, {
      ok: true,
      booking: {
        date: "2030-03-04",
        start: "16:45",
        end: "18:15",
        title: "Retro",
        organizer: "Linus",
        attendees: 4,
      },
    });
  });

  it("reports every mistake at once", () => {
    const errors = errorsOf({ title: " ", organizer: "", start: "09:10", minutes: "7", date: "" });
    assert.deepEqual(Object.keys(errors).sort(), [
      "date",
      "minutes",
      "organizer",
      "start",
      "title",
    ]);
  });

  it("keeps a meeting within opening hours", () => {
    assert.deepEqual(errorsOf({ start: "19:00", minutes: "60" }), {});
    assert.match(errorsOf({ start: "19:30", minutes: "60" }).minutes ?? "", /close at 20:00/);
    assert.match(errorsOf({ start: "07:45" }).start ?? "", /open at 08:00/);
    assert.ok(errorsOf({ minutes: "300" }).minutes);
  });

  it("seats at most the room's capacity", () => {
    assert.deepEqual(errorsOf({ attendees: "4" }), {});
    for (const attendees of ["5", "0", "2.5", "two", ""]) {
      assert.equal(errorsOf({ attendees }).attendees, "Atlas seats 1 to 4", attendees);
    }
  });

  it("shows the API's complaints beside the right field", () => {
    assert.equal(formField("end"), "minutes");
    assert.equal(formField("attendees"), "attendees");
    assert.equal(formField("roomId"), undefined);
    assert.equal(formField(undefined), undefined);
  });
});
