// The web app's client for the Meeting Rooms API (apps/api). It takes the fetch to use, so
// that tests can hand it one.
import type { Span } from "./time.js";

export interface Room {
  id: number;
  name: string;
  capacity: number;
}

export interface NewBooking extends Span {
  date: string;
  title: string;
  organizer: string;
  attendees: number;
}

export interface Booking extends NewBooking {
  id: number;
  roomId: number;
}

export interface Day {
  bookings: Booking[];
  free: Span[];
}

/** An answer other than 2xx: its status, the API's message and the field it blames, if any. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface RoomsApi {
  rooms(): Promise<Room[]>;
  day(roomId: number, date: string): Promise<Day>;
  book(roomId: number, booking: NewBooking): Promise<Booking>;
  cancel(bookingId: number): Promise<void>;
}

export function createApiClient(
  baseUrl: string,
  fetchFn: typeof fetch = (input, init) => fetch(input, init),
): RoomsApi {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetchFn(baseUrl + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new ApiError(response.status, problem.error ?? response.statusText, problem.field);
    }
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  return {
    rooms: () => call("GET", "/rooms"),
    async day(roomId, date) {
      const query = `?date=${encodeURIComponent(date)}`;
      const [bookings, availability] = await Promise.all([
        call<Booking[]>("GET", `/rooms/${roomId}/bookings${query}`),
        call<{ free: Span[] }>("GET", `/rooms/${roomId}/availability${query}`),
      ]);
      return { bookings, free: availability.free };
    },
    book: (roomId, booking) => call("POST", `/rooms/${roomId}/bookings`, booking),
    cancel: (bookingId) => call("DELETE", `/bookings/${bookingId}`),
  };
}
