// Groups and their expenses, in memory: every restart starts empty.
import { Injectable, NotFoundException } from "@nestjs/common";

import { balances, splitEvenly, type Share } from "../ledger.js";
import { invalid, type NewExpense, type NewGroup } from "./requests.js";

export interface Group {
  id: number;
  name: string;
  members: string[];
}

export interface Expense {
  id: number;
  groupId: number;
  description: string;
  amountCents: number;
  paidBy: string;
  shares: Share[];
}

@Injectable()
export class GroupsService {
  private readonly groups = new Map<number, Group>();
  private readonly expensesById = new Map<number, Expense>();
  private lastGroupId = 0;
  private lastExpenseId = 0;

  create(input: NewGroup): Group {
    const group = { id: ++this.lastGroupId, ...input };
    this.groups.set(group.id, group);
    return group;
  }

  get(groupId: number): Group {
    const group = this.groups.get(groupId);
    if (group === undefined) throw new NotFoundException("group not found");
    return group;
  }

  /** A group's expenses, newest first. */
  expenses(groupId: number): Expense[] {
    this.get(groupId);
    return [...this.expensesById.values()]
      .filter((expense) => expense.groupId === groupId)
      .sort((a, b) => b.id - a.id);
  }

  addExpense(groupId: number, input: NewExpense): Expense {
    const { members } = this.get(groupId);
    if (!members.includes(input.paidBy)) {
      throw invalid("paidBy", `${input.paidBy} is not in this group`);
    }
    const outsider = input.splitAmong?.find((member) => !members.includes(member));
    if (outsider !== undefined) throw invalid("splitAmong", `${outsider} is not in this group`);
    const expense = {
      id: ++this.lastExpenseId,
      groupId,
      description: input.description,
      amountCents: input.amountCents,
      paidBy: input.paidBy,
      shares: splitEvenly(input.amountCents, input.splitAmong ?? members),
    };
    this.expensesById.set(expense.id, expense);
    return expense;
  }

  removeExpense(groupId: number, expenseId: number): void {
    this.get(groupId);
    if (this.expensesById.get(expenseId)?.groupId !== groupId) {
      throw new NotFoundException("expense not found");
    }
    this.expensesById.delete(expenseId);
  }

  balances(groupId: number): Share[] {
    return balances(this.get(groupId).members, this.expenses(groupId));
  }
}
