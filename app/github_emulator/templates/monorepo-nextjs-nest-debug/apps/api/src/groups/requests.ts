// Request bodies, checked field by field: a bad one is a 422 whose `field` names it.
import { UnprocessableEntityException, type PipeTransform } from "@nestjs/common";

export interface NewGroup {
  name: string;
  members: string[];
}

export interface NewExpense {
  description: string;
  amountCents: number;
  paidBy: string;
  /** Who shares the cost; everyone in the group when left out. */
  splitAmong?: string[];
}

export const MAX_MEMBERS = 12;
export const MAX_AMOUNT_CENTS = 10_000_000;

export function invalid(field: string, message: string): UnprocessableEntityException {
  return new UnprocessableEntityException({
    statusCode: 422,
    error: "Unprocessable Entity",
    message,
    field,
  });
}

/** Runs a parse function over a request body: `@Body(new ParseBody(parseGroup))`. */
export class ParseBody<T> implements PipeTransform<unknown, T> {
  constructor(private readonly parse: (body: unknown) => T) {}

  transform(body: unknown): T {
    return this.parse(body);
  }
}

type Fields = Record<string, unknown>;

function fieldsOf(body: unknown): Fields {
  return typeof body === "object" && body !== null ? (body as Fields) : {};
}

function text(value: unknown, field: string, maxLength: number): string {
  const trimmed = typeof value === "string" ? value.trim() : "";
  if (trimmed === "" || trimmed.length > maxLength) {
    throw invalid(field, `${field} must be 1-${maxLength} characters`);
  }
  return trimmed;
}

/** A list of distinct names; "Ana" and "ana" are the same person. */
function names(value: unknown, field: string, min: number, max: number): string[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    throw invalid(field, `${field} must list ${min} to ${max} names`);
  }
  const list = value.map((name) => text(name, field, 30));
  const seen = new Set(list);
  if (seen.size !== list.length) throw invalid(field, `${field} names someone twice`);
  return list;
}

export function parseGroup(body: unknown): NewGroup {
  const fields = fieldsOf(body);
  return {
    name: text(fields.name, "name", 60),
    members: names(fields.members, "members", 2, MAX_MEMBERS),
  };
}

export function parseExpense(body: unknown): NewExpense {
  const fields = fieldsOf(body);
  const amountCents = fields.amountCents;
  if (
    typeof amountCents !== "number" ||
    !Number.isInteger(amountCents) ||
    amountCents < 1 ||
    amountCents > MAX_AMOUNT_CENTS
  ) {
    throw invalid(
      "amountCents",
      `amountCents must be a whole number from 1 to ${MAX_AMOUNT_CENTS}`,
    );
  }
  const expense: NewExpense = {
    description: text(fields.description, "description", 80),
    amountCents,
    paidBy: text(fields.paidBy, "paidBy", 30),
  };
  if (fields.splitAmong !== undefined) {
    expense.splitAmong = names(fields.splitAmong, "splitAmong", 1, MAX_MEMBERS);
  }
  return expense;
}
