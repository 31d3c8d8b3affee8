// What a front end writes against the types openapi-typescript generates from Tenon's
// OpenAPI document (./tenon-api.ts, made by scripts/openapi_check.sh). It must compile: each
// `@ts-expect-error` line proves the document is precise where a loose type would accept it.
import type { components, operations, paths } from "./tenon-api";

type Schemas = components["schemas"];
type JsonBody<R> = R extends { content: { "application/json": infer B } } ? B : never;
type ProblemBody<R> = R extends { content: { "application/problem+json": infer B } } ? B : never;

// ---- Inviting: 201 for a new invite, 200 for the open one this email already has ----------
type Invite = operations["inviteCandidate"];
const inviteRequest: JsonBody<Invite["requestBody"]> = {
  candidateName: "Ada Lovelace",
  inviteEmail: "ada@example.com",
};
const invitePath: Invite["parameters"]["path"] = {
  simulation_id: 17,
};
const stringIdPath: Invite["parameters"]["path"] = {
  // @ts-expect-error ids are integers, not strings
  simulation_id: "17",
};
const created: JsonBody<Invite["responses"][201]> = {
  candidateSessionId: 42,
  token: "q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
  inviteUrl: "http://localhost:3000/candidate/session/q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
  outcome: "created",
  expiresAt: "2026-12-15T09:00:00Z",
  inviteEmailStatus: "queued",
};
const existing: JsonBody<Invite["responses"][200]> = {
  ...created,
  token: null,
  outcome: "existing",
};
// @ts-expect-error an outcome outside created | existing | resent
const unknownOutcome: Schemas["InviteOutcome"] = "pending";

// ---- Lists: a bare array without paging parameters, a page with them ---------------------
type SimulationList = JsonBody<operations["listSimulations"]["responses"][200]>;

function simulationTitles(list: SimulationList): string[] {
  const items = Array.isArray(list) ? list : list.items;
  return items.map((simulation) => `${simulation.title} (${simulation.candidateCount})`);
}

// ---- A submission's review: typed objects, not records ------------------------------------
type SubmissionDetail = JsonBody<operations["getSubmission"]["responses"][200]>;

function failedTests(detail: SubmissionDetail): string[] {
  const results = detail.testResults;
  if (!results) return [];
  return results.tests
    .filter((test) => test.status === "failed" || test.status === "error")
    .map((test) => `${test.classname ?? "?"}::${test.name}: ${test.message ?? ""}`);
}

function passRate(detail: SubmissionDetail): number | null {
  const results = detail.testResults;
  return results && results.total ? (results.passed ?? 0) / results.total : null;
}

function reviewLines(detail: SubmissionDetail): string[] {
  const diff = detail.diffSummary;
  const files = diff ? diff.files.map((file) => `${file.status} ${file.filename}`) : [];
  const integrity = detail.integrity.map((finding) => `${finding.change} ${finding.path} (${finding.rule})`);
  return [detail.code?.cutoffSha ?? "no commit", ...files, ...integrity];
}

function looseFieldsAreGone(detail: SubmissionDetail): void {
  // @ts-expect-error testResults has no such field
  void detail.testResults?.notARunField;
  // @ts-expect-error diffSummary has no such field
  void detail.diffSummary?.notADiffField;
  // @ts-expect-error an integrity finding has no such field
  void detail.integrity[0]?.notAFindingField;
  // @ts-expect-error code has no such field
  void detail.code?.notACodeField;
}

// ---- Errors: problem+json, with the codes each operation answers ---------------------------
type SubmissionNotFound = ProblemBody<operations["getSubmission"]["responses"][404]>;
const notFound: SubmissionNotFound = {
  type: "urn:tenon:problem:submission-not-found",
  title: "Not Found",
  status: 404,
  detail: "No such submission.",
  code: "SUBMISSION_NOT_FOUND",
  retryable: false,
};
// @ts-expect-error getSubmission does not answer 404 with this code
const notItsCode: SubmissionNotFound["code"] = "SIMULATION_NOT_FOUND";
const rateLimited: ProblemBody<Invite["responses"][429]>["code"] = "RATE_LIMITED";
const invalid: ProblemBody<Invite["responses"][422]> = {
  type: "urn:tenon:problem:validation-failed",
  title: "Unprocessable Entity",
  status: 422,
  detail: "The request is invalid.",
  code: "VALIDATION_FAILED",
  retryable: false,
  errors: [{ loc: ["body", "inviteEmail"], msg: "value is not a valid email address", type: "value_error" }],
};

function describe(problem: Schemas["Problem"]): string {
  const where = problem.requestId ? ` (request ${problem.requestId})` : "";
  return `${problem.code}: ${problem.detail}${where}${problem.retryable ? "; try again" : ""}`;
}

// ---- Named status enums ------------------------------------------------------------------
const runStatus: Schemas["TestRunStatus"] = "running";
const sessionStatus: Schemas["SessionStatus"] = "in_progress";
const workspaceStatus: JsonBody<operations["getCodespaceStatus"]["responses"][200]>["status"] = "ready";
// @ts-expect-error not a test run status
const notARunStatus: Schemas["TestRunStatus"] = "done";

// ---- Operations are reachable by path too ------------------------------------------------
type RequestRun = paths["/api/tasks/{task_id}/run"]["post"];
const runHeader: RequestRun["parameters"]["header"] = {
  "x-candidate-session-id": 42,
};

export {
  created,
  describe,
  existing,
  failedTests,
  invalid,
  invitePath,
  inviteRequest,
  looseFieldsAreGone,
  notARunStatus,
  notFound,
  notItsCode,
  passRate,
  rateLimited,
  reviewLines,
  runHeader,
  runStatus,
  sessionStatus,
  stringIdPath,
  unknownOutcome,
  workspaceStatus,
};
