// Amounts as people type and read them ("12.50", "$1,234.56"); the API speaks whole cents.
import type { Share } from "./api.ts";

export const MAX_AMOUNT_CENTS = 10_000_000;

const AMOUNT = /^\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/;

/** "12.5" -> 1250, "$1,234" -> 123400; undefined unless a positive amount, at most 2 decimals. */
export function parseAmount(text: string): number | undefined {
  const match = AMOUNT.exec(text.trim());
  if (match === null) return undefined;
  const dollars = Number(match[1]!.replaceAll(",", ""));
  const cents = dollars * 100 + Number(match[2] ?? 0);
  return cents > 0 ? cents : undefined;
}

/** 123456 -> "$1,234.56"; -300 -> "-$3.00". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const whole = Math.floor(Math.abs(cents) / 100);
  const rest = String(Math.abs(cents) % 100).padStart(2, "0");
  return `${sign}$${whole.toString().replace(/\B(?=(\d{3})+$)/g, ",")}.${rest}`;
}

/** A balance in words: who is owed, who owes, who is square. */
export function describeBalance(balance: Share): string {
  if (balance.cents > 0) return `${balance.member} is owed ${formatCents(balance.cents)}`;
  if (balance.cents < 0) return `${balance.member} owes ${formatCents(-balance.cents)}`;
  return `${balance.member} is settled up`;
}
