// The booking rules. Rooms are booked in quarter-hour slots, for at most MAX_BOOKING_HOURS,
// starting in the future. A room holds one meeting at a time and no more attendees than its
// capacity; an organizer runs one meeting at a time. Cancelling frees the slot.
import { Inject, Injectable } from "@nestjs/common";

import { CLOCK, type Clock } from "./clock.js";

export const SLOT_MINUTES = 15;
export const MAX_BOOKING_HOURS = 4;
const MINUTE_MS = 60 * 1000;

export interface Room {
  id: number;
  name: string;
  capacity: number;
}

/** A stretch of time, as ISO 8601 instants; `end` is exclusive. */
export interface Span {
  start: string;
  end: string;
}

export interface NewBooking extends Span {
  roomId: number;
  title: string;
  organizer: string;
  attendees: number;
}

export interface Booking extends NewBooking {
  id: number;
  status: "confirmed" | "cancelled";
  cancelledAt: string | null;
}

/** A request the rules refuse; `status` is the HTTP status it answers with. */
export class BookingError extends Error {
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
  ) {
    super(message);
    this.name = "BookingError";
  }
}

/** Whether two spans share any time; one ending as the other starts is no overlap. */
export function overlaps(a: Span, b: Span): boolean {
  return Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end);
}

@Injectable()
export class BookingService {
  private readonly rooms = new Map<number, Room>();
  private readonly bookings = new Map<number, Booking>();

  constructor(@Inject(CLOCK) private readonly now: Clock) {}

  addRoom(name: string, capacity: number): Room {
    const taken = [...this.rooms.values()].some(
      (room) => room.name.toLowerCase() === name.toLowerCase(),
    );
    if (taken) throw new BookingError(409, `a room named ${name} already exists`);
    const room = { id: this.rooms.size + 1, name, capacity };
    this.rooms.set(room.id, room);
    return room;
  }

  listRooms(): Room[] {
    return [...this.rooms.values()];
  }

  book(request: NewBooking): Booking {
    const room = this.room(request.roomId);
    this.checkSlot(request);
    if (request.attendees > room.capacity) {
      throw new BookingError(409, `${room.name} seats at most ${room.capacity}`);
    }
    const clash = this.confirmed().find(
      (booking) => booking.roomId === room.id && overlaps(booking, request),
    );
    if (clash) {
      throw new BookingError(409, `${room.name} is booked from ${clash.start} to ${clash.end}`);
    }
    const busy = this.confirmed().find(
      (booking) => booking.organizer === request.organizer && overlaps(booking, request),
    );
    if (busy) {
      throw new BookingError(
        409,
        `${request.organizer} already has a meeting from ${busy.start} to ${busy.end}`,
      );
    }
    const booking: Booking = {
      ...request,
      id: this.bookings.size + 1,
      status: "confirmed",
      cancelledAt: null,
    };
    this.bookings.set(booking.id, booking);
    return booking;
  }

  get(bookingId: number): Booking {
    const booking = this.bookings.get(bookingId);
    if (booking === undefined) throw new BookingError(404, "booking not found");
    return booking;
  }

  cancel(bookingId: number): Booking {
    const booking = this.get(bookingId);
    if (booking.status === "cancelled") {
      throw new BookingError(409, "this booking is already cancelled");
    }
    const now = this.now();
    if (Date.parse(booking.start) <= now.getTime()) {
      throw new BookingError(409, "a meeting that has started cannot be cancelled");
    }
    booking.status = "cancelled";
    booking.cancelledAt = now.toISOString();
    return booking;
  }

  /** The room's confirmed bookings starting on `day` (YYYY-MM-DD, UTC), earliest first. */
  schedule(roomId: number, day: string): Booking[] {
    this.room(roomId);
    return this.confirmed()
      .filter((booking) => booking.roomId === roomId && booking.start.startsWith(day))
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  }

  /** Rooms free for the whole span that seat `attendees`, the smallest that fits first. */
  available(span: Span, attendees: number): Room[] {
    this.checkSlot(span);
    return this.listRooms()
      .filter((room) => room.capacity >= attendees)
      .filter(
        (room) =>
          !this.confirmed().some(
            (booking) => booking.roomId === room.id && overlaps(booking, span),
          ),
      )
      .sort((a, b) => a.capacity - b.capacity || a.id - b.id);
  }

  private checkSlot(span: Span): void {
    const start = Date.parse(span.start);
    const end = Date.parse(span.end);
    if (end <= start) throw new BookingError(422, "end must be after start");
    const slotMs = SLOT_MINUTES * MINUTE_MS;
    if (start % slotMs !== 0 || end % slotMs !== 0) {
      throw new BookingError(422, `start and end must fall on ${SLOT_MINUTES}-minute marks`);
    }
    if (end - start > MAX_BOOKING_HOURS * 60 * MINUTE_MS) {
      throw new BookingError(422, `a booking lasts at most ${MAX_BOOKING_HOURS} hours`);
    }
    if (start <= this.now().getTime()) throw new BookingError(422, "start must be in the future");
  }

  private confirmed(): Booking[] {
    return [...this.bookings.values()].filter((booking) => booking.status === "confirmed");
  }

  private room(roomId: number): Room {
    const room = this.rooms.get(roomId);
    if (room === undefined) throw new BookingError(404, "room not found");
    return room;
  }
}
