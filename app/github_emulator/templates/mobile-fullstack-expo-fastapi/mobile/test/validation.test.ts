import assert from "node:assert/strict";
import { test } from "node:test";

import { validateHabitName } from "../src/lib/validation";

test("a habit's name follows the API's rules", () => {
  assert.deepEqual(validateHabitName("  Stretch ", ["Read"]), { ok: true, name: "Stretch" });
  assert.equal(validateHabitName("   ", []).ok, false);
  assert.equal(validateHabitName("x".repeat(41), []).ok, false);
  assert.deepEqual(validateHabitName("read", ["Read"]), {
    ok: false,
    error: "You track this habit already",
  });
});
