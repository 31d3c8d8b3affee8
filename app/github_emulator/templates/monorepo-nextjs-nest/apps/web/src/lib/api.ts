// The web app's client for the Kitty API (apps/api). It takes the fetch to use, so that
// tests can hand it one.

export interface Group {
  id: number;
  name: string;
  members: string[];
}

export interface Share {
  member: string;
  cents: number;
}

export interface Expense {
  id: number;
  groupId: number;
  description: string;
  amountCents: number;
  paidBy: string;
  shares: Share[];
}

export interface NewGroup {
  name: string;
  members: string[];
}

export interface NewExpense {
  description: string;
  amountCents: number;
  paidBy: string;
  splitAmong: string[];
}

/** An answer other than 2xx: its status, the API's message and the field it blames, if any. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface KittyApi {
  createGroup(group: NewGroup): Promise<Group>;
  group(groupId: number): Promise<Group>;
  expenses(groupId: number): Promise<Expense[]>;
  balances(groupId: number): Promise<Share[]>;
  addExpense(groupId: number, expense: NewExpense): Promise<Expense>;
  removeExpense(groupId: number, expenseId: number): Promise<void>;
}

/** Nest's error bodies: `message` is a sentence, or a list of them. */
interface ErrorBody {
  message?: string | string[];
  field?: string;
}

export function createApiClient(
  baseUrl: string,
  fetchFn: typeof fetch = (input, init) => fetch(input, init),
): KittyApi {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetchFn(baseUrl + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const problem: ErrorBody = await response.json().catch(() => ({}));
      const message = [problem.message ?? response.statusText].flat().join("; ");
      throw new ApiError(response.status, message, problem.field);
    }
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  return {
    createGroup: (group) => call("POST", "/groups", group),
    group: (groupId) => call("GET", `/groups/${groupId}`),
    expenses: (groupId) => call("GET", `/groups/${groupId}/expenses`),
    async balances(groupId) {
      return (await call<{ balances: Share[] }>("GET", `/groups/${groupId}/balances`)).balances;
    },
    addExpense: (groupId, expense) => call("POST", `/groups/${groupId}/expenses`, expense),
    removeExpense: (groupId, expenseId) =>
      call("DELETE", `/groups/${groupId}/expenses/${expenseId}`),
  };
}
