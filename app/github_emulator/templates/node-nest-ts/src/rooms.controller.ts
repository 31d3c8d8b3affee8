import { Body, Controller, Get, Param, ParseIntPipe, Post, Query } from "@nestjs/common";

import { type Booking, BookingService, type Room } from "./booking.service.js";
import {
  DayPipe,
  type NewRoom,
  RoomBodyPipe,
  type SlotQuery,
  SlotQueryPipe,
} from "./validation.js";

@Controller("rooms")
export class RoomsController {
  constructor(private readonly bookings: BookingService) {}

  @Post()
  create(@Body(RoomBodyPipe) room: NewRoom): Room {
    return this.bookings.addRoom(room.name, room.capacity);
  }

  @Get()
  list(): Room[] {
    return this.bookings.listRooms();
  }

  @Get("available")
  available(@Query(SlotQueryPipe) slot: SlotQuery): Room[] {
    return this.bookings.available(slot, slot.attendees);
  }

  @Get(":id/bookings")
  schedule(
    @Param("id", ParseIntPipe) roomId: number,
    @Query("date", DayPipe) day: string,
  ): Booking[] {
    return this.bookings.schedule(roomId, day);
  }
}
