// Amounts are whole cents everywhere; these turn them into text and back.

const AMOUNT = /^(\d{1,9})(?:\.(\d{1,2}))?$/;

/**
 * The cents in an amount someone typed ("12", "12.5", "12.50"), or null when it is not a
 * plain amount (no sign, no exponent, at most two decimals). Computed from the digits, not
 * through floating point, so "19.99" is exactly 1999.
 */
export function parseAmount(text: string): number | null {
  const match = AMOUNT.exec(text.trim());
  if (match === null) return null;
  const [, units, fraction = ""] = match;
  return Number(units) * 100 + Number(fraction.padEnd(2, "0"));
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
