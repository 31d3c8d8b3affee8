// Times of day as the API writes them ("09:30"), and as people read them. The rules here
// mirror the API's so that the form can explain a mistake at once; the API has the last word.

export const OPENS_AT = "08:00";
export const CLOSES_AT = "20:00";
export const SLOT_MINUTES = 15;
export const MAX_MINUTES = 4 * 60;

export interface Span {
  start: string;
  end: string;
}

/** "09:30" -> 570; undefined for anything that is not a 24-hour HH:MM time. */
export function toMinutes(time: string): number | undefined {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** 570 -> "09:30". */
export function toTime(minutes: number): string {
  const hours = String(Math.floor(minutes / 60)).padStart(2, "0");
  return `${hours}:${String(minutes % 60).padStart(2, "0")}`;
}

/** 45 -> "45 min", 60 -> "1 h", 90 -> "1 h 30 min". */
export function formatDuration(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** "09:30–10:15 (45 min)". */
export function formatSpan(span: Span): string {
  const minutes = (toMinutes(span.end) ?? 0) - (toMinutes(span.start) ?? 0);
  return `${span.start}–${span.end} (${formatDuration(minutes)})`;
}

/** The date of `moment` on the user's own calendar, as YYYY-MM-DD. */
export function isoDate(moment: Date): string {
  const month = String(moment.getMonth() + 1).padStart(2, "0");
  const day = String(moment.getDate()).padStart(2, "0");
  return `${moment.getFullYear()}-${month}-${day}`;
}
