// Request bodies and parameters, checked field by field: a bad one is a 422 naming it.
import { CalendarError, type BookingRequest } from "./calendar.js";
import { isCalendarDate, parseTime, spanProblem } from "./rules.js";

type Fields = Record<string, unknown>;

function invalid(field: string, message: string): CalendarError {
  return new CalendarError(422, message, { field });
}

function fieldsOf(body: unknown): Fields {
  return typeof body === "object" && body !== null ? (body as Fields) : {};
}

function text(fields: Fields, field: string, maxLength: number): string {
  const value = fields[field];
  const trimmed = typeof value === "string" ? value.trim() : "";
  if (trimmed === "" || trimmed.length > maxLength) {
    throw invalid(field, `${field} must be 1-${maxLength} characters`);
  }
  return trimmed;
}

function integer(fields: Fields, field: string, min: number, max: number): number {
  const value = fields[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `${field} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function parseDate(value: unknown, field = "date"): string {
  if (typeof value !== "string" || !isCalendarDate(value)) {
    throw invalid(field, `${field} must be a date such as 2030-01-31`);
  }
  return value;
}

function time(fields: Fields, field: string): number {
  const value = fields[field];
  const minutes = typeof value === "string" ? parseTime(value) : undefined;
  if (minutes === undefined) throw invalid(field, `${field} must be a time such as 09:30`);
  return minutes;
}

export function parseRoom(body: unknown): { name: string; capacity: number } {
  const fields = fieldsOf(body);
  return { name: text(fields, "name", 40), capacity: integer(fields, "capacity", 1, 50) };
}

export function parseBooking(body: unknown): BookingRequest {
  const fields = fieldsOf(body);
  const date = parseDate(fields.date);
  const start = time(fields, "start");
  const end = time(fields, "end");
  const problem = spanProblem({ start, end });
  if (problem !== undefined) throw invalid(problem.field, problem.message);
  return {
    date,
    start,
    end,
    title: text(fields, "title", 80),
    organizer: text(fields, "organizer", 60),
    attendees: integer(fields, "attendees", 1, 50),
  };
}

/** A path id: a positive integer, or the thing it names does not exist. */
export function parseId(value: string | undefined, what: "room" | "booking"): number {
  const id = value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : 0;
  if (id < 1) throw new CalendarError(404, `${what} not found`);
  return id;
}
