// The candidate's service for the grader's tests: started on first use, so only after every
// test file has been loaded (runner/grade.mjs), and stopped after the last test.
//
// It runs the candidate's src/server.ts with this grader's pinned tsx (never the candidate's
// npm scripts), on a free port, in the candidate's checkout and a process group of its own.
// If it does not come up, every test fails with the reason.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { after } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

const START_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
const LOG_TAIL_CHARS = 4000;
const ENTRY = "src/server.ts";
const TSX = import.meta.resolve("tsx");
const CLOCK = import.meta.resolve("../runner/clock.mjs");
const { TENON_CANDIDATE_DIR, TENON_SERVICE_PIDFILE, TENON_SERVICE_LOG, TENON_CLOCK_FILE } =
  process.env;

let service;
let started;

async function freePort() {
  const probe = createServer();
  await new Promise((resolve, reject) => probe.listen(0, "127.0.0.1", resolve).on("error", reject));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function logTail() {
  const text = readFileSync(TENON_SERVICE_LOG, "utf8");
  return text.slice(-LOG_TAIL_CHARS) || "(the service wrote nothing)";
}

async function healthy(base) {
  try {
    return (await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

async function start() {
  const port = await freePort();
  // The grader's own settings stay out of the candidate's process; the clock is its one input.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("TENON_")),
  );
  const log = openSync(TENON_SERVICE_LOG, "a");
  service = spawn(process.execPath, ["--import", TSX, "--import", CLOCK, ENTRY], {
    cwd: TENON_CANDIDATE_DIR,
    env: { ...env, PORT: String(port), TENON_CLOCK_FILE },
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  let exit;
  service.on("exit", (code, signal) => (exit = signal ?? `code ${code}`));
  service.on("error", (error) => (exit = error.message));
  service.unref();
  if (service.pid !== undefined) writeFileSync(TENON_SERVICE_PIDFILE, String(service.pid));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exit !== undefined) {
      throw new Error(
        `the candidate's service (${ENTRY}) exited (${exit}) before answering GET /health; ` +
          `its output:\n${logTail()}`,
      );
    }
    if (await healthy(base)) return base;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(
    `the candidate's service (${ENTRY}) did not answer GET /health with 200 within ` +
      `${START_TIMEOUT_MS / 1000} s; its output:\n${logTail()}`,
  );
}

/** The service's base URL; the first call starts it, and a failed start fails every caller. */
export function baseUrl() {
  started ??= start();
  return started;
}

after(() => {
  if (service?.pid === undefined) return;
  try {
    process.kill(-service.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
});

export async function get(path) {
  return fetch(`${await baseUrl()}${path}`);
}

export async function post(path, body) {
  return fetch(`${await baseUrl()}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Freeze the service's clock at `instant` (a Date or an ISO string) until the next call. */
export function setClock(instant) {
  writeFileSync(TENON_CLOCK_FILE, String(new Date(instant).getTime()));
}
