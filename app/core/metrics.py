"""Prometheus metrics: the catalog of everything the service measures, and its exposition.

One `Metrics` per process, made where the process is assembled (`create_app`, `tenon
worker`) and handed to whatever records; each has a registry of its own, so apps built side
by side (tests) never share counts. In multi-process mode there must be only one per
process: two would overwrite each other's values in the process's files.

Several processes (uvicorn workers, `tenon worker`s) add up through prometheus_client's
multi-process mode: with `PROMETHEUS_MULTIPROC_DIR` in the environment every process writes
its values to files there, and a scrape of any API process reads them all. The library picks
its storage from that variable when first imported, so it is read from the process
environment (never from `.env`), and here from the same place so the two cannot disagree.

The job queue's gauges are recorded by nobody: `/metrics` reads them from PostgreSQL at
scrape time (a `JobQueueSnapshot`), exact whichever process answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.types import Scope

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Routes are labelled by their template; whatever no route matched shares this one label, so
# scanners probing random paths cannot grow the number of series.
UNMATCHED_ROUTE = "unmatched"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class JobQueueSnapshot:
    """The job table as `/metrics` reports it."""

    # Jobs per (type, state), zeros included so a drained state reads 0 rather than vanishing.
    jobs: Mapping[tuple[str, str], int]
    # How long the longest-waiting due job has waited past its `run_at` (0 when none waits).
    oldest_waiting_seconds: float


class Metrics:
    def __init__(self) -> None:
        self.multiprocess_dir = _multiprocess_dir()
        self.registry = registry = CollectorRegistry()
        # Route templates by route, learnt from the app at its first request.
        self._route_templates: dict[int, str] | None = None
        # A `_created` twin of every counter doubles the series for a timestamp Prometheus
        # does not need, and multi-process mode has none: off, for the same output either way.
        disable_created_metrics()  # type: ignore[no-untyped-call]

        self.http_requests = Counter(
            "tenon_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.http_request_duration = Histogram(
            "tenon_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response (for an event stream, "
            "its whole life), by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )

        self.github_requests = Counter(
            "tenon_github_requests",
            "Requests sent to the GitHub API, every attempt, by method and status "
            "(transport_error when no answer came).",
            ("method", "status"),
            registry=registry,
        )
        self.github_retries = Counter(
            "tenon_github_retries",
            "GitHub API requests sent again after a failure, a rate limit or an expired token.",
            registry=registry,
        )
        self.github_not_modified = Counter(
            "tenon_github_not_modified",
            "Conditional GitHub reads answered 304 and served from the ETag cache (free of "
            "rate limit).",
            registry=registry,
        )
        self.github_rate_limit_waits = Counter(
            "tenon_github_rate_limit_waits",
            "Waits (or refusals to wait) for a GitHub rate limit, by kind: primary or "
            "secondary (GitHub answered 403/429), budget (held before sending).",
            ("kind",),
            registry=registry,
        )
        self.github_pacing_wait_seconds = Counter(
            "tenon_github_pacing_wait_seconds",
            "Time content-creating GitHub requests waited for their installation's pacing "
            "interval (TENON_GITHUB_MUTATION_INTERVAL_SECONDS).",
            registry=registry,
        )
        # Every process sees the same budget; the latest report from any of them is the news.
        self.github_rate_limit_remaining = Gauge(
            "tenon_github_rate_limit_remaining",
            "Requests left in GitHub's primary rate limit, as last reported.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.github_rate_limit_reset = Gauge(
            "tenon_github_rate_limit_reset_timestamp_seconds",
            "When GitHub's primary rate limit resets (Unix time), as last reported.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )

        self.job_attempts = Counter(
            "tenon_job_attempts",
            "Job attempts finished, by job type and outcome: succeeded, failed (a retry is "
            "scheduled) or dead (given up).",
            ("type", "outcome"),
            registry=registry,
        )
        self.email_sends = Counter(
            "tenon_email_sends",
            "Emails handed to the provider, by provider and outcome: sent, rejected (final), "
            "failed (temporary, retried) or error (unexpected).",
            ("provider", "outcome"),
            registry=registry,
        )
        # Only live processes count: a stopped process's streams are closed.
        self.sse_connections = Gauge(
            "tenon_sse_connections",
            "Open Server-Sent Events streams.",
            registry=registry,
            multiprocess_mode="livesum",
        )

    def observe_request(self, scope: Scope, status: int, seconds: float) -> None:
        """Count one answered HTTP request; `scope` after routing names its route."""
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
        labels = (self._route_template(scope), method, str(status))
        self.http_requests.labels(*labels).inc()
        self.http_request_duration.labels(*labels).observe(seconds)

    def exposition(self, queue: JobQueueSnapshot | None) -> bytes:
        """Every metric in Prometheus' text format: this process's (or, in multi-process
        mode, every process's) and the job queue's when it could be read."""
        # prometheus_client leaves its multiprocess module unannotated.
        source: Collector = (
            MultiProcessCollector(None, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
            if self.multiprocess_dir is not None
            else self.registry
        )
        extra = _queue_families(queue) if queue is not None else []
        return generate_latest(_Scrape(source, extra))

    def _route_template(self, scope: Scope) -> str:
        # The router leaves the matched route (full or method-only match) in the scope. For a
        # route of an included router that is the route as declared, whose own path lacks the
        # prefixes it was included under; the app's route contexts carry the full template.
        route = scope.get("route")
        if route is None:
            return UNMATCHED_ROUTE
        if self._route_templates is None:
            self._route_templates = {
                id(context.original_route): context.path_format
                for context in iter_route_contexts(scope["app"].routes)
                if context.path_format is not None
            }
        template = self._route_templates.get(id(route), getattr(route, "path_format", None))
        return template if isinstance(template, str) else UNMATCHED_ROUTE

    def mark_process_dead(self) -> None:
        """At process exit: drop this process's live gauges (open streams) from the sums."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class _Scrape:
    source: Collector
    extra: list[Metric]

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()
        yield from self.extra


def _queue_families(queue: JobQueueSnapshot) -> list[Metric]:
    jobs = GaugeMetricFamily("tenon_jobs", "Jobs by type and state.", labels=("type", "state"))
    for (job_type, state), count in sorted(queue.jobs.items()):
        jobs.add_metric((job_type, state), count)
    oldest = GaugeMetricFamily(
        "tenon_jobs_oldest_waiting_seconds",
        "How long the longest-waiting due job has waited past its run_at (0 when none waits).",
        value=queue.oldest_waiting_seconds,
    )
    return [jobs, oldest]


def _multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if value is None:
        return None
    # Set at all, even empty, it switched prometheus_client to files: refuse what it cannot use.
    path = Path(value)
    if not value or not path.is_dir():
        raise ValueError(
            f"{MULTIPROCESS_DIR_VARIABLE}={value!r} is not a directory; create it (empty) "
            "before starting the processes that share it, or unset the variable"
        )
    return path


def metrics_of(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


CurrentMetrics = Annotated[Metrics, Depends(metrics_of)]
