import { useEffect, useReducer, useState } from "react";

import { BookingFormView } from "./components/BookingFormView.js";
import { DaySchedule } from "./components/DaySchedule.js";
import type { Room, RoomsApi } from "./lib/api.js";
import { initialSchedule, scheduleReducer } from "./lib/schedule.js";
import { isoDate } from "./lib/time.js";

export function App({ api }: { api: RoomsApi }) {
  const [rooms, setRooms] = useState<Room[]>([]);
  const [roomsError, setRoomsError] = useState<string | null>(null);
  const [today] = useState(() => isoDate(new Date()));
  const [schedule, dispatch] = useReducer(scheduleReducer, today, initialSchedule);
  const room = rooms.find((candidate) => candidate.id === schedule.roomId);

  useEffect(() => {
    api.rooms().then(
      (found) => {
        setRooms(found);
        if (found[0] !== undefined) {
          dispatch({ type: "daySelected", roomId: found[0].id, date: today });
        }
      },
      (err: Error) => setRoomsError(err.message),
    );
  }, [api, today]);

  useEffect(() => {
    const { roomId, date } = schedule;
    if (roomId === null) return;
    api.day(roomId, date).then(
      (day) => dispatch({ type: "dayLoaded", roomId, date, ...day }),
      (err: Error) => dispatch({ type: "dayFailed", roomId, date, message: err.message }),
    );
  }, [api, schedule.roomId, schedule.date]);

  async function cancel(bookingId: number) {
    await api.cancel(bookingId);
    dispatch({ type: "bookingCancelled", bookingId });
  }

  return (
    <main>
      <h1>Meeting Rooms</h1>
      {roomsError && <p className="error">Could not load the rooms: {roomsError}</p>}
      <div className="pickers">
        <label>
          Room
          <select
            value={schedule.roomId ?? ""}
            onChange={(event) =>
              dispatch({
                type: "daySelected",
                roomId: Number(event.target.value),
                date: schedule.date,
              })
            }
          >
            {rooms.map((option) => (
              <option key={option.id} value={option.id}>
                {option.name} ({option.capacity} seats)
              </option>
            ))}
          </select>
        </label>
        <label>
          Date
          <input
            type="date"
            value={schedule.date}
            onChange={(event) =>
              schedule.roomId !== null &&
              dispatch({ type: "daySelected", roomId: schedule.roomId, date: event.target.value })
            }
          />
        </label>
      </div>
      <DaySchedule schedule={schedule} onCancel={cancel} />
      {room && (
        <BookingFormView
          key={`${room.id}/${schedule.date}`}
          room={room}
          date={schedule.date}
          onBook={async (booking) => {
            const created = await api.book(room.id, booking);
            dispatch({ type: "bookingAdded", booking: created });
          }}
        />
      )}
    </main>
  );
}
