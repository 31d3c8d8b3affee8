"""The application factory. The lifespan owns the database, the HTTP client, the
authentication provider, the runtime services (`app.assembly`) and the in-process job
worker; tests hand in a `Database` bound to their own transaction. The process's metrics
are made here, before the middleware that records into them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import structlog
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from app.admin.router import router as admin_router
from app.assembly import build_services, candidate_counts, job_registry, session_hooks
from app.ats.greenhouse_router import router as greenhouse_router
from app.ats.router import router as ats_keys_router
from app.auth.providers import build_auth_provider
from app.auth.router import router as auth_router
from app.candidate_sessions.router import candidate_router
from app.candidate_sessions.router import recruiter_router as candidates_router
from app.core.clock import Clock, SystemClock
from app.core.db import Database
from app.core.embedded_postgres import EmbeddedPostgres
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.middleware import install_middleware
from app.core.openapi import install_openapi, operation_id
from app.core.rate_limit import RateLimiter
from app.core.settings import Settings, load_settings
from app.core.storable_text import reject_unstorable_text
from app.drafts.router import router as drafts_router
from app.evaluation.ai_router import router as ai_drafts_router
from app.evaluation.comparison_router import router as comparison_router
from app.evaluation.fit_profile_router import router as fit_profile_router
from app.evaluation.rubric_router import router as rubric_router
from app.evaluation.scorecard_router import router as scorecard_router
from app.health.router import metrics_router
from app.health.router import router as health_router
from app.integrations.github.router import router as github_router
from app.integrations.github.template_catalog import catalog_from
from app.jobs.worker import Worker
from app.media.router import UPLOADS_PATH
from app.media.router import router as media_router
from app.recordings.router import router as recordings_router
from app.runs.live import RunEventHub
from app.runs.router import router as runs_router
from app.similarity.router import router as similarity_router
from app.simulations.router import router as simulations_router
from app.submissions.router import router as submissions_router
from app.webhooks.router import router as webhooks_router
from app.workspaces.router import router as workspaces_router

log = structlog.get_logger(__name__)

OUTBOUND_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DOCS_ASSETS_PATH = "/docs/assets"


async def _open_database(settings: Settings, stack: AsyncExitStack) -> Database:
    if settings.db.database_url is not None:
        url = settings.db.database_url.get_secret_value()
    else:
        embedded = EmbeddedPostgres(settings.db.data_dir)
        url = await asyncio.to_thread(embedded.start)
        stack.push_async_callback(asyncio.to_thread, embedded.stop)
    database = Database.connect(url, settings.db)
    stack.push_async_callback(database.dispose)
    return database


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(json=settings.app.json_logs, level=settings.app.log_level)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.callback(metrics.mark_process_dead)
            app.state.db = database or await _open_database(settings, stack)
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=OUTBOUND_TIMEOUT))
            app.state.auth_provider = build_auth_provider(settings, http)
            app.state.rate_limiter = RateLimiter(settings.rate_limit)
            stack.push_async_callback(app.state.rate_limiter.close)
            app.state.template_catalog = catalog_from(settings.github)
            app.state.services = build_services(settings, http, metrics)
            app.state.run_events = RunEventHub(app.state.db.listen_url, metrics)
            stack.push_async_callback(app.state.run_events.close)
            if settings.jobs.in_process:
                worker = Worker(
                    app.state.db,
                    job_registry(),
                    settings.jobs,
                    services=app.state.services,
                    metrics=metrics,
                    clock=app.state.clock,
                )
                await stack.enter_async_context(worker.running())
            log.info("app.started", env=settings.app.env)
            yield
            log.info("app.stopping")

    # FastAPIOffline serves the /docs and /redoc assets from its package instead of a CDN.
    app = FastAPIOffline(
        title="Tenon API",
        summary="Backend for GitHub-native candidate simulations.",
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        static_url=DOCS_ASSETS_PATH,
        swagger_ui_parameters={"persistAuthorization": True},
        # Text PostgreSQL cannot store is refused before any route runs (a 422 naming it).
        dependencies=[Depends(reject_unstorable_text)],
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.metrics = metrics
    # What the domains ask of those above them (see app.assembly).
    app.state.session_hooks = session_hooks()
    app.state.candidate_counts = candidate_counts()
    install_error_handlers(app)
    prefix = settings.app.api_prefix
    install_middleware(app, settings.app, metrics, streamed_prefixes=[f"{prefix}{UPLOADS_PATH}/"])

    app.include_router(health_router)
    if settings.app.metrics_token is not None:
        app.include_router(metrics_router)
    app.include_router(auth_router, prefix=prefix)
    app.include_router(github_router, prefix=prefix)
    app.include_router(simulations_router, prefix=prefix)
    app.include_router(candidates_router, prefix=prefix)
    app.include_router(candidate_router, prefix=prefix)
    app.include_router(submissions_router, prefix=prefix)
    app.include_router(workspaces_router, prefix=prefix)
    app.include_router(runs_router, prefix=prefix)
    app.include_router(drafts_router, prefix=prefix)
    app.include_router(recordings_router, prefix=prefix)
    app.include_router(ai_drafts_router, prefix=prefix)
    app.include_router(rubric_router, prefix=prefix)
    app.include_router(scorecard_router, prefix=prefix)
    app.include_router(fit_profile_router, prefix=prefix)
    app.include_router(comparison_router, prefix=prefix)
    app.include_router(similarity_router, prefix=prefix)
    app.include_router(ats_keys_router, prefix=prefix)
    app.include_router(greenhouse_router, prefix=prefix)
    app.include_router(webhooks_router, prefix=prefix)
    app.include_router(media_router, prefix=prefix)
    if settings.app.admin_api_key is not None:
        app.include_router(admin_router, prefix=prefix)
    install_openapi(app)
    return app
