import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formatDuration, formatSpan, isoDate, toMinutes, toTime } from "../src/lib/time.js";

describe("times", () => {
  it("convert between HH:MM and minutes since midnight", () => {
    assert.equal(toMinutes("09:30"), 570);
    assert.equal(toMinutes("20:00"), 1200);
    assert.equal(toMinutes("9:30"), undefined);
    assert.equal(toMinutes("25:00"), undefined);
    assert.equal(toTime(570), "09:30");
    assert.equal(toTime(toMinutes("17:45") as number), "17:45");
  });

  it("read durations the way people say them", () => {
    assert.equal(formatDuration(15), "15 min");
    assert.equal(formatDuration(60), "1 h");
    assert.equal(formatDuration(90), "1 h 30 min");
    assert.equal(formatDuration(165), "2 h 45 min");
    assert.equal(formatDuration(240), "4 h");
    assert.equal(formatSpan({ start: "09:30", end: "10:15" }), "09:30–10:15 (45 min)");
  });

  it("take today's date from the user's calendar, not UTC", () => {
    assert.equal(isoDate(new Date(2030, 0, 5, 0, 30)), "2030-01-05");
    assert.equal(isoDate(new Date(2030, 11, 31, 23, 59)), "2030-12-31");
  });
});
