// The Kitty API's JSON, as the backend (backend/app/models.py) sends and accepts it.

export interface Group {
  id: number;
  name: string;
  members: string[];
}

export interface NewGroup {
  name: string;
  members: string[];
}

export interface Expense {
  id: number;
  description: string;
  amount_cents: number;
  paid_by: string;
  /** Each sharing member's part, in cents; the parts add up to the amount. */
  shares: Record<string, number>;
}

export interface NewExpense {
  description: string;
  amount_cents: number;
  paid_by: string;
  split_between: string[];
}

export interface Balance {
  member: string;
  /** Positive: the group owes this member; negative: the member owes the group. */
  cents: number;
}

export interface Transfer {
  debtor: string;
  creditor: string;
  cents: number;
}

export interface BalanceSheet {
  balances: Balance[];
  settlements: Transfer[];
}
