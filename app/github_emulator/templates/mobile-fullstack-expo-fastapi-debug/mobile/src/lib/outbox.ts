// Changes made on the phone wait here until the API has them, so the app works offline.

import { ApiError } from "./api";
import type { Day } from "./types";

/** The user checked a habit in for `day` (done) or took the check-in back. */
export interface PendingChange {
  habitId: number;
  day: Day;
  done: boolean;
}

export interface Rejection {
  change: PendingChange;
  reason: string;
}

export interface FlushResult {
  /** The changes the API now has. */
  sent: PendingChange[];
  /** Changes the API refused (a 4xx, such as a habit deleted meanwhile): dropped. */
  rejected: Rejection[];
  /** Changes still waiting: the one that could not be sent, and every one after it. */
  remaining: PendingChange[];
}

/**
 * The outbox with `change` added last. An earlier change to the same habit and day is
 * replaced: check-ins and their undoing are idempotent on the API, so only the latest
 * intent matters, and tapping a habit on and off offline sends one request, not ten.
 */
export function enqueue(outbox: readonly PendingChange[], change: PendingChange): PendingChange[] {
  const others = outbox.filter(
    (item) => item.habitId !== change.habitId || item.day !== change.day,
  );
  return [...others, change];
}

/** Whether a failure means "try again later" rather than "this change is refused". */
function isTransient(error: unknown): boolean {
  return (
    !(error instanceof ApiError) ||
    error.status === 0 ||
    error.status === 429 ||
    error.status >= 500
  );
}

/**
 * Sends the changes oldest first, each with `send`. Stops at the first one that fails for
 * a reason that may pass (offline, a server error): it and the rest stay, in order.
 */
export async function flush(
  outbox: readonly PendingChange[],
  send: (change: PendingChange) => Promise<void>,
): Promise<FlushResult> {
  const result: FlushResult = { sent: [], rejected: [], remaining: [] };
  for (const [index, change] of outbox.entries()) {
    try {
      await send(change);
      result.sent.push(change);
    } catch (error) {
      if (isTransient(error)) {
        result.remaining = outbox.slice(index + 1);
        break;
      }
      result.rejected.push({ change, reason: (error as ApiError).message });
    }
  }
  return result;
}
