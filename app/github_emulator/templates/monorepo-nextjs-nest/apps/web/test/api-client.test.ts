// The web app's client against the real API (the @kitty/api workspace), on a free port.
import { createApp } from "@kitty/api";
import type { INestApplication } from "@nestjs/common";
import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { ApiError, createApiClient, type KittyApi } from "../src/lib/api.ts";

let app: INestApplication;
let api: KittyApi;

before(async () => {
  app = await createApp();
  await app.listen(0, "127.0.0.1");
  const server: Server = app.getHttpServer();
  api = createApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

after(async () => {
  await app.close();
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => assert.fail("expected the API to refuse"),
    (reason: unknown) => reason,
  );
  assert.ok(err instanceof ApiError, String(err));
  return err;
}

const trip = { name: "Lisbon trip", members: ["Ana", "Ben", "Cy"] };

describe("the API client", () => {
  it("creates a group, adds an expense and reads the balances", async () => {
    const group = await api.createGroup(trip);
    assert.deepEqual(await api.group(group.id), { id: group.id, ...trip });
    const expense = await api.addExpense(group.id, {
      description: "Tram tickets",
      amountCents: 1000,
      paidBy: "Ben",
      splitAmong: ["Ana", "Ben"],
    });
    assert.deepEqual(expense.shares, [
      { member: "Ana", cents: 500 },
      { member: "Ben", cents: 500 },
    ]);
    assert.deepEqual(await api.expenses(group.id), [expense]);
    assert.deepEqual(await api.balances(group.id), [
      { member: "Ana", cents: -500 },
      { member: "Ben", cents: 500 },
      { member: "Cy", cents: 0 },
    ]);
  });

  it("turns the API's refusals into errors naming status and field", async () => {
    const group = await api.createGroup(trip);
    const stranger = await rejection(
      api.addExpense(group.id, {
        description: "Fado",
        amountCents: 3000,
        paidBy: "Zed",
        splitAmong: ["Ana"],
      }),
    );
    assert.deepEqual([stranger.status, stranger.field], [422, "paidBy"]);
    assert.match(stranger.message, /Zed/);
    const missing = await rejection(api.group(999));
    assert.deepEqual([missing.status, missing.message], [404, "group not found"]);
  });

  it("removes an expense once", async () => {
    const group = await api.createGroup(trip);
    const expense = await api.addExpense(group.id, {
      description: "Pastéis",
      amountCents: 900,
      paidBy: "Cy",
      splitAmong: trip.members,
    });
    assert.equal(await api.removeExpense(group.id, expense.id), undefined);
    assert.deepEqual(await api.expenses(group.id), []);
    assert.equal((await rejection(api.removeExpense(group.id, expense.id))).status, 404);
  });
});
