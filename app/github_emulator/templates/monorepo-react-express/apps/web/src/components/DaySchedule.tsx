import { useState } from "react";

import type { Schedule } from "../lib/schedule.js";
import { formatSpan } from "../lib/time.js";

interface Props {
  schedule: Schedule;
  onCancel: (bookingId: number) => Promise<void>;
}

export function DaySchedule({ schedule, onCancel }: Props) {
  const [cancelError, setCancelError] = useState<string | null>(null);

  if (schedule.status === "loading") return <p>Loading…</p>;
  if (schedule.status === "failed") return <p className="error">{schedule.error}</p>;
  if (schedule.status === "idle") return null;

  return (
    <section>
      <h2>Booked</h2>
      {schedule.bookings.length === 0 && <p>Nothing booked yet.</p>}
      <ul>
        {schedule.bookings.map((booking) => (
          <li key={booking.id}>
            <strong>{formatSpan(booking)}</strong> {booking.title} · {booking.organizer},{" "}
            {booking.attendees} people{" "}
            <button
              type="button"
              onClick={() =>
                onCancel(booking.id).then(
                  () => setCancelError(null),
                  (err: Error) => setCancelError(err.message),
                )
              }
            >
              Cancel
            </button>
          </li>
        ))}
      </ul>
      {cancelError && <p className="error">{cancelError}</p>}
      <h2>Free</h2>
      <ul>
        {schedule.free.map((span) => (
          <li key={span.start}>{formatSpan(span)}</li>
        ))}
      </ul>
    </section>
  );
}
