// The API's rules for a habit's name, checked before a round trip.

export const MAX_NAME_LENGTH = 40;

export type NameCheck = { ok: true; name: string } | { ok: false; error: string };

export function validateHabitName(input: string, existing: readonly string[]): NameCheck {
  const name = input.trim();
  if (name.length === 0) return { ok: false, error: "Give the habit a name" };
  if (name.length > MAX_NAME_LENGTH)
    return { ok: false, error: `At most ${MAX_NAME_LENGTH} characters` };
  const taken = existing.some((other) => other.toLowerCase() === name.toLowerCase());
  if (taken) return { ok: false, error: "You track this habit already" };
  return { ok: true, name };
}
