// The group page's state: the group, its expenses (newest first) and balances. Removing an
// expense shows at once; the expense comes back if the API refuses.
import type { Expense, Group, Share } from "./api.ts";

export interface Ledger {
  status: "loading" | "ready" | "failed";
  group: Group | null;
  expenses: Expense[];
  balances: Share[];
  /** Expenses being removed: shown struck through until the API answers. */
  removing: number[];
  error: string | null;
}

export type LedgerAction =
  | { type: "loaded"; group: Group; expenses: Expense[]; balances: Share[] }
  | { type: "loadFailed"; message: string }
  | { type: "expenseAdded"; expense: Expense; balances: Share[] }
  | { type: "removeStarted"; expenseId: number }
  | { type: "removeSucceeded"; expenseId: number; balances: Share[] }
  | { type: "removeFailed"; expenseId: number; message: string };

export const initialLedger: Ledger = {
  status: "loading",
  group: null,
  expenses: [],
  balances: [],
  removing: [],
  error: null,
};

const newestFirst = (a: Expense, b: Expense) => b.id - a.id;

export function ledgerReducer(state: Ledger, action: LedgerAction): Ledger {
  const without = (expenseId: number) => state.removing.filter((id) => id !== expenseId);
  switch (action.type) {
    case "loaded":
      return {
        ...initialLedger,
        status: "ready",
        group: action.group,
        expenses: [...action.expenses].sort(newestFirst),
        balances: action.balances,
      };
    case "loadFailed":
      return { ...state, status: "failed", error: action.message };
    case "expenseAdded":
      return {
        ...state,
        expenses: [action.expense, ...state.expenses].sort(newestFirst),
        balances: action.balances,
        error: null,
      };
    case "removeStarted":
      return { ...state, removing: [...without(action.expenseId), action.expenseId], error: null };
    case "removeSucceeded":
      return {
        ...state,
        expenses: state.expenses.filter((expense) => expense.id !== action.expenseId),
        balances: action.balances,
        removing: without(action.expenseId),
      };
    case "removeFailed":
      return { ...state, removing: without(action.expenseId), error: action.message };
  }
}

/** What the group has spent in all. */
export function totalSpent(expenses: readonly Expense[]): number {
  return expenses.reduce((sum, expense) => sum + expense.amountCents, 0);
}
