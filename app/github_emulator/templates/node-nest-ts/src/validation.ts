// Request parsing: each pipe turns a body or query into the service's input, or answers
// 400 listing every problem it found. Whether the input obeys the booking rules is the
// service's business, not these pipes'.
import { BadRequestException, Injectable, type PipeTransform } from "@nestjs/common";

import type { NewBooking, Span } from "./booking.service.js";

const ORGANIZER = /^[a-z0-9][a-z0-9.-]{0,39}$/;
// An instant with its offset, to the minute or finer: 2030-01-07T09:00Z, 2030-01-07T10:00+01:00.
const INSTANT =
  /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether text starting YYYY-MM-DD names a day of the calendar (Date.parse takes 02-30). */
function isRealDay(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export interface NewRoom {
  name: string;
  capacity: number;
}

export interface SlotQuery extends Span {
  attendees: number;
}

/** Reads fields off an object, collecting a problem for each field that does not fit. */
class Fields {
  readonly problems: string[] = [];
  private readonly values: Record<string, unknown>;

  constructor(source: unknown, what: string) {
    const isObject = typeof source === "object" && source !== null && !Array.isArray(source);
    if (!isObject) this.problems.push(`${what} must be a JSON object`);
    this.values = isObject ? (source as Record<string, unknown>) : {};
  }

  text(name: string, maxLength: number): string {
    const value = this.values[name];
    const trimmed = typeof value === "string" ? value.trim() : "";
    if (trimmed === "" || trimmed.length > maxLength) {
      this.problems.push(`${name} must be a string of 1-${maxLength} characters`);
    }
    return trimmed;
  }

  integer(name: string, min: number, max: number, fromText = false): number {
    const raw = this.values[name];
    const value = fromText && typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}`);
      return 0;
    }
    return value;
  }

  /** A positive whole number naming a stored row. */
  id(name: string): number {
    const value = this.values[name];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      this.problems.push(`${name} must be a positive integer`);
      return 0;
    }
    return value;
  }

  matching(name: string, pattern: RegExp, described: string): string {
    const value = this.values[name];
    if (typeof value !== "string" || !pattern.test(value)) {
      this.problems.push(`${name} must be ${described}`);
      return "";
    }
    return value;
  }

  /** An ISO 8601 instant with an offset, normalised to UTC. */
  instant(name: string): string {
    const value = this.matching(name, INSTANT, "an ISO 8601 date-time with an offset");
    if (value === "") return "";
    if (!isRealDay(value)) {
      this.problems.push(`${name} is not a real date`);
      return "";
    }
    return new Date(value).toISOString();
  }

  done<T>(result: T): T {
    if (this.problems.length > 0) throw new BadRequestException(this.problems);
    return result;
  }
}

@Injectable()
export class RoomBodyPipe implements PipeTransform<unknown, NewRoom> {
  transform(body: unknown): NewRoom {
    const fields = new Fields(body, "the body");
    return fields.done({
      name: fields.text("name", 60),
      capacity: fields.integer("capacity", 1, 50),
    });
  }
}

@Injectable()
export class BookingBodyPipe implements PipeTransform<unknown, NewBooking> {
  transform(body: unknown): NewBooking {
    const fields = new Fields(body, "the body");
    return fields.done({
      roomId: fields.id("roomId"),
      title: fields.text("title", 100),
      organizer: fields.matching("organizer", ORGANIZER, "1-40 of a-z, 0-9, '.', '-'"),
      start: fields.instant("start"),
      end: fields.instant("end"),
      attendees: fields.integer("attendees", 1, 500),
    });
  }
}

@Injectable()
export class SlotQueryPipe implements PipeTransform<unknown, SlotQuery> {
  transform(query: unknown): SlotQuery {
    const fields = new Fields(query, "the query");
    return fields.done({
      start: fields.instant("start"),
      end: fields.instant("end"),
      attendees: fields.integer("attendees", 1, 500, true),
    });
  }
}

@Injectable()
export class DayPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    const fields = new Fields({ date: value }, "the query");
    const day = fields.matching("date", DAY, "a day as YYYY-MM-DD");
    if (day !== "" && !isRealDay(day)) fields.problems.push("date is not a real day");
    return fields.done(day);
  }
}
