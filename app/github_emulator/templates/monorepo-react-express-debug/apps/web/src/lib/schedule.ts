// The day on screen: one room's bookings on one date and the time still free, kept in step
// with what the user does without asking the API again.
import type { Booking, Day } from "./api.js";
import { toMinutes, toTime, type Span } from "./time.js";

export interface Schedule {
  roomId: number | null;
  date: string;
  status: "idle" | "loading" | "ready" | "failed";
  bookings: Booking[];
  free: Span[];
  error: string | null;
}

export type ScheduleAction =
  | { type: "daySelected"; roomId: number; date: string }
  | ({ type: "dayLoaded"; roomId: number; date: string } & Day)
  | { type: "dayFailed"; roomId: number; date: string; message: string }
  | { type: "bookingAdded"; booking: Booking }
  | { type: "bookingCancelled"; bookingId: number };

export function initialSchedule(date: string): Schedule {
  return { roomId: null, date, status: "idle", bookings: [], free: [], error: null };
}

interface Minutes {
  start: number;
  end: number;
}

const inMinutes = (span: Span): Minutes => ({
  start: toMinutes(span.start) ?? 0,
  end: toMinutes(span.end) ?? 0,
});
const inTimes = (span: Minutes): Span => ({ start: toTime(span.start), end: toTime(span.end) });

/** `free` without the time `taken` covers. */
export function takeTime(free: readonly Span[], taken: Span): Span[] {
  const cut = inMinutes(taken);
  return free.flatMap((span) => {
    const { start, end } = inMinutes(span);
    if (end <= cut.start || cut.end <= start) return [span];
    const left = start < cut.start ? [{ start, end: cut.start }] : [];
    const right = cut.end < end ? [{ start: cut.end, end }] : [];
    return [...left, ...right].map(inTimes);
  });
}

/** `free` with `released` added back, touching spans merged into one. */
export function releaseTime(free: readonly Span[], released: Span): Span[] {
  const spans = [...free, released].map(inMinutes).sort((a, b) => a.start - b.start);
  const merged: Minutes[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last !== undefined && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged.map(inTimes);
}

const byStart = (a: Booking, b: Booking) => a.start.localeCompare(b.start);

export function scheduleReducer(state: Schedule, action: ScheduleAction): Schedule {
  // Answers for a day the user has since left are dropped.
  const isShown = (roomId: number, date: string) => state.roomId === roomId && state.date === date;
  switch (action.type) {
    case "daySelected":
      return { ...initialSchedule(action.date), roomId: action.roomId, status: "loading" };
    case "dayLoaded":
      if (!isShown(action.roomId, action.date)) return state;
      return {
        ...state,
        status: "ready",
        bookings: [...action.bookings].sort(byStart),
        free: action.free,
      };
    case "dayFailed":
      if (!isShown(action.roomId, action.date)) return state;
      return { ...state, status: "failed", error: action.message };
    case "bookingAdded": {
      const { booking } = action;
      if (!isShown(booking.roomId, booking.date)) return state;
      return {
        ...state,
        bookings: [...state.bookings, booking],
        free: takeTime(state.free, booking),
      };
    }
    case "bookingCancelled": {
      const cancelled = state.bookings.find((booking) => booking.id === action.bookingId);
      if (cancelled === undefined) return state;
      return {
        ...state,
        bookings: state.bookings.filter((booking) => booking !== cancelled),
        free: releaseTime(state.free, cancelled),
      };
    }
  }
}
