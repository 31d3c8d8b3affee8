// The booking form: what the user typed, checked and turned into a request for the API.
import type { NewBooking, Room } from "./api.js";
import { CLOSES_AT, MAX_MINUTES, OPENS_AT, SLOT_MINUTES, toMinutes, toTime } from "./time.js";

export interface BookingForm {
  date: string;
  start: string;
  minutes: string;
  title: string;
  organizer: string;
  attendees: string;
}

export type FormErrors = Partial<Record<keyof BookingForm, string>>;

export type FormCheck = { ok: true; booking: NewBooking } | { ok: false; errors: FormErrors };

export const DURATIONS = [15, 30, 45, 60, 90, 120, 180, 240];

export function emptyForm(date: string): BookingForm {
  return { date, start: "09:00", minutes: "60", title: "", organizer: "", attendees: "2" };
}

const opensAt = toMinutes(OPENS_AT) as number;
const closesAt = toMinutes(CLOSES_AT) as number;

/** The form's answer for one field: a value, or what to tell the user. */
type Field<T> = { value: T } | { error: string };

function text(value: string, maxLength: number, what: string): Field<string> {
  const trimmed = value.trim();
  return trimmed !== "" && trimmed.length <= maxLength
    ? { value: trimmed }
    : { error: `Enter ${what} (up to ${maxLength} characters)` };
}

function day(value: string): Field<string> {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? { value } : { error: "Pick a date" };
}

function start(value: string): Field<number> {
  const minutes = toMinutes(value);
  if (minutes === undefined || minutes % SLOT_MINUTES !== 0) {
    return { error: "Start on the quarter hour, e.g. 09:15" };
  }
  return minutes < opensAt ? { error: `Rooms open at ${OPENS_AT}` } : { value: minutes };
}

function duration(value: string, startsAt: number | undefined): Field<number> {
  const minutes = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(minutes >= SLOT_MINUTES && minutes <= MAX_MINUTES && minutes % SLOT_MINUTES === 0)) {
    return { error: `A meeting lasts 15 minutes to ${MAX_MINUTES / 60} hours` };
  }
  if (startsAt !== undefined && startsAt + minutes > closesAt) {
    return { error: `Rooms close at ${CLOSES_AT}` };
  }
  return { value: minutes };
}

function attendees(value: string, room: Room): Field<number> {
  const count = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  return count >= 1 && count <= room.capacity
    ? { value: count }
    : { error: `${room.name} seats 1 to ${room.capacity}` };
}

/** Every mistake at once, or the request to send. */
export function checkBookingForm(form: BookingForm, room: Room): FormCheck {
  const errors: FormErrors = {};
  function take<T>(name: keyof BookingForm, field: Field<T>): T | undefined {
    if ("error" in field) errors[name] = field.error;
    return "value" in field ? field.value : undefined;
  }
  const date = take("date", day(form.date));
  const startsAt = take("start", start(form.start));
  const minutes = take("minutes", duration(form.minutes, startsAt));
  const title = take("title", text(form.title, 80, "a title"));
  const organizer = take("organizer", text(form.organizer, 60, "your name"));
  const count = take("attendees", attendees(form.attendees, room));
  if (
    date === undefined ||
    startsAt === undefined ||
    minutes === undefined ||
    title === undefined ||
    organizer === undefined ||
    count === undefined
  ) {
    return { ok: false, errors };
  }
  const booking = { date, title, organizer, attendees: count };
  return {
    ok: true,
    booking: { ...booking, start: toTime(startsAt), end: toTime(startsAt + minutes) },
  };
}

/** The form field to show an API error beside: the API speaks of `end`, the form of a duration. */
export function formField(apiField: string | undefined): keyof BookingForm | undefined {
  if (apiField === "end") return "minutes";
  const fields: readonly string[] = ["date", "start", "title", "organizer", "attendees"];
  return apiField !== undefined && fields.includes(apiField)
    ? (apiField as keyof BookingForm)
    : undefined;
}
