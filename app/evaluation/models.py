"""Rubrics, review assignments, scorecards and their submitted versions, fit profiles, AI
drafts and the AI spending ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

Recommendation = TypeAliasType("Recommendation", Literal["strong_no", "no", "yes", "strong_yes"])
RECOMMENDATIONS: tuple[Recommendation, ...] = get_args(Recommendation.__value__)

ScorecardStatus = TypeAliasType("ScorecardStatus", Literal["draft", "submitted"])
SCORECARD_STATUSES: tuple[ScorecardStatus, ...] = get_args(ScorecardStatus.__value__)

FitProfileStatus = TypeAliasType("FitProfileStatus", Literal["generating", "ready", "failed"])
FIT_PROFILE_STATUSES: tuple[FitProfileStatus, ...] = get_args(FitProfileStatus.__value__)

# `refused`: the provider declined; `budget_exhausted`: the company's month is spent.
AiDraftStatus = TypeAliasType(
    "AiDraftStatus",
    Literal["queued", "running", "ready", "failed", "refused", "budget_exhausted"],
)
AI_DRAFT_STATUSES: tuple[AiDraftStatus, ...] = get_args(AiDraftStatus.__value__)

ScenarioDraftStatus = TypeAliasType(
    "ScenarioDraftStatus",
    Literal["queued", "running", "ready", "failed", "refused", "budget_exhausted", "approved"],
)
SCENARIO_DRAFT_STATUSES: tuple[ScenarioDraftStatus, ...] = get_args(ScenarioDraftStatus.__value__)

AiPurpose = TypeAliasType("AiPurpose", Literal["scorecard_draft", "scenario_draft"])
AI_PURPOSES: tuple[AiPurpose, ...] = get_args(AiPurpose.__value__)

# `reserved`: the call's worst-case cost, held while it is under way; `settled`: its real
# cost; `released`: the call never reached the provider, nothing is owed.
AiUsageStatus = TypeAliasType("AiUsageStatus", Literal["reserved", "settled", "released"])
AI_USAGE_STATUSES: tuple[AiUsageStatus, ...] = get_args(AiUsageStatus.__value__)

NotificationKind = TypeAliasType(
    "NotificationKind", Literal["candidate_completed", "reviews_completed"]
)
NOTIFICATION_KINDS: tuple[NotificationKind, ...] = get_args(NotificationKind.__value__)

MIN_LEVEL = 1
MAX_LEVEL = 4


class RubricVersion(TimestampMixin, Base):
    """One version of a simulation's rubric. The newest is the current one; it is edited in
    place until a scorecard uses it, and an edit after that makes the next version.
    `criteria` is a list of `app.evaluation.schemas.Criterion` (camelCase JSON)."""

    __tablename__ = "rubric_versions"
    __table_args__ = (
        UniqueConstraint("simulation_id", "version"),
        CheckConstraint(column("version") >= 1, name="version_positive"),
    )

    id: Mapped[IdPrimaryKey]
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="CASCADE")
    )
    version: Mapped[int]
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )


class ReviewAssignment(Base):
    """A recruiter asked to review a candidate session."""

    __tablename__ = "review_assignments"
    __table_args__ = (UniqueConstraint("candidate_session_id", "reviewer_user_id"),)

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    reviewer_user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    assigned_by_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Scorecard(TimestampMixin, Base):
    """One reviewer's scorecard of one candidate session: a draft until submitted; each
    submit (the first and every later edit) adds a `ScorecardVersion`. `entries` is a list
    of `app.evaluation.schemas.ScoreEntry` (camelCase JSON)."""

    __tablename__ = "scorecards"
    __table_args__ = (
        UniqueConstraint("candidate_session_id", "reviewer_user_id"),
        CheckConstraint(column("status").in_(SCORECARD_STATUSES), name="status"),
        CheckConstraint(column("recommendation").in_(RECOMMENDATIONS), name="recommendation"),
        CheckConstraint(column("version") >= 0, name="version_non_negative"),
    )

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    reviewer_user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # RESTRICT: a rubric version a scorecard used is kept.
    rubric_version_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("rubric_versions.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[ScorecardStatus] = mapped_column(Text, server_default=text("'draft'"))
    recommendation: Mapped[Recommendation | None] = mapped_column(Text)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # How many times it was submitted: 0 for a draft never submitted.
    version: Mapped[int] = mapped_column(server_default=text("0"))
    submitted_at: Mapped[datetime | None]


class ScorecardVersion(Base):
    """A scorecard as it was submitted: the first submit is version 1, each edit after it
    the next."""

    __tablename__ = "scorecard_versions"
    __table_args__ = (
        UniqueConstraint("scorecard_id", "version"),
        CheckConstraint(column("recommendation").in_(RECOMMENDATIONS), name="recommendation"),
    )

    id: Mapped[IdPrimaryKey]
    scorecard_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("scorecards.id", ondelete="CASCADE")
    )
    version: Mapped[int]
    rubric_version_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("rubric_versions.id", ondelete="RESTRICT"), index=True
    )
    recommendation: Mapped[Recommendation] = mapped_column(Text)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())


class FitProfile(TimestampMixin, Base):
    """The automated signals of one candidate session, as of the inputs whose fingerprint
    it records. Reviewers' scores are not stored here: they are aggregated per reader,
    who may not see them yet (blind review)."""

    __tablename__ = "fit_profiles"
    __table_args__ = (CheckConstraint(column("status").in_(FIT_PROFILE_STATUSES), name="status"),)

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[FitProfileStatus] = mapped_column(Text, server_default=text("'generating'"))
    # The fingerprint of the inputs `signals` were computed from (None before the first).
    input_fingerprint: Mapped[str | None] = mapped_column(Text)
    signals: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_code: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    generated_at: Mapped[datetime | None]


class AiUsage(Base):
    """One call to the AI provider, held against its company's monthly budget: reserved at
    its worst-case cost before the call, settled at its real cost after it."""

    __tablename__ = "ai_usage"
    __table_args__ = (
        CheckConstraint(column("purpose").in_(AI_PURPOSES), name="purpose"),
        CheckConstraint(column("status").in_(AI_USAGE_STATUSES), name="status"),
        CheckConstraint(column("cost_usd") >= 0, name="cost_non_negative"),
    )

    id: Mapped[IdPrimaryKey]
    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("companies.id", ondelete="CASCADE")
    )
    purpose: Mapped[AiPurpose] = mapped_column(Text)
    status: Mapped[AiUsageStatus] = mapped_column(Text, server_default=text("'reserved'"))
    provider: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    prompt_hash: Mapped[str] = mapped_column(Text)
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    # The reservation while `reserved`, the real cost once `settled`, 0 once `released`.
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    settled_at: Mapped[datetime | None]


Index("ix_ai_usage_company_id_created_at", AiUsage.company_id, AiUsage.created_at)


class AiScorecardDraft(TimestampMixin, Base):
    """The AI's draft scorecard of one day of one candidate session: a suggestion to
    reviewers, never a reviewer. `content` holds the validated output (PII restored) with
    only the evidence that verified; `dropped_evidence` counts the rest."""

    __tablename__ = "ai_scorecard_drafts"
    __table_args__ = (
        UniqueConstraint("candidate_session_id", "day_index"),
        CheckConstraint(column("status").in_(AI_DRAFT_STATUSES), name="status"),
        CheckConstraint(column("dropped_evidence") >= 0, name="dropped_evidence_non_negative"),
    )

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    day_index: Mapped[int] = mapped_column(SmallInteger)
    rubric_version_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("rubric_versions.id", ondelete="SET NULL")
    )
    status: Mapped[AiDraftStatus] = mapped_column(Text, server_default=text("'queued'"))
    # The fingerprint of the inputs the draft was (or is being) made from.
    input_fingerprint: Mapped[str | None] = mapped_column(Text)
    ai_usage_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ai_usage.id", ondelete="SET NULL")
    )
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    dropped_evidence: Mapped[int] = mapped_column(server_default=text("0"))
    error_code: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]


class ScenarioDraft(TimestampMixin, Base):
    """The AI's draft of a simulation's five tasks and rubric from its role, stack,
    seniority and focus; the recruiter edits it and approves it, which applies it to the
    simulation. No draft is made or approved once the first invite is sent."""

    __tablename__ = "scenario_drafts"
    __table_args__ = (
        CheckConstraint(column("status").in_(SCENARIO_DRAFT_STATUSES), name="status"),
    )

    id: Mapped[IdPrimaryKey]
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="CASCADE"), index=True
    )
    requested_by_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[ScenarioDraftStatus] = mapped_column(Text, server_default=text("'queued'"))
    ai_usage_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ai_usage.id", ondelete="SET NULL")
    )
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_code: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    approved_by_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None]


class EvaluationNotification(Base):
    """An email to the simulation's owner that was queued once: inserting the row is what
    makes the notification at-most-once."""

    __tablename__ = "evaluation_notifications"
    __table_args__ = (
        UniqueConstraint("candidate_session_id", "kind"),
        CheckConstraint(column("kind").in_(NOTIFICATION_KINDS), name="kind"),
    )

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    kind: Mapped[NotificationKind] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
