// The web app's client against the real API (the @rooms/api workspace), on a free port.
import { Calendar, createApp } from "@rooms/api";
import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { ApiError, createApiClient, type NewBooking, type RoomsApi } from "../src/lib/api.js";

let server: Server;
let api: RoomsApi;
let roomId: number;

before(async () => {
  const calendar = new Calendar();
  roomId = calendar.addRoom("Atlas", 4).id;
  server = createApp(calendar).listen(0);
  await new Promise((resolve) => server.once("listening", resolve));
  api = createApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

after(() => {
  server.close();
});

const meeting: NewBooking = {
  date: "2030-03-04",
  start: "10:00",
  end: "11:00",
  title: "Design review",
  organizer: "Margaret",
  attendees: 3,
};

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => assert.fail("expected the API to refuse"),
    (reason: unknown) => reason,
  );
  assert.ok(err instanceof ApiError, String(err));
  return err;
}

describe("the API client", () => {
  it("lists the rooms and books one", async () => {
    assert.deepEqual(await api.rooms(), [{ id: roomId, name: "Atlas", capacity: 4 }]);
    const booked = await api.book(roomId, meeting);
    assert.deepEqual(booked, { ...meeting, id: booked.id, roomId });
    const day = await api.day(roomId, meeting.date);
    assert.deepEqual(day.bookings, [booked]);
    assert.deepEqual(day.free, [
      { start: "08:00", end: "10:00" },
      { start: "11:00", end: "20:00" },
    ]);
  });

  it("turns the API's refusals into errors naming status and field", async () => {
    const day = { ...meeting, date: "2030-03-05" };
    const tooMany = await rejection(api.book(roomId, { ...day, attendees: 5 }));
    assert.deepEqual([tooMany.status, tooMany.field], [422, "attendees"]);
    await api.book(roomId, day);
    const clash = await rejection(api.book(roomId, { ...day, start: "10:30", end: "11:30" }));
    assert.equal(clash.status, 409);
    assert.match(clash.message, /already booked/);
    assert.equal((await rejection(api.day(999, meeting.date))).status, 404);
  });

  it("cancels a booking once", async () => {
    const booked = await api.book(roomId, { ...meeting, date: "2030-03-06" });
    assert.equal(await api.cancel(booked.id), undefined);
    assert.deepEqual((await api.day(roomId, "2030-03-06")).bookings, []);
    assert.equal((await rejection(api.cancel(booked.id))).status, 404);
  });
});
