"""The rubric a simulation starts with: criteria for each day, chosen by the day's task
type, each with an anchor sentence per level of the 1-4 scale."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.evaluation.schemas import Anchors, Criterion
from app.simulations.models import TaskType


@dataclass(frozen=True)
class _Template:
    name: str
    title: str
    description: str
    weight: float
    anchors: tuple[str, str, str, str]


_BY_TASK_TYPE: dict[TaskType, tuple[_Template, ...]] = {
    "design": (
        _Template(
            "problem",
            "Understanding of the problem",
            "Restates the goal, the constraints and what is out of scope.",
            1.0,
            (
                "Misreads the brief or misses its main constraint.",
                "Gets the goal but leaves constraints or scope unclear.",
                "States the goal, the constraints and the scope correctly.",
                "Also surfaces the unstated assumptions and open questions worth asking.",
            ),
        ),
        _Template(
            "approach",
            "Approach and trade-offs",
            "Proposes a workable design and weighs it against alternatives.",
            2.0,
            (
                "No workable approach.",
                "A workable approach with no alternatives or trade-offs considered.",
                "A sound approach with its main trade-offs named.",
                "A sound approach, alternatives compared on evidence, risks planned for.",
            ),
        ),
        _Template(
            "testing-plan",
            "Verification plan",
            "Says how the change will be tested and rolled out.",
            1.0,
            (
                "No plan to verify the change.",
                "Mentions testing without saying what would be tested.",
                "Names the tests that would show the change works.",
                "Covers failure cases, rollout and how to tell it works in production.",
            ),
        ),
    ),
    "code": (
        _Template(
            "correctness",
            "Correctness",
            "The feature works, as shown by the tests and the hidden grader.",
            3.0,
            (
                "The feature does not work.",
                "Works for the main case only.",
                "Works, including the edge cases the brief implies.",
                "Works everywhere tested, and the edge cases are handled deliberately.",
            ),
        ),
        _Template(
            "code-quality",
            "Code quality",
            "Readable, idiomatic code that fits the codebase.",
            2.0,
            (
                "Hard to follow or at odds with the codebase.",
                "Works but is tangled or inconsistent with its surroundings.",
                "Clear code that follows the codebase's conventions.",
                "Clear, small, well-named changes a reviewer would merge as is.",
            ),
        ),
        _Template(
            "tests",
            "Tests",
            "Adds or updates tests that pin the new behaviour down.",
            1.0,
            (
                "No tests for the change.",
                "Tests that do not exercise the new behaviour.",
                "Tests covering the main behaviour.",
                "Tests covering behaviour and edge cases, easy to read.",
            ),
        ),
    ),
    "debug": (
        _Template(
            "diagnosis",
            "Diagnosis",
            "Finds the root causes, not just the symptoms.",
            2.0,
            (
                "Does not find the causes.",
                "Finds some causes or patches symptoms.",
                "Finds every planted cause.",
                "Finds every cause and explains how each produced the failure.",
            ),
        ),
        _Template(
            "fix",
            "Quality of the fix",
            "Fixes the bugs without changing the tests or adding new problems.",
            2.0,
            (
                "Tests still fail, or the tests were changed to pass.",
                "Tests pass but the fix is fragile or too broad.",
                "A targeted fix; the suite is green.",
                "A targeted fix with a regression test for each bug.",
            ),
        ),
    ),
    "handoff": (
        _Template(
            "clarity",
            "Clarity",
            "A teammate can take over from this handoff alone.",
            2.0,
            (
                "A teammate could not take over from it.",
                "Useful but leaves essential questions open.",
                "Clear on what changed, what is left and how to verify it.",
                "Also flags the risks and the decisions a teammate must not undo.",
            ),
        ),
        _Template(
            "risks",
            "Risks and open work",
            "Names what is unfinished and what could go wrong.",
            1.0,
            (
                "No risks or open work mentioned.",
                "Lists open work without its risks.",
                "Names the open work and the main risks.",
                "Ranks the risks and proposes how to reduce each.",
            ),
        ),
    ),
    "documentation": (
        _Template(
            "accuracy",
            "Accuracy",
            "What the documentation says is true of what was built.",
            2.0,
            (
                "Wrong about what was built.",
                "Mostly right with misleading gaps.",
                "Accurate for what was built.",
                "Accurate, including limits and error cases.",
            ),
        ),
        _Template(
            "usefulness",
            "Usefulness to the reader",
            "A user can get started and find answers quickly.",
            1.0,
            (
                "A user could not use the feature from it.",
                "Usable with effort.",
                "Well organised with working examples.",
                "Organised around the reader's tasks, with examples and troubleshooting.",
            ),
        ),
    ),
}


def default_criteria(tasks: Iterable[tuple[int, TaskType]]) -> list[Criterion]:
    """The default criteria for a simulation whose tasks are (day index, type) pairs; keys
    are `d{day}-{name}`, unique across the rubric."""
    return [
        Criterion(
            key=f"d{day}-{template.name}",
            day_index=day,
            title=template.title,
            description=template.description,
            weight=template.weight,
            anchors=Anchors.model_validate(
                {str(level): text for level, text in enumerate(template.anchors, start=1)}
            ),
        )
        for day, task_type in sorted(tasks)
        for template in _BY_TASK_TYPE[task_type]
    ]
