// Build the project, run its tests with Node's test runner and write
// tenon-test-results.json for Tenon. Node 20+, no dependencies.
//
// The tests are the files under package.json's `config.testDir` (default `test`; a list
// names several folders, as in a monorepo); a `build` script, when there is one, runs
// first (TypeScript compiles into dist/ there).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const JUNIT_PATH = "tenon-junit.xml";
const RESULTS_PATH = "tenon-test-results.json";
const MAX_OUTPUT_CHARS = 64_000;

// Keep the end of long output: that is where failures and the summary are.
const truncate = (text) =>
  text.length <= MAX_OUTPUT_CHARS ? text : "[truncated]\n" + text.slice(-MAX_OUTPUT_CHARS);

function run(command, args) {
  const proc = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  process.stdout.write(proc.stdout ?? "");
  process.stderr.write(proc.stderr ?? "");
  return { code: proc.status ?? 1, stdout: proc.stdout ?? "", stderr: proc.stderr ?? "" };
}

export function countOutcomes(xml) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const match of xml.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[1] ?? "";
    if (/<(failure|error)\b/.test(body)) counts.failed += 1;
    else if (/<skipped\b/.test(body)) counts.skipped += 1;
    else counts.passed += 1;
  }
  return counts;
}

function main() {
  rmSync(JUNIT_PATH, { force: true });
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  let result = { code: 0, stdout: "", stderr: "" };
  let summary;
  if (pkg.scripts?.build) {
    result = run("npm", ["run", "--silent", "build"]);
    if (result.code !== 0) summary = `the build failed with exit code ${result.code}`;
  }
  if (summary === undefined) {
    const testDirs = [pkg.config?.testDir ?? "test"].flat();
    result = run(process.execPath, [
      "--test",
      "--test-reporter=junit",
      `--test-reporter-destination=${JUNIT_PATH}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      ...testDirs,
    ]);
  }
  const counts = existsSync(JUNIT_PATH)
    ? countOutcomes(readFileSync(JUNIT_PATH, "utf8"))
    : { passed: 0, failed: 0, skipped: 0 };
  const total = counts.passed + counts.failed + counts.skipped;
  if (total === 0 && result.code !== 0) {
    // Nothing ran (a failed build, a test file that does not load): one failure.
    counts.failed = 1;
    summary ??= `the tests exited with code ${result.code} before reporting any results`;
  }
  summary ??= ["passed", "failed", "skipped"].map((key) => `${counts[key]} ${key}`).join(", ");
  const results = {
    ...counts,
    total: counts.passed + counts.failed + counts.skipped,
    stdout: truncate(result.stdout),
    stderr: truncate(result.stderr),
    summary,
    runId: process.env.TENON_RUN_ID ?? "",
  };
  writeFileSync(RESULTS_PATH, JSON.stringify(results, null, 2) + "\n");
  console.log(`tenon: ${summary} (exit code ${result.code})`);
  return result.code;
}

process.exitCode = main();
