// Decorators read their metadata through reflect-metadata: load it before any of them runs.
import "reflect-metadata";

import type { INestApplication, LogLevel } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";

import { AppModule } from "./app.module.js";

export type { Expense, Group } from "./groups/groups.service.js";

/** The API, with data of its own, ready to listen. Quiet by default, as tests want it. */
export function createApp(logLevels: LogLevel[] | false = false): Promise<INestApplication> {
  return NestFactory.create(AppModule, { logger: logLevels });
}
