"""Simulations and their day-by-day tasks."""

from __future__ import annotations

from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
    column,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

SimulationStatus = TypeAliasType("SimulationStatus", Literal["draft", "active", "archived"])
SIMULATION_STATUSES: tuple[SimulationStatus, ...] = get_args(SimulationStatus.__value__)

TaskType = TypeAliasType("TaskType", Literal["design", "code", "debug", "handoff", "documentation"])
TASK_TYPES: tuple[TaskType, ...] = get_args(TaskType.__value__)
# Tasks worked in a generated repository; they need a template repo.
CODE_TASK_TYPES: tuple[TaskType, ...] = ("code", "debug")

FIRST_DAY = 1
LAST_DAY = 5


class Simulation(TimestampMixin, Base):
    __tablename__ = "simulations"
    __table_args__ = (CheckConstraint(column("status").in_(SIMULATION_STATUSES), name="status"),)

    id: Mapped[IdPrimaryKey]
    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("companies.id", ondelete="RESTRICT")
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    tech_stack: Mapped[str] = mapped_column(Text)
    seniority: Mapped[str] = mapped_column(Text)
    focus: Mapped[str | None] = mapped_column(Text)
    template_key: Mapped[str] = mapped_column(Text)
    status: Mapped[SimulationStatus] = mapped_column(Text, server_default=text("'active'"))

    tasks: Mapped[list[Task]] = relationship(
        lazy="raise",
        order_by="Task.day_index",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


Index(
    "ix_simulations_company_id_created_at",
    Simulation.company_id,
    Simulation.created_at.desc(),
    Simulation.id,
)


class Task(TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("simulation_id", "day_index"),
        CheckConstraint(column("day_index").between(FIRST_DAY, LAST_DAY), name="day_index"),
        CheckConstraint(column("type").in_(TASK_TYPES), name="type"),
        CheckConstraint(column("max_score") >= 0, name="max_score_non_negative"),
        CheckConstraint(
            or_(column("type").not_in(CODE_TASK_TYPES), column("template_repo").is_not(None)),
            name="code_task_has_template_repo",
        ),
    )

    id: Mapped[IdPrimaryKey]
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="CASCADE")
    )
    day_index: Mapped[int] = mapped_column(SmallInteger)
    type: Mapped[TaskType] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    max_score: Mapped[int | None]
    template_repo: Mapped[str | None] = mapped_column(Text)
