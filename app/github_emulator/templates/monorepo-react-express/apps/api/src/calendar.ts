// Rooms and their bookings, in memory: every restart starts empty.
import { freeSpans, overlaps, type Span } from "./rules.js";

export interface Room {
  id: number;
  name: string;
  capacity: number;
}

/** A request already checked field by field (see requests.ts); the calendar checks the rest. */
export interface BookingRequest extends Span {
  date: string;
  title: string;
  organizer: string;
  attendees: number;
}

export interface Booking extends BookingRequest {
  id: number;
  roomId: number;
}

export class CalendarError extends Error {
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
    readonly details: { field?: string; conflictsWith?: number } = {},
  ) {
    super(message);
  }
}

export class Calendar {
  private readonly roomsById = new Map<number, Room>();
  private readonly bookingsById = new Map<number, Booking>();
  private lastRoomId = 0;
  private lastBookingId = 0;

  addRoom(name: string, capacity: number): Room {
    const room = { id: ++this.lastRoomId, name, capacity };
    this.roomsById.set(room.id, room);
    return room;
  }

  rooms(): Room[] {
    return [...this.roomsById.values()];
  }

  room(roomId: number): Room {
    const room = this.roomsById.get(roomId);
    if (room === undefined) throw new CalendarError(404, "room not found");
    return room;
  }

  /** A room's bookings on one date, earliest first. */
  bookings(roomId: number, date: string): Booking[] {
    this.room(roomId);
    return [...this.bookingsById.values()]
      .filter((booking) => booking.roomId === roomId && booking.date === date)
      .sort((a, b) => a.start - b.start);
  }

  book(roomId: number, request: BookingRequest): Booking {
    const room = this.room(roomId);
    if (request.attendees > room.capacity) {
      throw new CalendarError(422, `${room.name} seats at most ${room.capacity}`, {
        field: "attendees",
      });
    }
    const clash = this.bookings(roomId, request.date).find((booking) => overlaps(booking, request));
    if (clash !== undefined) {
      throw new CalendarError(409, `${room.name} is already booked then`, {
        conflictsWith: clash.id,
      });
    }
    const booking = { ...request, id: ++this.lastBookingId, roomId };
    this.bookingsById.set(booking.id, booking);
    return booking;
  }

  cancel(bookingId: number): void {
    if (!this.bookingsById.delete(bookingId)) {
      throw new CalendarError(404, "booking not found");
    }
  }

  /** The free parts of a room's opening hours on one date. */
  freeTime(roomId: number, date: string): Span[] {
    return freeSpans(this.bookings(roomId, date));
  }
}
