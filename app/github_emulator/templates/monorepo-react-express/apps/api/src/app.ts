import express, { type NextFunction, type Request, type Response } from "express";

import { Calendar, CalendarError, type Booking } from "./calendar.js";
import { parseBooking, parseDate, parseId, parseRoom } from "./requests.js";
import { formatTime, type Span } from "./rules.js";

export { Calendar } from "./calendar.js";

// On the wire, times of day are "HH:MM" strings.
const presentSpan = (span: Span) => ({ start: formatTime(span.start), end: formatTime(span.end) });
const presentBooking = (booking: Booking) => ({ ...booking, ...presentSpan(booking) });

export function createApp(calendar = new Calendar()): express.Express {
  const app = express();
  app.use(express.json({ limit: "16kb" }));

  app.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/rooms", (_req, res) => {
    res.json(calendar.rooms());
  });

  app.post("/rooms", (req, res) => {
    const { name, capacity } = parseRoom(req.body);
    res.status(201).json(calendar.addRoom(name, capacity));
  });

  app.get("/rooms/:roomId/bookings", (req, res) => {
    const roomId = parseId(req.params.roomId, "room");
    res.json(calendar.bookings(roomId, parseDate(req.query.date)).map(presentBooking));
  });

  app.post("/rooms/:roomId/bookings", (req, res) => {
    const roomId = parseId(req.params.roomId, "room");
    res.status(201).json(presentBooking(calendar.book(roomId, parseBooking(req.body))));
  });

  app.get("/rooms/:roomId/availability", (req, res) => {
    const roomId = parseId(req.params.roomId, "room");
    const date = parseDate(req.query.date);
    res.json({ date, free: calendar.freeTime(roomId, date).map(presentSpan) });
  });

  app.delete("/bookings/:bookingId", (req, res) => {
    calendar.cancel(parseId(req.params.bookingId, "booking"));
    res.status(204).end();
  });

  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof CalendarError) {
      res.status(err.status).json({ error: err.message, ...err.details });
    } else if (err instanceof SyntaxError) {
      res.status(400).json({ error: "malformed JSON" });
    } else {
      next(err);
    }
  });
  return app;
}
