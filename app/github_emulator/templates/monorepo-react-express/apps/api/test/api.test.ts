import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { createApp } from "../src/app.js";

let server: Server;
let base: string;

before(async () => {
  server = createApp().listen(0);
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
});

function send(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function addRoom(name: string, capacity = 6): Promise<number> {
  const response = await send("POST", "/rooms", { name, capacity });
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

const booking = {
  date: "2030-03-04",
  start: "09:00",
  end: "10:30",
  title: " Sprint review ",
  organizer: "Grace",
  attendees: 5,
};

describe("HTTP API", () => {
  it("answers health checks and lists the rooms it creates", async () => {
    assert.deepEqual(await (await send("GET", "/health")).json(), { status: "ok" });
    const id = await addRoom("Orion", 10);
    const rooms = await (await send("GET", "/rooms")).json();
    assert.deepEqual(
      rooms.find((room: { id: number }) => room.id === id),
      { id, name: "Orion", capacity: 10 },
    );
  });

  it("books a room, shows the day and frees the time again on cancel", async () => {
    const roomId = await addRoom("Lyra");
    const created = await send("POST", `/rooms/${roomId}/bookings`, booking);
    assert.equal(created.status, 201);
    const body = await created.json();
    assert.deepEqual(body, { ...booking, title: "Sprint review", id: body.id, roomId });

    const day = await send("GET", `/rooms/${roomId}/bookings?date=2030-03-04`);
    assert.deepEqual(
      (await day.json()).map((b: { id: number }) => b.id),
      [body.id],
    );
    const free = await (await send("GET", `/rooms/${roomId}/availability?date=2030-03-04`)).json();
    assert.deepEqual(free, {
      date: "2030-03-04",
      free: [
        { start: "08:00", end: "09:00" },
        { start: "10:30", end: "20:00" },
      ],
    });

    assert.equal((await send("DELETE", `/bookings/${body.id}`)).status, 204);
    assert.equal((await send("DELETE", `/bookings/${body.id}`)).status, 404);
    assert.deepEqual(
      await (await send("GET", `/rooms/${roomId}/bookings?date=2030-03-04`)).json(),
      [],
    );
  });

  it("answers a clash with 409 and the booking in the way", async () => {
    const roomId = await addRoom("Vega");
    const first = await (await send("POST", `/rooms/${roomId}/bookings`, booking)).json();
    const clash = await send("POST", `/rooms/${roomId}/bookings`, {
      ...booking,
      start: "10:00",
      end: "11:00",
    });
    assert.equal(clash.status, 409);
    assert.equal((await clash.json()).conflictsWith, first.id);
  });

  it("names the field at fault in a 422", async () => {
    const roomId = await addRoom("Draco", 4);
    const cases: [Record<string, unknown>, string][] = [
      [{ date: "2030-02-30" }, "date"],
      [{ start: "9:00" }, "start"],
      [{ start: "07:30" }, "start"],
      [{ end: "09:00" }, "end"],
      [{ end: "20:30" }, "end"],
      [{ title: "   " }, "title"],
      [{ organizer: 7 }, "organizer"],
      [{ attendees: 0 }, "attendees"],
      [{ attendees: 5 }, "attendees"],
    ];
    for (const [change, field] of cases) {
      const response = await send("POST", `/rooms/${roomId}/bookings`, { ...booking, ...change });
      assert.equal(response.status, 422, JSON.stringify(change));
      assert.equal((await response.json()).field, field, JSON.stringify(change));
    }
    assert.equal((await send("POST", "/rooms", { name: "", capacity: 3 })).status, 422);
    assert.equal((await send("GET", `/rooms/${roomId}/bookings?date=tomorrow`)).status, 422);
  });

  it("answers unknown rooms with 404 and malformed JSON with 400", async () => {
    assert.equal((await send("POST", "/rooms/999/bookings", booking)).status, 404);
    assert.equal((await send("GET", "/rooms/abc/availability?date=2030-03-04")).status, 404);
    const malformed = await fetch(`${base}/rooms`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    assert.equal(malformed.status, 400);
  });
});
