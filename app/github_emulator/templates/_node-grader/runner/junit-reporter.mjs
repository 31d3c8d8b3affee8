// A node:test reporter writing JUnit XML in which a test's classname says where it comes from:
// `<kind>.<file>[.<suite>…]`, e.g. `hidden.lending.lending rules` for a test in
// tests/hidden/lending.test.mjs inside describe("lending rules"). Tenon counts a test as
// hidden iff its classname starts with `hidden.`.
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TESTS = fileURLToPath(new URL("../tests/", import.meta.url));
const MAX_MESSAGE_CHARS = 4000;

// Characters XML 1.0 cannot hold at all, then the five it must escape.
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ENTITIES = { "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" };
const escape = (text) =>
  String(text).replace(INVALID_XML, "\uFFFD").replace(/[<>&"']/g, (char) => ENTITIES[char]);

function fileClass(file) {
  if (!file) return "unknown";
  const path = relative(TESTS, file.startsWith("file:") ? fileURLToPath(file) : file);
  return path.replace(/\.test\.mjs$/, "").split(sep).join(".");
}

function failureOf(error) {
  // node:test wraps what the test threw: the cause is the assertion or the error itself.
  const cause = error?.cause ?? error;
  const message = cause?.message ?? String(cause);
  const detail = cause?.stack ?? message;
  return {
    message: message.slice(0, MAX_MESSAGE_CHARS),
    detail: detail.slice(0, MAX_MESSAGE_CHARS),
  };
}

function testCase({ classname, name, details }, outcome) {
  const time = ((details?.duration_ms ?? 0) / 1000).toFixed(3);
  const attributes = `classname="${escape(classname)}" name="${escape(name)}" time="${time}"`;
  const open = `    <testcase ${attributes}`;
  if (outcome === "passed") return `${open}/>`;
  if (outcome === "skipped") return `${open}>\n      <skipped/>\n    </testcase>`;
  const { message, detail } = failureOf(details?.error);
  const failure = `<failure message="${escape(message)}">${escape(detail)}</failure>`;
  return `${open}>\n      ${failure}\n    </testcase>`;
}

export default async function* junitReporter(source) {
  const suites = []; // names of the suites enclosing the current test, by nesting level
  const cases = [];
  for await (const { type, data } of source) {
    if (type === "test:start") {
      suites.length = data.nesting;
      suites.push(data.name);
    } else if ((type === "test:pass" || type === "test:fail") && data.details?.type !== "suite") {
      const classname = [fileClass(data.file), ...suites.slice(0, data.nesting)].join(".");
      const skipped = data.skip !== undefined || data.todo !== undefined;
      const outcome = type === "test:fail" ? "failed" : skipped ? "skipped" : "passed";
      cases.push(testCase({ classname, name: data.name, details: data.details }, outcome));
    }
  }
  const failures = cases.filter((xml) => xml.includes("<failure")).length;
  yield '<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n';
  yield `  <testsuite name="tenon-grade" tests="${cases.length}" failures="${failures}">\n`;
  for (const xml of cases) yield `${xml}\n`;
  yield "  </testsuite>\n</testsuites>\n";
}
