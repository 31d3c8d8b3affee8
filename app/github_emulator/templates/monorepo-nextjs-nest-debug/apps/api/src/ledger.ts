// The group's arithmetic. Money is whole cents, so that shares always add up to the amount.

export interface Share {
  member: string;
  cents: number;
}

/** What one expense did: who paid, and each person's share of it. */
export interface Payment {
  paidBy: string;
  amountCents: number;
  shares: readonly Share[];
}

/**
 * `amountCents` shared as evenly as whole cents allow: $10.00 among three is 334, 333 and
 * 333 cents. The leftover cents go to the first people in `people`, one each.
 */
export function splitEvenly(amountCents: number, people: readonly string[]): Share[] {
  const base = Math.round(amountCents / people.length);
  const leftover = amountCents % people.length;
  return people.map((member, index) => ({ member, cents: base + (index < leftover ? 1 : 0) }));
}

/**
 * Each member's balance, in `members` order: what they paid minus their shares. Positive,
 * the group owes them; negative, they owe the group. The balances add up to zero.
 */
export function balances(members: readonly string[], payments: readonly Payment[]): Share[] {
  const totals = new Map(members.map((member) => [member, 0]));
  const add = (member: string, cents: number) =>
    totals.set(member, (totals.get(member) ?? 0) + cents);
  for (const payment of payments) {
    add(payment.paidBy, payment.amountCents);
    for (const share of payment.shares) add(share.member, -share.cents);
  }
  return members.map((member) => ({ member, cents: totals.get(member) ?? 0 }));
}
