// The building's booking rules. Times of day are minutes since midnight: a booking never
// spans midnight, so a date and two such numbers say when it is.

export const OPENS_AT = 8 * 60;
export const CLOSES_AT = 20 * 60;
export const SLOT_MINUTES = 15;
export const MAX_MINUTES = 4 * 60;

export interface Span {
  start: number;
  end: number;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "09:30" -> 570; undefined for anything that is not a 24-hour HH:MM time. */
export function parseTime(text: string): number | undefined {
  const match = TIME.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

export function formatTime(minutes: number): string {
  const hours = String(Math.floor(minutes / 60)).padStart(2, "0");
  return `${hours}:${String(minutes % 60).padStart(2, "0")}`;
}

/** Whether `text` is a YYYY-MM-DD date that exists (no 30 February). */
export function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

export interface SpanProblem {
  field: "start" | "end";
  message: string;
}

/** Why `span` cannot be booked, naming the end at fault, or undefined when it can. */
export function spanProblem(span: Span): SpanProblem | undefined {
  const hours = `rooms can be booked from ${formatTime(OPENS_AT)} to ${formatTime(CLOSES_AT)}`;
  if (span.start % SLOT_MINUTES !== 0)
    return { field: "start", message: "start on the quarter hour" };
  if (span.start < OPENS_AT) return { field: "start", message: hours };
  if (span.end % SLOT_MINUTES !== 0) return { field: "end", message: "end on the quarter hour" };
  if (span.end <= span.start) return { field: "end", message: "a booking ends after it starts" };
  if (span.end > CLOSES_AT) return { field: "end", message: hours };
  if (span.end - span.start > MAX_MINUTES) {
    return { field: "end", message: `a booking lasts at most ${MAX_MINUTES / 60} hours` };
  }
  return undefined;
}

/** Whether two spans share a minute; back-to-back spans (one ends as the other starts) do not. */
export function overlaps(a: Span, b: Span): boolean {
  const startsInside = b.start <= a.start && a.start < b.end;
  const endsInside = b.start < a.end && a.end <= b.end;
  return startsInside || endsInside;
}

/** The parts of the opening hours that none of `booked` covers, in order. */
export function freeSpans(booked: readonly Span[]): Span[] {
  const free: Span[] = [];
  let cursor = OPENS_AT;
  for (const span of [...booked].sort((a, b) => a.start - b.start)) {
    if (span.start > cursor) free.push({ start: cursor, end: span.start });
    cursor = Math.max(cursor, span.end);
  }
  if (cursor < CLOSES_AT) free.push({ start: cursor, end: CLOSES_AT });
  return free;
}
