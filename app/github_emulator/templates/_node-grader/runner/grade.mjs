// Grade a candidate's checkout with this grader's tests, and write Tenon's results files.
//
// Run from the workspace root, as the tenon-grade workflow does:
//
//     node grader/runner/grade.mjs candidate
//
// The candidate's dependencies are installed with `npm ci --ignore-scripts` (no candidate
// code runs). The grader's tests (tests/visible and tests/hidden, `*.test.mjs`) run with
// node:test in a process of their own, from one entry module that imports them all, so every
// test file is loaded before the first test starts the candidate's service
// (tests/service.mjs). The candidate's package.json scripts, test files and results script
// take no part. Once that process has ended and the service's process group is stopped, the
// results land at the workspace root: tenon-junit.xml (classnames `visible.…` / `hidden.…`,
// see junit-reporter.mjs) and tenon-test-results.json. Node 20+, no dependencies.
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const GRADER = fileURLToPath(new URL("..", import.meta.url));
const TEST_KINDS = ["visible", "hidden"];
const JUNIT_PATH = "tenon-junit.xml";
const RESULTS_PATH = "tenon-test-results.json";
const MAX_OUTPUT_CHARS = 64_000;
const INSTALL_TIMEOUT_MS = 5 * 60_000;
const TESTS_TIMEOUT_MS = 15 * 60_000;
// The runner's own variables, so that nothing the candidate's code inherits can reach GitHub.
const RUNNER_ENV = /^(GITHUB_|ACTIONS_|RUNNER_)/;

// Keep the end of long output: that is where failures and the summary are.
const truncate = (text) =>
  text.length <= MAX_OUTPUT_CHARS ? text : "[truncated]\n" + text.slice(-MAX_OUTPUT_CHARS);

function gradingEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !RUNNER_ENV.test(key)));
}

function testFiles() {
  return TEST_KINDS.flatMap((kind) => {
    const folder = join(GRADER, "tests", kind);
    if (!existsSync(folder)) return [];
    return readdirSync(folder, { recursive: true })
      .filter((name) => name.endsWith(".test.mjs"))
      .sort()
      .map((name) => join(folder, name));
  });
}

// Static imports: the whole module graph loads before any of it runs, so no test (and no
// service start) can happen before the last test file is read.
function writeEntry(temp, files) {
  const entry = join(temp, "entry.mjs");
  const imports = files.map((file) => `import ${JSON.stringify(pathToFileURL(file).href)};`);
  writeFileSync(entry, imports.join("\n") + "\n");
  return entry;
}

function installCandidate(candidate, env, serviceLog) {
  const proc = spawnSync(
    "npm",
    ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
    { cwd: candidate, env, encoding: "utf8", timeout: INSTALL_TIMEOUT_MS },
  );
  const output = `${proc.stdout ?? ""}${proc.stderr ?? ""}${proc.error?.message ?? ""}`;
  // A failed install shows up where a failed start is explained: in the service's log.
  appendFileSync(serviceLog, `$ npm ci --ignore-scripts (exit code ${proc.status})\n${output}\n`);
}

function runTests(entry, junitPath, env) {
  const proc = spawnSync(
    process.execPath,
    [
      `--test-reporter=${join(GRADER, "runner", "junit-reporter.mjs")}`,
      `--test-reporter-destination=${junitPath}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      entry,
    ],
    { cwd: GRADER, env, encoding: "utf8", timeout: TESTS_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
  );
  const timedOut = proc.error?.code === "ETIMEDOUT";
  const late = timedOut ? `the tests did not finish within ${TESTS_TIMEOUT_MS / 1000} s\n` : "";
  const stderr = (proc.stderr ?? "") + late;
  return { code: proc.status ?? 1, stdout: proc.stdout ?? "", stderr };
}

// End the candidate's service group, should the test process have left it running.
function stopService(pidfile) {
  if (!existsSync(pidfile)) return;
  try {
    process.kill(-Number(readFileSync(pidfile, "utf8")), "SIGKILL");
  } catch {
    // Already gone.
  }
}

function countOutcomes(xml) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const match of xml.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[1] ?? "";
    if (/<(failure|error)\b/.test(body)) counts.failed += 1;
    else if (/<skipped\b/.test(body)) counts.skipped += 1;
    else counts.passed += 1;
  }
  return counts;
}

function main(args) {
  if (args.length !== 1) {
    console.error("usage: grade.mjs CANDIDATE_DIR");
    return 2;
  }
  const candidate = resolve(args[0]);
  const temp = mkdtempSync(join(tmpdir(), "tenon-grade-"));
  const env = {
    ...gradingEnv(),
    TENON_CANDIDATE_DIR: candidate,
    TENON_SERVICE_PIDFILE: join(temp, "service.pid"),
    TENON_SERVICE_LOG: join(temp, "service.log"),
    TENON_CLOCK_FILE: join(temp, "clock"),
  };
  const junitPath = join(temp, "junit.xml");
  let result;
  let junit = "";
  try {
    const entry = writeEntry(temp, testFiles());
    writeFileSync(env.TENON_SERVICE_LOG, "");
    if (existsSync(candidate)) installCandidate(candidate, gradingEnv(), env.TENON_SERVICE_LOG);
    result = runTests(entry, junitPath, env);
    stopService(env.TENON_SERVICE_PIDFILE);
    if (existsSync(junitPath)) junit = readFileSync(junitPath, "utf8");
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);

  const counts = countOutcomes(junit);
  let summary;
  if (counts.passed + counts.failed + counts.skipped === 0) {
    // The grader's suite did not run at all: one failure, never an empty pass.
    counts.failed = 1;
    summary = `the grader's tests exited with code ${result.code} before reporting any results`;
  } else {
    summary = ["passed", "failed", "skipped"].map((key) => `${counts[key]} ${key}`).join(", ");
  }
  writeFileSync(JUNIT_PATH, junit || '<?xml version="1.0" encoding="utf-8"?>\n<testsuites/>\n');
  const results = {
    ...counts,
    total: counts.passed + counts.failed + counts.skipped,
    stdout: truncate(result.stdout),
    stderr: truncate(result.stderr),
    summary,
    gradingId: process.env.TENON_GRADING_ID ?? "",
  };
  writeFileSync(RESULTS_PATH, JSON.stringify(results, null, 2) + "\n");
  console.log(`tenon-grade: ${summary} (exit code ${result.code})`);
  return result.code;
}

process.exitCode = main(process.argv.slice(2));
