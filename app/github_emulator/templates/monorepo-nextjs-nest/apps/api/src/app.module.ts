import { Module } from "@nestjs/common";

import { GroupsController } from "./groups/groups.controller.js";
import { GroupsService } from "./groups/groups.service.js";
import { HealthController } from "./health.controller.js";

@Module({
  controllers: [HealthController, GroupsController],
  providers: [GroupsService],
})
export class AppModule {}
