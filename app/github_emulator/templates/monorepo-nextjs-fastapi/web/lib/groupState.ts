// The group page's state: what was loaded, and what went wrong.

import type { BalanceSheet, Expense, Group } from "./types";

export interface GroupState {
  status: "loading" | "ready" | "failed";
  group: Group | null;
  /** Newest first, as the API lists them. */
  expenses: Expense[];
  sheet: BalanceSheet | null;
  error: string | null;
}

export type GroupAction =
  | { type: "loaded"; group: Group; expenses: Expense[]; sheet: BalanceSheet }
  | { type: "expenseAdded"; expense: Expense; sheet: BalanceSheet }
  | { type: "failed"; error: string };

export const initialGroupState: GroupState = {
  status: "loading",
  group: null,
  expenses: [],
  sheet: null,
  error: null,
};

export function groupReducer(state: GroupState, action: GroupAction): GroupState {
  switch (action.type) {
    case "loaded":
      return {
        status: "ready",
        group: action.group,
        expenses: action.expenses,
        sheet: action.sheet,
        error: null,
      };
    case "expenseAdded":
      return {
        ...state,
        expenses: [action.expense, ...state.expenses],
        sheet: action.sheet,
        error: null,
      };
    case "failed":
      // A failure after the group loaded (an expense refused) keeps what is on screen.
      return {
        ...state,
        status: state.group === null ? "failed" : state.status,
        error: action.error,
      };
  }
}
