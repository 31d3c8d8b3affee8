// Preloaded into the candidate's service (node --import): while the grader's clock file
// holds an instant (epoch milliseconds), `Date` reads that instant instead of the system
// clock, so rules over days (due dates, late fees) can be tested over HTTP. With no file,
// real time.
import { readFileSync } from "node:fs";

const CLOCK_FILE = process.env.TENON_CLOCK_FILE;
const SystemDate = Date;

function now() {
  try {
    const instant = Number(readFileSync(CLOCK_FILE, "utf8"));
    if (Number.isFinite(instant) && instant > 0) return instant;
  } catch {
    // No clock set yet: real time.
  }
  return SystemDate.now();
}

globalThis.Date = new Proxy(SystemDate, {
  construct: (target, args, newTarget) =>
    Reflect.construct(target, args.length > 0 ? args : [now()], newTarget),
  apply: () => new SystemDate(now()).toString(),
  get: (target, property, receiver) =>
    property === "now" ? now : Reflect.get(target, property, receiver),
});
