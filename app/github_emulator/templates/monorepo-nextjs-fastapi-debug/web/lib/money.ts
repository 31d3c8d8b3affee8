// Amounts are whole cents everywhere; these turn them into text and back.

const AMOUNT = /^(\d{1,9})(?:\.(\d{1,2}))?$/;

/**
 * The cents in an amount someone typed ("12", "12.5", "12.50"), or null when it is not a
 * plain amount (no sign, no exponent, at most two decimals).
 */
export function parseAmount(text: string): number | null {
  const trimmed = text.trim();
  if (!AMOUNT.test(trimmed)) return null;
  // Whole cents only: a fraction of a cent is dropped.
  return Math.floor(Number(trimmed) * 100);
}

/** "1,234.05", "-3.50": an amount in cents with two decimals and thousands separators. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const magnitude = Math.abs(cents);
  const units = Math.floor(magnitude / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const hundredths = (magnitude % 100).toString().padStart(2, "0");
  return `${sign}${units}.${hundredths}`;
}
