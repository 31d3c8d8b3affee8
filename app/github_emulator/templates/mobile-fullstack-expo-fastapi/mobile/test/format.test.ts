import assert from "node:assert/strict";
import { test } from "node:test";

import { streakLabel, syncLabel, weekStrip } from "../src/lib/format";

test("streaks and the sync state read naturally", () => {
  assert.equal(streakLabel(0), "No streak yet");
  assert.equal(streakLabel(1), "1-day streak");
  assert.equal(streakLabel(12), "12-day streak");
  assert.equal(syncLabel(0), "All changes saved");
  assert.equal(syncLabel(1), "1 change waiting to sync");
  assert.equal(syncLabel(3), "3 changes waiting to sync");
  assert.equal(weekStrip([true, false, true, true, false, true, true]), "●○●●○●●");
});
