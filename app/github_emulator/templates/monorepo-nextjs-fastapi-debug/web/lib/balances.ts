// How the balance sheet reads on screen.

import { formatCents } from "./money";
import type { Balance, Transfer } from "./types";

/** "Ana is owed 12.50", "Ben owes 3.05" or "Cy is settled up". */
export function describeBalance({ member, cents }: Balance): string {
  if (cents < 0) return `${member} is owed ${formatCents(-cents)}`;
  if (cents > 0) return `${member} owes ${formatCents(cents)}`;
  return `${member} is settled up`;
}

/** "Ben pays Ana 3.05". */
export function describeTransfer({ debtor, creditor, cents }: Transfer): string {
  return `${debtor} pays ${creditor} ${formatCents(cents)}`;
}
