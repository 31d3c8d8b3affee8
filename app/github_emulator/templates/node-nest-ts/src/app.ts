import "reflect-metadata";

import type { INestApplication, LogLevel } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";

import { AppModule } from "./app.module.js";
import { type Clock, systemClock } from "./clock.js";

export interface AppOptions {
  clock?: Clock;
  /** Nest logs every route it maps at start; tests only want to hear about trouble. */
  logLevels?: LogLevel[];
}

export async function createApp(options: AppOptions = {}): Promise<INestApplication> {
  return NestFactory.create(AppModule.withClock(options.clock ?? systemClock), {
    logger: options.logLevels ?? ["error", "warn"],
  });
}
