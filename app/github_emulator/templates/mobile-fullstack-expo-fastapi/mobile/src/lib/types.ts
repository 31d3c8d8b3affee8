// The Streaks API's JSON, as the backend (backend/app/models.py) sends it.

export interface Habit {
  id: number;
  name: string;
  done_today: boolean;
  current_streak: number;
  longest_streak: number;
  total: number;
  /** Whether each of the last seven days has a check-in, oldest first, ending today. */
  last_7_days: boolean[];
}

/** A day as the phone's calendar sees it: "2026-03-10". */
export type Day = string;
