import { type DynamicModule, Module } from "@nestjs/common";
import { APP_FILTER } from "@nestjs/core";

import { BookingErrorFilter } from "./booking-error.filter.js";
import { BookingService } from "./booking.service.js";
import { BookingsController } from "./bookings.controller.js";
import { CLOCK, type Clock } from "./clock.js";
import { HealthController } from "./health.controller.js";
import { RoomsController } from "./rooms.controller.js";

@Module({})
export class AppModule {
  /** The whole service, reading the time from `clock`. */
  static withClock(clock: Clock): DynamicModule {
    return {
      module: AppModule,
      controllers: [HealthController, RoomsController, BookingsController],
      providers: [
        BookingService,
        { provide: CLOCK, useValue: clock },
        { provide: APP_FILTER, useClass: BookingErrorFilter },
      ],
    };
  }
}
