import { useState, type FormEvent } from "react";

import { ApiError, type NewBooking, type Room } from "../lib/api.js";
import {
  DURATIONS,
  checkBookingForm,
  emptyForm,
  formField,
  type BookingForm,
  type FormErrors,
} from "../lib/booking-form.js";
import { formatDuration } from "../lib/time.js";

interface Props {
  room: Room;
  date: string;
  onBook: (booking: NewBooking) => Promise<void>;
}

export function BookingFormView({ room, date, onBook }: Props) {
  const [form, setForm] = useState<BookingForm>(() => emptyForm(date));
  const [errors, setErrors] = useState<FormErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const edit = (field: keyof BookingForm) => (event: { target: { value: string } }) =>
    setForm({ ...form, [field]: event.target.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    const check = checkBookingForm(form, room);
    setErrors(check.ok ? {} : check.errors);
    setProblem(null);
    if (!check.ok) return;
    setBusy(true);
    try {
      await onBook(check.booking);
      setForm(emptyForm(date));
    } catch (err) {
      const field = err instanceof ApiError ? formField(err.field) : undefined;
      if (field !== undefined) setErrors({ [field]: (err as Error).message });
      else setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const error = (field: keyof BookingForm) =>
    errors[field] && <span className="error">{errors[field]}</span>;

  return (
    <form onSubmit={submit}>
      <h2>Book {room.name}</h2>
      <label>
        Title <input value={form.title} onChange={edit("title")} /> {error("title")}
      </label>
      <label>
        Organizer <input value={form.organizer} onChange={edit("organizer")} /> {error("organizer")}
      </label>
      <label>
        Start <input type="time" step={900} value={form.start} onChange={edit("start")} />{" "}
        {error("start")}
      </label>
      <label>
        Duration{" "}
        <select value={form.minutes} onChange={edit("minutes")}>
          {DURATIONS.map((minutes) => (
            <option key={minutes} value={minutes}>
              {formatDuration(minutes)}
            </option>
          ))}
        </select>{" "}
        {error("minutes")}
      </label>
      <label>
        People <input inputMode="numeric" value={form.attendees} onChange={edit("attendees")} />{" "}
        {error("attendees")}
      </label>
      {error("date")}
      {problem && <p className="error">{problem}</p>}
      <button type="submit" disabled={busy}>
        Book
      </button>
    </form>
  );
}
