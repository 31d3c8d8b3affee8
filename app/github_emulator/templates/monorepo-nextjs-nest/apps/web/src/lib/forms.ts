// The forms: what the user typed, checked and turned into requests for the API. The rules
// mirror the API's so that every mistake shows at once; the API has the last word.
import type { Group, NewExpense, NewGroup } from "./api.ts";
import { MAX_AMOUNT_CENTS, formatCents, parseAmount } from "./money.ts";

export const MAX_MEMBERS = 12;

export interface GroupForm {
  name: string;
  /** Names separated by commas or new lines. */
  members: string;
}

export interface ExpenseForm {
  description: string;
  amount: string;
  paidBy: string;
  splitAmong: string[];
}

export type FormErrors<Form> = Partial<Record<keyof Form, string>>;

export type FormCheck<Form, Request> =
  { ok: true; request: Request } | { ok: false; errors: FormErrors<Form> };

function finish<Form, Request>(
  errors: FormErrors<Form>,
  request: () => Request,
): FormCheck<Form, Request> {
  return Object.keys(errors).length === 0
    ? { ok: true, request: request() }
    : { ok: false, errors };
}

export function checkGroupForm(form: GroupForm): FormCheck<GroupForm, NewGroup> {
  const errors: FormErrors<GroupForm> = {};
  const name = form.name.trim();
  if (name === "" || name.length > 60) errors.name = "Name the group (up to 60 characters)";
  const members = form.members
    .split(/[,\n]/)
    .map((member) => member.trim())
    .filter((member) => member !== "");
  const distinct = new Set(members.map((member) => member.toLowerCase()));
  if (members.length < 2 || members.length > MAX_MEMBERS) {
    errors.members = `List 2 to ${MAX_MEMBERS} people`;
  } else if (distinct.size !== members.length) {
    errors.members = "Each person once, please";
  } else if (members.some((member) => member.length > 30)) {
    errors.members = "Names are up to 30 characters";
  }
  return finish(errors, () => ({ name, members }));
}

export function emptyExpenseForm(group: Group): ExpenseForm {
  return { description: "", amount: "", paidBy: group.members[0] ?? "", splitAmong: group.members };
}

export function checkExpenseForm(
  form: ExpenseForm,
  group: Group,
): FormCheck<ExpenseForm, NewExpense> {
  const errors: FormErrors<ExpenseForm> = {};
  const description = form.description.trim();
  if (description === "" || description.length > 80) {
    errors.description = "Say what it was for (up to 80 characters)";
  }
  const amountCents = parseAmount(form.amount);
  if (amountCents === undefined || amountCents > MAX_AMOUNT_CENTS) {
    errors.amount = `Enter an amount from $0.01 to ${formatCents(MAX_AMOUNT_CENTS)}`;
  }
  if (!group.members.includes(form.paidBy)) errors.paidBy = "Pick who paid";
  // In the group's order: the API gives leftover cents to the first people listed.
  const splitAmong = group.members.filter((member) => form.splitAmong.includes(member));
  if (splitAmong.length === 0) errors.splitAmong = "Pick at least one person to share it";
  return finish(errors, () => ({
    description,
    amountCents: amountCents as number,
    paidBy: form.paidBy,
    splitAmong,
  }));
}
