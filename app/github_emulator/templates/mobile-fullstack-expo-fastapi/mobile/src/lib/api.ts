// A typed client for the Streaks API. `fetch` is a parameter so that tests can stand in.

import type { Day, Habit } from "./types";

export class ApiError extends Error {
  /** The HTTP status, or 0 when the API could not be reached (the phone is offline). */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** FastAPI's `detail`: a message, or a list of validation issues. */
function describeError(status: number, body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((issue: { msg?: string }) => issue.msg ?? "invalid").join("; ");
  }
  return `The request failed (HTTP ${status})`;
}

export function createStreaksApi(baseUrl: string, fetchImpl: typeof fetch = fetch) {
  async function request(path: string, method: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "Offline: the Streaks API cannot be reached");
    }
    const payload: unknown =
      response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, describeError(response.status, payload));
    return payload;
  }

  return {
    listHabits: async (today: Day) =>
      (await request(`/habits?today=${encodeURIComponent(today)}`, "GET")) as Habit[],
    createHabit: async (name: string) => (await request("/habits", "POST", { name })) as Habit,
    checkIn: async (habitId: number, day: Day) => {
      await request(`/habits/${habitId}/checkins/${day}`, "PUT");
    },
    undoCheckIn: async (habitId: number, day: Day) => {
      await request(`/habits/${habitId}/checkins/${day}`, "DELETE");
    },
  };
}

export type StreaksApi = ReturnType<typeof createStreaksApi>;
