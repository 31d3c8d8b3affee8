// A typed client for the Kitty API. `fetch` is a parameter so that tests can stand in.

import type { BalanceSheet, Expense, Group, NewExpense, NewGroup } from "./types";

export class ApiError extends Error {
  /** The HTTP status, or 0 when the API could not be reached at all. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

interface ValidationIssue {
  loc?: unknown[];
  msg?: string;
}

/** FastAPI's `detail`: a message, or a list of validation issues naming their fields. */
export function describeError(status: number, body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length > 0) {
    return (detail as ValidationIssue[])
      .map((issue) => {
        // loc starts with where the value came from ("body"); the rest names the field.
        const field = (issue.loc ?? []).slice(1).join(".");
        return field ? `${field}: ${issue.msg}` : String(issue.msg);
      })
      .join("; ");
  }
  return `The request failed (HTTP ${status})`;
}

export function createKittyApi(baseUrl: string, fetchImpl: typeof fetch = fetch) {
  async function request<T>(path: string, method = "GET", body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "The Kitty API cannot be reached; is the backend running?");
    }
    const payload: unknown = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, describeError(response.status, payload));
    return payload as T;
  }

  return {
    createGroup: (group: NewGroup) => request<Group>("/groups", "POST", group),
    getGroup: (groupId: number) => request<Group>(`/groups/${groupId}`),
    listExpenses: (groupId: number) => request<Expense[]>(`/groups/${groupId}/expenses`),
    addExpense: (groupId: number, expense: NewExpense) =>
      request<Expense>(`/groups/${groupId}/expenses`, "POST", expense),
    getBalances: (groupId: number) => request<BalanceSheet>(`/groups/${groupId}/balances`),
  };
}

export type KittyApi = ReturnType<typeof createKittyApi>;
