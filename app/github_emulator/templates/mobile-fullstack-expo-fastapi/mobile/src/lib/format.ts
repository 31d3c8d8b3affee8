// How the numbers read on screen.

/** "No streak yet", "1-day streak", "12-day streak". */
export function streakLabel(days: number): string {
  return days === 0 ? "No streak yet" : `${days}-day streak`;
}

/** "All changes saved", "1 change waiting to sync", "3 changes waiting to sync". */
export function syncLabel(pending: number): string {
  if (pending === 0) return "All changes saved";
  return `${pending} ${pending === 1 ? "change" : "changes"} waiting to sync`;
}

/** The last seven days as dots, oldest first: "●○●●○●●". */
export function weekStrip(lastSevenDays: readonly boolean[]): string {
  return lastSevenDays.map((done) => (done ? "●" : "○")).join("");
}
