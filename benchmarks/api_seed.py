# ruff: noqa: S608 (the SQL is built from this module's integer constants and table names)
"""The volume of `benchmarks/api.py`, written straight into a migrated database with
`INSERT ... SELECT generate_series` (a few seconds for the 335 000 per-test rows).

Ids are explicit and computed from the session number, so the load scripts can name rows
without reading them back: session `i` (1-based) belongs to simulation `(i - 1) % 8 + 1`,
has a code workspace `2i - 1` and a debug workspace `2i`; workspace `w` holds runs
`5(w - 1) + 1 ...`; simulation `s` has tasks `5(s - 1) + day`.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

COMPANIES = 4
SIMULATIONS_PER_COMPANY = 2
SIMULATIONS = COMPANIES * SIMULATIONS_PER_COMPANY
SESSIONS = 2000
# Sessions 1..COMPLETED submitted all five tasks; the rest are on day 3 (two submitted).
COMPLETED = 1900
RUNS_PER_WORKSPACE = 5
# The in-progress sessions' debug workspaces have run their tests twice so far.
RUNS_IN_OPEN_DEBUG_WORKSPACE = 2
TESTS_PER_RUN = 17
CODE_DAY, DEBUG_DAY = 2, 3


def recruiter_subject(company: int) -> str:
    return f"bench|recruiter-{company}"


def candidate_subject(session: int) -> str:
    return f"bench|candidate-{session}"


def code_task_of(session: int) -> int:
    return ((session - 1) % SIMULATIONS) * 5 + CODE_DAY


def code_runs_of(session: int) -> range:
    """The run ids of the session's code workspace."""
    first = (2 * session - 2) * RUNS_PER_WORKSPACE + 1
    return range(first, first + RUNS_PER_WORKSPACE)


@dataclass(frozen=True)
class Volume:
    sessions: int
    submissions: int
    test_runs: int
    test_case_results: int


# Each statement is one INSERT ... SELECT; sizes are those of real rows (a few KB of
# patches and output, a 64-byte ciphertext).
SEED_STATEMENTS = (
    f"""
    INSERT INTO companies (id, name)
    SELECT c, 'Company ' || c FROM generate_series(1, {COMPANIES}) AS c
    """,
    f"""
    INSERT INTO users (id, company_id, email, name, auth0_sub)
    SELECT c, c, 'recruiter' || c || '@bench.example', 'Recruiter ' || c,
           'bench|recruiter-' || c
    FROM generate_series(1, {COMPANIES}) AS c
    """,
    f"""
    INSERT INTO simulations (id, company_id, created_by_user_id, title, role, tech_stack,
                             seniority, focus, template_key)
    SELECT s, (s - 1) / {SIMULATIONS_PER_COMPANY} + 1, (s - 1) / {SIMULATIONS_PER_COMPANY} + 1,
           'Backend engineer simulation ' || s, 'Backend Engineer', 'Python, FastAPI',
           'senior', 'payments', 'python-fastapi'
    FROM generate_series(1, {SIMULATIONS}) AS s
    """,
    f"""
    INSERT INTO tasks (id, simulation_id, day_index, type, title, description, max_score,
                       template_repo)
    SELECT (s - 1) * 5 + d, s, d,
           (ARRAY['design', 'code', 'debug', 'handoff', 'documentation'])[d],
           'Day ' || d || ' task', repeat('Describe and build the refund flow. ', 40), 10,
           CASE d WHEN 2 THEN 'tenon-templates/python-fastapi'
                  WHEN 3 THEN 'tenon-templates/python-fastapi-debug' END
    FROM generate_series(1, {SIMULATIONS}) AS s, generate_series(1, 5) AS d
    """,
    f"""
    INSERT INTO candidate_sessions (id, simulation_id, candidate_name, invite_email, token_hash,
                                    token_ciphertext, status, auth0_sub, github_username,
                                    claimed_at, started_at, completed_at, expires_at,
                                    email_status, email_provider, email_sent_at, email_attempts)
    SELECT i, (i - 1) % {SIMULATIONS} + 1, 'Candidate ' || i, 'candidate' || i || '@bench.example',
           md5('token' || i),
           decode(md5('a' || i) || md5('b' || i) || md5('c' || i) || md5('d' || i), 'hex'),
           CASE WHEN i <= {COMPLETED} THEN 'completed' ELSE 'in_progress' END,
           'bench|candidate-' || i, 'candidate' || i,
           now() - interval '6 days', now() - interval '6 days',
           CASE WHEN i <= {COMPLETED} THEN now() - interval '1 day' END,
           now() + interval '30 days', 'sent', 'smtp', now() - interval '7 days', 1
    FROM generate_series(1, {SESSIONS}) AS i
    """,
    f"""
    INSERT INTO workspaces (id, candidate_session_id, template_repo, template_key, repo_full_name,
                            repo_id, repo_url, default_branch, base_template_sha,
                            latest_commit_sha, codespace_url, collaborator_login, status)
    SELECT 2 * (i - 1) + k, i,
           CASE k WHEN 1 THEN 'tenon-templates/python-fastapi'
                  ELSE 'tenon-templates/python-fastapi-debug' END,
           CASE k WHEN 1 THEN 'python-fastapi' ELSE 'python-fastapi-debug' END,
           'tenon-workspaces/bench-' || i || '-' || k, 100000 + 2 * i + k,
           'https://github.com/tenon-workspaces/bench-' || i || '-' || k, 'main',
           md5('base' || k) || substr(md5('x'), 1, 8), md5('head' || i || k) || '01234567',
           'https://codespaces.new/tenon-workspaces/bench-' || i || '-' || k, 'candidate' || i,
           'ready'
    FROM generate_series(1, {SESSIONS}) AS i, generate_series(1, 2) AS k
    """,
    f"""
    INSERT INTO test_runs (id, workspace_id, task_id, requested_ref, status, github_run_id,
                           github_run_url, head_sha, conclusion, passed, failed, skipped, errors,
                           total, duration_ms, stdout, stderr, artifact_name, result_code,
                           dispatched_at, started_at, completed_at)
    SELECT id, w, ((w + 1) / 2 - 1) % {SIMULATIONS} * 5 + {CODE_DAY} + (w + 1) % 2, 'main',
           CASE WHEN r % 2 = 0 THEN 'passed' ELSE 'failed' END,
           9000000000 + id,
           'https://github.com/tenon-workspaces/bench/actions/runs/' || (9000000000 + id),
           md5('head' || w || r) || '01234567',
           CASE WHEN r % 2 = 0 THEN 'success' ELSE 'failure' END,
           {TESTS_PER_RUN} - (r % 2) * 2, (r % 2) * 2, 0, 0, {TESTS_PER_RUN}, 30000 + r * 100,
           repeat('tests/test_refunds.py::test_partial_refund PASSED            [ 12%]' || E'\\n',
                  50),
           repeat('warning: deprecated call' || E'\\n', 5), 'tenon-test-results', 'OK',
           now() - interval '2 days', now() - interval '2 days', now() - interval '2 days'
    FROM (
        SELECT w, r, (w - 1) * {RUNS_PER_WORKSPACE} + r AS id
        FROM generate_series(1, {2 * SESSIONS}) AS w, generate_series(1, {RUNS_PER_WORKSPACE}) AS r
        WHERE w <= {2 * COMPLETED} OR w % 2 = 1 OR r <= {RUNS_IN_OPEN_DEBUG_WORKSPACE}
    ) AS runs
    """,
    f"""
    INSERT INTO test_case_results (id, test_run_id, position, name, classname, status,
                                   duration_ms, message)
    SELECT (r.id - 1) * {TESTS_PER_RUN} + p + 1, r.id, p, 'test_refund_case_' || p,
           'tests.test_refunds', CASE WHEN p < r.failed THEN 'failed' ELSE 'passed' END, 5 + p,
           CASE WHEN p < r.failed
                THEN 'AssertionError: assert 40 == 60' || repeat(' (refund remainder)', 10) END
    FROM test_runs AS r, generate_series(0, {TESTS_PER_RUN - 1}) AS p
    """,
    f"""
    INSERT INTO submissions (id, candidate_session_id, task_id, content_text, workspace_id,
                             cutoff_sha, cutoff_tag_status, test_run_id, diff_summary,
                             integrity_findings, submitted_at, late)
    SELECT (i - 1) * 5 + d, i, ((i - 1) % {SIMULATIONS}) * 5 + d,
           CASE WHEN d NOT IN (2, 3) THEN repeat('We keep the refund ledger append-only. ', 80)
           END,
           CASE WHEN d IN (2, 3) THEN 2 * (i - 1) + d - 1 END,
           CASE WHEN d IN (2, 3) THEN md5('head' || (2 * (i - 1) + d - 1) || '5') || '01234567'
           END,
           CASE WHEN d IN (2, 3) THEN 'created' END,
           CASE WHEN d IN (2, 3) THEN (2 * (i - 1) + d - 2) * {RUNS_PER_WORKSPACE} + 5 END,
           CASE WHEN d IN (2, 3) THEN jsonb_build_object(
               'filesChanged', 3, 'additions', 120, 'deletions', 40,
               'files', jsonb_build_array(
                   jsonb_build_object('path', 'app/refunds.py', 'status', 'modified',
                                      'patch', repeat('+    ledger.append(refund)' || E'\\n', 80)),
                   jsonb_build_object('path', 'tests/test_refunds.py', 'status', 'modified',
                                      'patch', repeat('+    assert refund.amount == 60' || E'\\n',
                                                      40))))
           END,
           CASE WHEN d = 2 AND i % 10 = 0 THEN jsonb_build_array(jsonb_build_object(
               'change', 'modified', 'path', 'tests/test_refunds.py', 'rule', 'tests/**'))
           END,
           now() - interval '6 days' + (d || ' days')::interval + (i || ' seconds')::interval,
           i % 50 = 0
    FROM generate_series(1, {SESSIONS}) AS i, generate_series(1, 5) AS d
    WHERE i <= {COMPLETED} OR d <= 2
    """,
)

SEQUENCED_TABLES = (
    "companies",
    "users",
    "simulations",
    "tasks",
    "candidate_sessions",
    "workspaces",
    "test_runs",
    "test_case_results",
    "submissions",
)


async def seed(connection: asyncpg.Connection) -> None:
    async with connection.transaction():
        for statement in SEED_STATEMENTS:
            await connection.execute(statement)
        for table in SEQUENCED_TABLES:
            # The explicit ids leave the identity sequences behind; a later insert must not
            # collide with them.
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    await connection.execute("ANALYZE")


async def volume(connection: asyncpg.Connection) -> Volume:
    counts = [
        int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
        for table in ("candidate_sessions", "submissions", "test_runs", "test_case_results")
    ]
    return Volume(*counts)
