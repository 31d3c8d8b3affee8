import assert from "node:assert/strict";
import { test } from "node:test";

import { addDays, dayKey } from "../src/lib/dates";

test("a day is the phone's local calendar date", () => {
  // 23:30 local time: still the 9th here, whatever the date is in UTC.
  assert.equal(dayKey(new Date(2026, 2, 9, 23, 30)), "2026-03-09");
  assert.equal(dayKey(new Date(2026, 0, 1, 0, 5)), "2026-01-01");
});

test("days are added across months, years and leap days", () => {
  assert.equal(addDays("2026-02-28", 1), "2026-03-01");
  assert.equal(addDays("2028-02-28", 1), "2028-02-29");
  assert.equal(addDays("2026-01-01", -1), "2025-12-31");
  assert.equal(addDays("2026-03-10", -6), "2026-03-04");
});
