// The form rules, the same as the API's, so that a mistake is shown before a round trip.

import { parseAmount } from "./money";
import type { NewExpense, NewGroup } from "./types";

export const MAX_AMOUNT_CENTS = 10_000_000;
const MAX_MEMBERS = 12;

export type Validation<Value, Field extends string> =
  { ok: true; value: Value } | { ok: false; errors: Partial<Record<Field, string>> };

export interface ExpenseDraft {
  description: string;
  amount: string;
  paidBy: string;
  splitBetween: string[];
}

export interface GroupDraft {
  name: string;
  /** One member per line, or separated by commas. */
  members: string;
}

function lengthError(text: string, max: number): string | undefined {
  if (text.length === 0) return "Required";
  if (text.length > max) return `At most ${max} characters`;
  return undefined;
}

export function validateExpense(
  draft: ExpenseDraft,
  members: readonly string[],
): Validation<NewExpense, keyof ExpenseDraft> {
  const errors: Partial<Record<keyof ExpenseDraft, string>> = {};
  const description = draft.description.trim();
  const descriptionError = lengthError(description, 80);
  if (descriptionError) errors.description = descriptionError;

  const cents = parseAmount(draft.amount);
  if (cents === null) errors.amount = "Enter an amount such as 12.50";
  else if (cents === 0) errors.amount = "The amount must be more than 0";
  else if (cents > MAX_AMOUNT_CENTS) errors.amount = "At most 100,000.00";

  if (!members.includes(draft.paidBy)) errors.paidBy = "Choose who paid";
  // In the group's order, whatever order they were ticked in.
  const sharing = members.filter((member) => draft.splitBetween.includes(member));
  if (sharing.length === 0) errors.splitBetween = "Choose at least one member";

  if (Object.keys(errors).length > 0 || cents === null) return { ok: false, errors };
  return {
    ok: true,
    value: { description, amount_cents: cents, paid_by: draft.paidBy, split_between: sharing },
  };
}

export function validateGroup(draft: GroupDraft): Validation<NewGroup, keyof GroupDraft> {
  const errors: Partial<Record<keyof GroupDraft, string>> = {};
  const name = draft.name.trim();
  const nameError = lengthError(name, 60);
  if (nameError) errors.name = nameError;

  const members = draft.members
    .split(/[\n,]/)
    .map((member) => member.trim())
    .filter((member) => member.length > 0);
  const distinct = new Set(members.map((member) => member.toLowerCase()));
  if (members.length < 2 || members.length > MAX_MEMBERS) {
    errors.members = `Between 2 and ${MAX_MEMBERS} members`;
  } else if (distinct.size < members.length) {
    errors.members = "Each member once";
  } else if (members.some((member) => member.length > 30)) {
    errors.members = "Names of at most 30 characters";
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { name, members } };
}
