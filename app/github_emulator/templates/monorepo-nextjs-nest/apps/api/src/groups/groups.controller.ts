import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post } from "@nestjs/common";

import type { Share } from "../ledger.js";
import { GroupsService, type Expense, type Group } from "./groups.service.js";
import { ParseBody, parseExpense, parseGroup, type NewExpense, type NewGroup } from "./requests.js";

@Controller("groups")
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Post()
  create(@Body(new ParseBody(parseGroup)) input: NewGroup): Group {
    return this.groups.create(input);
  }

  @Get(":groupId")
  get(@Param("groupId", ParseIntPipe) groupId: number): Group {
    return this.groups.get(groupId);
  }

  @Get(":groupId/expenses")
  expenses(@Param("groupId", ParseIntPipe) groupId: number): Expense[] {
    return this.groups.expenses(groupId);
  }

  @Post(":groupId/expenses")
  addExpense(
    @Param("groupId", ParseIntPipe) groupId: number,
    @Body(new ParseBody(parseExpense)) input: NewExpense,
  ): Expense {
    return this.groups.addExpense(groupId, input);
  }

  @Delete(":groupId/expenses/:expenseId")
  @HttpCode(204)
  removeExpense(
    @Param("groupId", ParseIntPipe) groupId: number,
    @Param("expenseId", ParseIntPipe) expenseId: number,
  ): void {
    this.groups.removeExpense(groupId, expenseId);
  }

  @Get(":groupId/balances")
  balances(@Param("groupId", ParseIntPipe) groupId: number): { balances: Share[] } {
    return { balances: this.groups.balances(groupId) };
  }
}
