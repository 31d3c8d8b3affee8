"""The company's monthly AI budget: reservations, settling, releasing, the month boundary
and concurrent reservations racing for the last of the budget."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies.models import Company
from app.core.db import Database
from app.core.settings import AiSettings
from app.evaluation import ai_budget
from app.evaluation.ai_budget import AiBudgetExhaustedError
from app.evaluation.models import AiUsage
from tests.support.factories import create_company

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
SETTINGS = AiSettings(_env_file=None, monthly_budget_usd=Decimal("1.00"))


async def _reserve(
    session: AsyncSession, company: Company, amount: str, *, now: datetime = NOW
) -> AiUsage:
    return await ai_budget.reserve(
        session,
        company.id,
        "scorecard_draft",
        "fake",
        "fake-model",
        "hash",
        Decimal(amount),
        settings=SETTINGS,
        now=now,
    )


async def test_reservations_beyond_the_default_limit_are_refused_naming_it(
    db_session: AsyncSession,
) -> None:
    company = await create_company(db_session)
    await _reserve(db_session, company, "0.60")
    with pytest.raises(AiBudgetExhaustedError) as refused:
        await _reserve(db_session, company, "0.50")
    assert refused.value.code == "AI_BUDGET_EXHAUSTED"
    assert refused.value.status == 409
    assert "$1.00" in refused.value.detail
    assert "$0.6000" in refused.value.detail
    # What is left still fits.
    await _reserve(db_session, company, "0.40")


async def test_the_companys_own_limit_replaces_the_default(db_session: AsyncSession) -> None:
    company = await create_company(db_session)
    company.ai_monthly_budget_usd = Decimal("5.00")
    await _reserve(db_session, company, "4.00")
    with pytest.raises(AiBudgetExhaustedError, match=r"\$5\.00"):
        await _reserve(db_session, company, "1.50")


async def test_settling_charges_the_real_cost_and_releasing_nothing(
    db_session: AsyncSession,
) -> None:
    company = await create_company(db_session)
    settled = await _reserve(db_session, company, "0.90")
    await ai_budget.settle(
        db_session, settled.id, "fake-model-v2", 1000, 200, Decimal("0.10"), now=NOW
    )
    released = await _reserve(db_session, company, "0.80")
    await ai_budget.release(db_session, released.id, now=NOW)
    assert (settled.status, settled.cost_usd, settled.model) == (
        "settled",
        Decimal("0.10"),
        "fake-model-v2",
    )
    assert (settled.input_tokens, settled.output_tokens) == (1000, 200)
    assert (released.status, released.cost_usd) == ("released", Decimal(0))
    # 0.10 spent: 0.90 fits exactly, a cent more does not.
    await _reserve(db_session, company, "0.90")
    with pytest.raises(AiBudgetExhaustedError):
        await _reserve(db_session, company, "0.01")


async def test_last_months_spend_does_not_count(db_session: AsyncSession) -> None:
    company = await create_company(db_session)
    await _reserve(db_session, company, "1.00", now=datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    await _reserve(db_session, company, "1.00", now=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    with pytest.raises(AiBudgetExhaustedError):
        await _reserve(db_session, company, "0.01")


async def test_ensure_budget_left_refuses_only_a_spent_month(db_session: AsyncSession) -> None:
    company = await create_company(db_session)
    await _reserve(db_session, company, "0.99")
    await ai_budget.ensure_budget_left(db_session, company.id, SETTINGS, NOW)
    await _reserve(db_session, company, "0.01")
    with pytest.raises(AiBudgetExhaustedError):
        await ai_budget.ensure_budget_left(db_session, company.id, SETTINGS, NOW)


async def test_concurrent_reservations_exceeding_the_limit_together_let_one_through(
    jobs_db: Database,
) -> None:
    async with jobs_db.session_scope() as session:
        company = await create_company(session)
    first_holds_lock = asyncio.Event()

    async def reserve(amount: str, *, hold: bool) -> str:
        if not hold:
            await first_holds_lock.wait()
        try:
            async with jobs_db.session_scope() as session:
                await _reserve(session, company, amount)
                if hold:
                    first_holds_lock.set()
                    # The other reservation starts while this one is not committed yet.
                    await asyncio.sleep(0.3)
            return "reserved"
        except AiBudgetExhaustedError:
            return "refused"

    try:
        outcomes = await asyncio.gather(reserve("0.60", hold=True), reserve("0.60", hold=False))
        assert sorted(outcomes) == ["refused", "reserved"]
        async with jobs_db.session_scope() as session:
            rows = (
                await session.scalars(select(AiUsage).where(AiUsage.company_id == company.id))
            ).all()
        assert [row.cost_usd for row in rows] == [Decimal("0.60")]
    finally:
        async with jobs_db.session_scope() as session:
            await session.execute(delete(Company).where(Company.id == company.id))
