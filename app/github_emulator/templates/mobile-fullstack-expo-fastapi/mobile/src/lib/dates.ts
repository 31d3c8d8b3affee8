import type { Day } from "./types";

const pad = (value: number) => value.toString().padStart(2, "0");

/** The phone's local calendar day of `date`: the API counts streaks in the user's days. */
export function dayKey(date: Date): Day {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The day `count` days after `day` (before it when negative). */
export function addDays(day: Day, count: number): Day {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  // Calendar arithmetic in UTC, where no day is 23 or 25 hours long.
  const moved = new Date(Date.UTC(year, month - 1, date + count));
  return `${moved.getUTCFullYear()}-${pad(moved.getUTCMonth() + 1)}-${pad(moved.getUTCDate())}`;
}
