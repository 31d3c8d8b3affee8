"""Reading what the service measured, straight from a `Metrics` registry or from a scrape."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from app.core.metrics import Metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    """A sample's value in this process's registry; 0 when it was never recorded."""
    return metrics.registry.get_sample_value(name, labels) or 0.0


def scraped(text: str, name: str, **labels: str) -> float | None:
    """A sample's value in a scrape's text, parsed as Prometheus would; None when absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return None
