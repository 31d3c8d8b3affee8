import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import type { INestApplication } from "@nestjs/common";

import { createApp } from "../src/app.js";

// The service believes it is Sunday 2030-01-06, noon (UTC); the meetings are on Monday.
const NOW = new Date("2030-01-06T12:00:00Z");

let app: INestApplication;
let base: string;

before(async () => {
  app = await createApp({ clock: () => NOW });
  await app.listen(0, "127.0.0.1");
  const server = app.getHttpServer() as Server;
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
});

function send(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function addRoom(name: string, capacity: number): Promise<number> {
  const response = await send("POST", "/rooms", { name, capacity });
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

function meeting(roomId: number, organizer: string, from: string, to: string, attendees = 3) {
  return {
    roomId,
    title: "Design review",
    organizer,
    start: `2030-01-07T${from}:00Z`,
    end: `2030-01-07T${to}:00Z`,
    attendees,
  };
}

describe("HTTP API", () => {
  it("answers health checks", async () => {
    const response = await fetch(`${base}/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok" });
  });

  it("books a room, shows it in the schedule and cancels it", async () => {
    const roomId = await addRoom("Atrium", 8);
    const created = await send("POST", "/bookings", {
      ...meeting(roomId, "ana", "09:00", "10:00"),
      start: "2030-01-07T10:00+01:00",
    });
    assert.equal(created.status, 201);
    const booking = await created.json();
    assert.equal(booking.start, "2030-01-07T09:00:00.000Z");
    assert.equal(booking.status, "confirmed");

    const day = await (await fetch(`${base}/rooms/${roomId}/bookings?date=2030-01-07`)).json();
    assert.deepEqual(
      day.map((entry: { id: number }) => entry.id),
      [booking.id],
    );

    const cancelled = await send("DELETE", `/bookings/${booking.id}`);
    assert.equal(cancelled.status, 200);
    assert.equal((await cancelled.json()).status, "cancelled");
    assert.equal(
      (await (await fetch(`${base}/bookings/${booking.id}`)).json()).status,
      "cancelled",
    );
    const again = await send("DELETE", `/bookings/${booking.id}`);
    assert.equal(again.status, 409);
  });

  it("answers a clash with 409 and the booking in the way", async () => {
    const roomId = await addRoom("Loft", 4);
    assert.equal(
      (await send("POST", "/bookings", meeting(roomId, "bo", "13:00", "14:00"))).status,
      201,
    );
    const clash = await send("POST", "/bookings", meeting(roomId, "cy", "13:30", "14:30"));
    assert.equal(clash.status, 409);
    assert.deepEqual(await clash.json(), {
      statusCode: 409,
      error: "Conflict",
      message: "Loft is booked from 2030-01-07T13:00:00.000Z to 2030-01-07T14:00:00.000Z",
    });
    const next = await send("POST", "/bookings", meeting(roomId, "cy", "14:00", "15:00"));
    assert.equal(next.status, 201);
  });

  it("answers 400 listing every malformed field", async () => {
    const response = await send("POST", "/bookings", {
      roomId: "1",
      title: " ",
      organizer: "Ana Smith",
      start: "2030-01-07 09:00",
      end: "2030-02-30T10:00:00Z",
      attendees: 0,
    });
    assert.equal(response.status, 400);
    assert.deepEqual((await response.json()).message, [
      "roomId must be a positive integer",
      "title must be a string of 1-100 characters",
      "organizer must be 1-40 of a-z, 0-9, '.', '-'",
      "start must be an ISO 8601 date-time with an offset",
      "end is not a real date",
      "attendees must be an integer from 1 to 500",
    ]);
    const room = await send("POST", "/rooms", { name: "x".repeat(61), capacity: 51 });
    assert.equal(room.status, 400);
    assert.equal((await room.json()).message.length, 2);
  });

  it("answers 400 to malformed JSON and bad path or query values", async () => {
    const malformed = await fetch(`${base}/rooms`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name": "Den",',
    });
    assert.equal(malformed.status, 400);
    assert.equal((await fetch(`${base}/bookings/abc`)).status, 400);
    const noDate = await fetch(`${base}/rooms/1/bookings`);
    assert.equal(noDate.status, 400);
    assert.deepEqual((await noDate.json()).message, ["date must be a day as YYYY-MM-DD"]);
  });

  it("answers 404 for unknown rooms and bookings, 422 for broken rules", async () => {
    const missingRoom = await send("POST", "/bookings", meeting(999, "dee", "09:00", "10:00"));
    assert.equal(missingRoom.status, 404);
    assert.equal((await missingRoom.json()).message, "room not found");
    assert.equal((await send("DELETE", "/bookings/999")).status, 404);
    assert.equal((await fetch(`${base}/rooms/999/bookings?date=2030-01-07`)).status, 404);

    const roomId = await addRoom("Nook", 2);
    const tooLong = await send("POST", "/bookings", meeting(roomId, "dee", "09:00", "13:30"));
    assert.equal(tooLong.status, 422);
    assert.deepEqual(await tooLong.json(), {
      statusCode: 422,
      error: "Unprocessable Entity",
      message: "a booking lasts at most 4 hours",
    });
    const crowded = await send("POST", "/bookings", meeting(roomId, "dee", "09:00", "10:00", 3));
    assert.equal(crowded.status, 409);
  });

  it("finds free rooms for a slot", async () => {
    const small = await addRoom("Pod", 3);
    const large = await addRoom("Studio", 12);
    await send("POST", "/bookings", meeting(small, "eve", "16:00", "17:00", 2));
    const query = "start=2030-01-07T16:30:00Z&end=2030-01-07T17:00:00Z&attendees=3";
    const free = await (await fetch(`${base}/rooms/available?${query}`)).json();
    const names = free.map((room: { name: string }) => room.name);
    assert.ok(!names.includes("Pod"));
    assert.ok(names.includes("Studio"));
    assert.equal(free.find((room: { id: number }) => room.id === large).capacity, 12);
    const bad = await fetch(`${base}/rooms/available?start=soon&attendees=none`);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).message.length, 3);
  });
});
