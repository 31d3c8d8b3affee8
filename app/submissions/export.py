"""A simulation's results as CSV: one row per candidate session."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.schemas import public_session_status
from app.grading import service as grading_service
from app.grading.models import Grading
from app.runs import service as runs
from app.similarity import views as similarity
from app.simulations import service as simulations
from app.simulations.models import CODE_TASK_TYPES
from app.submissions import repository
from app.submissions.models import Submission
from app.submissions.review import integrity_flags

# A spreadsheet would run a cell starting with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A session's highest-scoring pair with another candidate's code, for a human to review.
SIMILARITY_COLUMNS = (
    "similarity_max_score",
    "similarity_other_candidate_session_id",
    "similarity_other_candidate_name",
)


def csv_cell(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def similarity_cells(
    score: float | None, other_cs_id: int | None, names: Mapping[int, str]
) -> tuple[object, ...]:
    """The SIMILARITY_COLUMNS of a session whose highest pair has this score and other side."""
    if score is None or other_cs_id is None:
        return (None, None, None)
    return (f"{score:.3f}", other_cs_id, names.get(other_cs_id))


async def results_csv(session: AsyncSession, recruiter: Recruiter, simulation_id: int) -> str:
    """One row per candidate session: who, status, when each day was submitted, per code
    task the final run's and the grader's counts, the integrity flags, and the session's
    highest pair with another candidate's code."""
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    tasks = await simulations.tasks_of(session, simulation.id)
    sessions = await candidate_sessions.all_of_simulation(session, simulation.id)
    submissions: dict[tuple[int, int], Submission] = {
        (s.candidate_session_id, s.task_id): s
        for s in await repository.of_sessions(session, [cs.id for cs in sessions])
    }
    final_runs = await runs.runs_by_id(
        session, [s.test_run_id for s in submissions.values() if s.test_run_id]
    )
    gradings = await grading_service.of_submissions(session, [s.id for s in submissions.values()])
    highest = similarity.highest_by_session(
        await similarity.standings(session, [s.id for s in submissions.values()])
    )
    names = {cs.id: cs.candidate_name for cs in sessions}
    code_tasks = [task for task in tasks if task.type in CODE_TASK_TYPES]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "candidate_session_id",
            "candidate_name",
            "invite_email",
            "status",
            "invited_at",
            "completed_at",
            *(f"day{task.day_index}_{task.type}_submitted_at" for task in tasks),
            *(
                f"day{task.day_index}_{task.type}_tests_{count}"
                for task in code_tasks
                for count in ("passed", "total")
            ),
            *(
                f"day{task.day_index}_{task.type}_{count}"
                for task in code_tasks
                for count in ("grader_passed", "grader_total", "hidden_passed", "hidden_total")
            ),
            "integrity_flags",
            *SIMILARITY_COLUMNS,
        ]
    )
    for cs in sessions:
        days = [submissions.get((cs.id, task.id)) for task in tasks]
        code = [submissions.get((cs.id, task.id)) for task in code_tasks]
        code_runs = [final_runs.get(s.test_run_id) if s and s.test_run_id else None for s in code]
        code_gradings = [gradings.get(s.id) if s else None for s in code]
        flags = [
            flag
            for s in days
            if s is not None
            for flag in integrity_flags(
                s, final_runs.get(s.test_run_id) if s.test_run_id else None, gradings.get(s.id)
            )
        ]
        closest = highest[cs.id].closest if cs.id in highest else None
        writer.writerow(
            csv_cell(value)
            for value in (
                cs.id,
                cs.candidate_name,
                cs.invite_email,
                public_session_status(cs.status),
                cs.invited_at,
                cs.completed_at,
                *(s.submitted_at if s else None for s in days),
                *(
                    count
                    for run in code_runs
                    for count in ((run.passed, run.total) if run else (None, None))
                ),
                *(count for grading in code_gradings for count in _grader_counts(grading)),
                " ".join(flags),
                *similarity_cells(
                    closest.score if closest else None,
                    closest.other_candidate_session_id if closest else None,
                    names,
                ),
            )
        )
    return out.getvalue()


def _grader_counts(grading: Grading | None) -> tuple[int | None, ...]:
    """Passed and total of all the grader's tests, then of its hidden ones."""
    if grading is None:
        return (None, None, None, None)
    return (grading.passed, grading.total, grading.hidden_passed, grading.hidden_total)
