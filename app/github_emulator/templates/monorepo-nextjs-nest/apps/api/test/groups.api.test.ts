import type { INestApplication } from "@nestjs/common";
import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { createApp } from "../src/app.js";

let app: INestApplication;
let base: string;

before(async () => {
  app = await createApp();
  await app.listen(0, "127.0.0.1");
  const server: Server = app.getHttpServer();
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

async function createGroup(members = ["Ana", "Ben", "Cy"]): Promise<number> {
  const response = await send("POST", "/groups", { name: "Lisbon trip", members });
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

async function fieldOf(response: Response): Promise<string> {
  assert.equal(response.status, 422);
  return (await response.json()).field;
}

const dinner = { description: "Dinner", amountCents: 9000, paidBy: "Ana" };

describe("groups", () => {
  it("answers health checks, creates a group and reads it back", async () => {
    assert.deepEqual(await (await send("GET", "/health")).json(), { status: "ok" });
    const created = await send("POST", "/groups", { name: " Flat 3B ", members: [" Ana", "Ben "] });
    assert.equal(created.status, 201);
    const group = await created.json();
    assert.deepEqual(group, { id: group.id, name: "Flat 3B", members: ["Ana", "Ben"] });
    assert.deepEqual(await (await send("GET", `/groups/${group.id}`)).json(), group);
    assert.equal((await send("GET", "/groups/999")).status, 404);
    assert.equal((await send("GET", "/groups/abc")).status, 400);
  });

  it("refuses groups without a name or with fewer than two distinct members", async () => {
    const post = (body: unknown) => send("POST", "/groups", body);
    assert.equal(await fieldOf(await post({ name: " ", members: ["Ana", "Ben"] })), "name");
    assert.equal(await fieldOf(await post({ name: "Trip", members: ["Ana"] })), "members");
    assert.equal(await fieldOf(await post({ name: "Trip", members: ["Ana", "ana "] })), "members");
    assert.equal(await fieldOf(await post({ name: "Trip", members: ["Ana", ""] })), "members");
    assert.equal(await fieldOf(await post({ name: "Trip", members: "Ana, Ben" })), "members");
  });
});

describe("expenses", () => {
  it("are split among everyone unless said otherwise, and move the balances", async () => {
    const groupId = await createGroup();
    const created = await send("POST", `/groups/${groupId}/expenses`, {
      ...dinner,
      description: " Dinner ",
      amountCents: 1000,
    });
    assert.equal(created.status, 201);
    const expense = await created.json();
    assert.deepEqual(expense, {
      id: expense.id,
      groupId,
      description: "Dinner",
      amountCents: 1000,
      paidBy: "Ana",
      shares: [
        { member: "Ana", cents: 334 },
        { member: "Ben", cents: 333 },
        { member: "Cy", cents: 333 },
      ],
    });
    const taxi = {
      description: "Taxi",
      amountCents: 2400,
      paidBy: "Cy",
      splitAmong: ["Ben", "Cy"],
    };
    await send("POST", `/groups/${groupId}/expenses`, taxi);

    const listed = await (await send("GET", `/groups/${groupId}/expenses`)).json();
    assert.deepEqual(
      listed.map((item: { description: string }) => item.description),
      ["Taxi", "Dinner"],
    );
    assert.deepEqual(await (await send("GET", `/groups/${groupId}/balances`)).json(), {
      balances: [
        { member: "Ana", cents: 666 },
        { member: "Ben", cents: -1533 },
        { member: "Cy", cents: 867 },
      ],
    });
  });

  it("must be paid by and split among members of the group", async () => {
    const groupId = await createGroup();
    const post = (changes: object) =>
      send("POST", `/groups/${groupId}/expenses`, { ...dinner, ...changes });
    assert.equal(await fieldOf(await post({ paidBy: "Zed" })), "paidBy");
    assert.equal(await fieldOf(await post({ splitAmong: ["Ben", "Zed"] })), "splitAmong");
    assert.equal(await fieldOf(await post({ splitAmong: [] })), "splitAmong");
    assert.equal(await fieldOf(await post({ splitAmong: ["Ben", "Ben"] })), "splitAmong");
    assert.deepEqual(await (await send("GET", `/groups/${groupId}/expenses`)).json(), []);
  });

  it("need a description and a whole, positive number of cents", async () => {
    const groupId = await createGroup();
    const post = (changes: object) =>
      send("POST", `/groups/${groupId}/expenses`, { ...dinner, ...changes });
    for (const amountCents of [0, -100, 12.5, "1200", 10_000_001]) {
      assert.equal(await fieldOf(await post({ amountCents })), "amountCents", String(amountCents));
    }
    assert.equal(await fieldOf(await post({ description: "" })), "description");
    assert.equal((await send("POST", "/groups/999/expenses", dinner)).status, 404);
    const malformed = await fetch(`${base}/groups/${groupId}/expenses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    assert.equal(malformed.status, 400);
  });

  it("can be removed once, which gives the balances back", async () => {
    const groupId = await createGroup(["Ana", "Ben"]);
    const expense = await (await send("POST", `/groups/${groupId}/expenses`, dinner)).json();
    const otherGroup = await createGroup();
    const path = `/groups/${groupId}/expenses/${expense.id}`;

    assert.equal(
      (await send("DELETE", `/groups/${otherGroup}/expenses/${expense.id}`)).status,
      404,
    );
    assert.equal((await send("DELETE", path)).status, 204);
    assert.equal((await send("DELETE", path)).status, 404);
    assert.deepEqual(await (await send("GET", `/groups/${groupId}/balances`)).json(), {
      balances: [
        { member: "Ana", cents: 0 },
        { member: "Ben", cents: 0 },
      ],
    });
  });
});
