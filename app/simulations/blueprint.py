"""The default five-day plan a new simulation's tasks are seeded from."""

from __future__ import annotations

from dataclasses import dataclass

from app.simulations.models import TaskType


@dataclass(frozen=True)
class TaskBlueprint:
    day_index: int
    type: TaskType
    title: str
    description: str
    max_score: int = 10


def default_plan(*, role: str, tech_stack: str) -> list[TaskBlueprint]:
    return [
        TaskBlueprint(
            1,
            "design",
            "Design the change",
            f"As a {role}, read the brief and write a short design: the problem, the approach "
            f"you would take in {tech_stack}, the trade-offs and what you would test.",
        ),
        TaskBlueprint(
            2,
            "code",
            "Build the feature",
            "Implement the feature in your repository. Push your work and run the tests; "
            "submit when you are done.",
        ),
        TaskBlueprint(
            3,
            "debug",
            "Fix the failing tests",
            "A teammate's change broke the service. Find the bugs, fix them and get the "
            "test suite green without changing the tests.",
        ),
        TaskBlueprint(
            4,
            "handoff",
            "Hand the work over",
            "Write the handoff note a teammate needs to take over tomorrow: what changed, "
            "what is left, the risks and how to verify it.",
        ),
        TaskBlueprint(
            5,
            "documentation",
            "Document it",
            "Write the documentation a user of this service needs for what you built.",
        ),
    ]
