import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  freeSpans,
  formatTime,
  isCalendarDate,
  overlaps,
  parseTime,
  spanProblem,
} from "../src/rules.js";

const at = (text: string) => parseTime(text) as number;
const span = (start: string, end: string) => ({ start: at(start), end: at(end) });

describe("times and dates", () => {
  it("read and write 24-hour HH:MM times", () => {
    assert.equal(parseTime("09:30"), 570);
    assert.equal(parseTime("00:00"), 0);
    assert.equal(parseTime("23:59"), 1439);
    for (const bad of ["9:30", "24:00", "12:60", "12:3", " 12:30", "noon"]) {
      assert.equal(parseTime(bad), undefined, bad);
    }
    assert.equal(formatTime(570), "09:30");
    assert.equal(formatTime(1200), "20:00");
  });

  it("accept only dates that exist", () => {
    assert.ok(isCalendarDate("2030-01-31"));
    assert.ok(isCalendarDate("2028-02-29"));
    assert.ok(!isCalendarDate("2030-02-29"));
    assert.ok(!isCalendarDate("2030-13-01"));
    assert.ok(!isCalendarDate("2030-1-31"));
  });
});

describe("booking rules", () => {
  it("allow quarter-hour bookings of up to four hours within opening hours", () => {
    assert.equal(spanProblem(span("08:00", "12:00")), undefined);
    assert.equal(spanProblem(span("19:45", "20:00")), undefined);
    assert.equal(spanProblem(span("09:10", "10:00"))?.field, "start");
    assert.equal(spanProblem(span("07:45", "09:00"))?.field, "start");
    assert.equal(spanProblem(span("09:00", "09:20"))?.field, "end");
    assert.equal(spanProblem(span("10:00", "10:00"))?.field, "end");
    assert.equal(spanProblem(span("19:00", "20:15"))?.field, "end");
    assert.equal(spanProblem(span("09:00", "13:15"))?.field, "end");
  });

  it("count a shared minute as an overlap, back-to-back as none", () => {
    const meeting = span("10:00", "11:00");
    assert.ok(overlaps(meeting, span("10:30", "11:30")));
    assert.ok(overlaps(meeting, span("09:30", "10:15")));
    assert.ok(overlaps(meeting, span("10:15", "10:45")));
    assert.ok(overlaps(meeting, span("09:00", "12:00")));
    assert.ok(!overlaps(meeting, span("11:00", "12:00")));
    assert.ok(!overlaps(meeting, span("09:00", "10:00")));
  });

  it("find the free parts of the day around bookings", () => {
    assert.deepEqual(freeSpans([]), [span("08:00", "20:00")]);
    assert.deepEqual(freeSpans([span("13:00", "14:00"), span("08:00", "09:30")]), [
      span("09:30", "13:00"),
      span("14:00", "20:00"),
    ]);
    assert.deepEqual(freeSpans([span("10:00", "11:00"), span("11:00", "20:00")]), [
      span("08:00", "10:00"),
    ]);
  });
});
