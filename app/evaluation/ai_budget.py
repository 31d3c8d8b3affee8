"""The per-company monthly AI budget: every call is reserved at its worst-case cost before it
is made, then settled at its real cost or released. The company row's lock orders
concurrent reservations, so two calls that together exceed the limit cannot both pass."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies.models import Company
from app.core.errors import ConflictError
from app.core.settings import AiSettings
from app.evaluation.models import AiPurpose, AiUsage


class AiBudgetExhaustedError(ConflictError):
    code = "AI_BUDGET_EXHAUSTED"


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s calendar month in UTC."""
    utc = now.astimezone(UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def _limit_and_spent(
    session: AsyncSession, company_id: int, settings: AiSettings, now: datetime, *, lock: bool
) -> tuple[Decimal, Decimal]:
    statement = select(Company.ai_monthly_budget_usd).where(Company.id == company_id)
    if lock:
        statement = statement.with_for_update()
    own_limit = (await session.execute(statement)).scalar_one()
    spent = await session.scalar(
        select(func.coalesce(func.sum(AiUsage.cost_usd), 0)).where(
            AiUsage.company_id == company_id,
            AiUsage.status.in_(("reserved", "settled")),
            AiUsage.created_at >= month_start(now),
        )
    )
    limit = own_limit if own_limit is not None else settings.monthly_budget_usd
    return Decimal(limit), Decimal(spent or 0)


def _exhausted(limit: Decimal, spent: Decimal, amount: Decimal) -> AiBudgetExhaustedError:
    needed = f" and this call may cost up to ${amount:.4f}" if amount else ""
    return AiBudgetExhaustedError(
        f"The company's AI budget for this month is ${limit:.2f}; ${spent:.4f} is spent or "
        f"reserved{needed}. Raise the company's monthly AI budget or wait for next month."
    )


async def ensure_budget_left(
    session: AsyncSession, company_id: int, settings: AiSettings, now: datetime
) -> None:
    """Refuse up front (AiBudgetExhaustedError) when nothing of this month's budget is left."""
    limit, spent = await _limit_and_spent(session, company_id, settings, now, lock=False)
    if spent >= limit:
        raise _exhausted(limit, spent, Decimal(0))


async def reserve(
    session: AsyncSession,
    company_id: int,
    purpose: AiPurpose,
    provider: str,
    model: str,
    prompt_hash: str,
    amount: Decimal,
    *,
    settings: AiSettings,
    now: datetime,
) -> AiUsage:
    """Hold `amount` against the company's budget for this UTC month, or refuse with
    AiBudgetExhaustedError when the month's spend and reservations plus it exceed the limit
    (the company's own, else TENON_AI_MONTHLY_BUDGET_USD)."""
    limit, spent = await _limit_and_spent(session, company_id, settings, now, lock=True)
    if spent + amount > limit:
        raise _exhausted(limit, spent, amount)
    usage = AiUsage(
        company_id=company_id,
        purpose=purpose,
        status="reserved",
        provider=provider,
        model=model,
        prompt_hash=prompt_hash,
        cost_usd=amount,
        created_at=now,
    )
    session.add(usage)
    await session.flush()
    return usage


async def settle(
    session: AsyncSession,
    usage_id: int,
    model: str,
    input_tokens: int | None,
    output_tokens: int | None,
    cost: Decimal,
    *,
    now: datetime,
) -> AiUsage:
    """The call's real cost replaces its reservation."""
    usage = await session.get(AiUsage, usage_id, with_for_update=True)
    assert usage is not None  # the reservation is never deleted
    usage.status = "settled"
    usage.model = model
    usage.input_tokens = input_tokens
    usage.output_tokens = output_tokens
    usage.cost_usd = cost
    usage.settled_at = now
    await session.flush()
    return usage


async def release(session: AsyncSession, usage_id: int, *, now: datetime) -> AiUsage:
    """The call never reached the provider: nothing is owed."""
    usage = await session.get(AiUsage, usage_id, with_for_update=True)
    assert usage is not None
    usage.status = "released"
    usage.cost_usd = Decimal(0)
    usage.settled_at = now
    await session.flush()
    return usage
