import { Body, Controller, Delete, Get, Param, ParseIntPipe, Post } from "@nestjs/common";

import { type Booking, BookingService, type NewBooking } from "./booking.service.js";
import { BookingBodyPipe } from "./validation.js";

@Controller("bookings")
export class BookingsController {
  constructor(private readonly bookings: BookingService) {}

  @Post()
  book(@Body(BookingBodyPipe) request: NewBooking): Booking {
    return this.bookings.book(request);
  }

  @Get(":id")
  get(@Param("id", ParseIntPipe) bookingId: number): Booking {
    return this.bookings.get(bookingId);
  }

  /** Cancelling keeps the booking, marked cancelled, and answers it. */
  @Delete(":id")
  cancel(@Param("id", ParseIntPipe) bookingId: number): Booking {
    return this.bookings.cancel(bookingId);
  }
}
