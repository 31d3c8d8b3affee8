// The app's state: the habits as the API has them, and the outbox of the user's changes
// that the API does not have yet. The screen shows the two together (`shownHabits`), so a
// tap shows at once, online or not.

import { enqueue, type FlushResult, type PendingChange } from "./outbox";
import type { Day, Habit } from "./types";

export interface HabitsState {
  today: Day;
  /** As last loaded, with the changes sent since then applied. */
  habits: Habit[];
  outbox: PendingChange[];
  error: string | null;
}

export type HabitsAction =
  | { type: "loaded"; today: Day; habits: Habit[] }
  | { type: "added"; habit: Habit }
  | { type: "toggled"; habitId: number }
  | { type: "flushed"; result: FlushResult }
  | { type: "failed"; error: string };

export function initialHabitsState(today: Day): HabitsState {
  return { today, habits: [], outbox: [], error: null };
}

/**
 * The habit once today is checked in (done) or not: the streak and the total move by one.
 * The longest streak can only be estimated here; the next load brings the API's numbers.
 */
export function withToday(habit: Habit, done: boolean): Habit {
  if (habit.done_today === done) return habit;
  const step = done ? 1 : -1;
  const currentStreak = habit.current_streak + step;
  return {
    ...habit,
    done_today: done,
    current_streak: currentStreak,
    longest_streak: Math.max(habit.longest_streak, currentStreak),
    total: habit.total + step,
    last_7_days: [...habit.last_7_days.slice(0, -1), done],
  };
}

/** `habits` with the `changes` made today applied. */
function applyToday(habits: Habit[], changes: readonly PendingChange[], today: Day): Habit[] {
  return habits.map((habit) =>
    changes
      .filter((change) => change.habitId === habit.id && change.day === today)
      .reduce((shown, change) => withToday(shown, change.done), habit),
  );
}

/** The habits as the user should see them: the API's, with the waiting changes applied. */
export function shownHabits(state: HabitsState): Habit[] {
  return applyToday(state.habits, state.outbox, state.today);
}

export function habitsReducer(state: HabitsState, action: HabitsAction): HabitsState {
  switch (action.type) {
    case "loaded":
      return { ...state, today: action.today, habits: action.habits, error: null };
    case "added":
      return { ...state, habits: [...state.habits, action.habit], error: null };
    case "toggled": {
      const habit = shownHabits(state).find((item) => item.id === action.habitId);
      if (habit === undefined) return state;
      const change = { habitId: habit.id, day: state.today, done: !habit.done_today };
      return { ...state, outbox: enqueue(state.outbox, change) };
    }
    case "flushed": {
      const { sent, rejected, remaining } = action.result;
      const [rejection] = rejected;
      return {
        ...state,
        habits: applyToday(state.habits, sent, state.today),
        // What the flush could not send waits for the next one.
        outbox: remaining,
        error:
          rejection === undefined ? state.error : `A change was not saved: ${rejection.reason}`,
      };
    }
    case "failed":
      return { ...state, error: action.error };
  }
}
