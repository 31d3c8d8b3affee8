"""Outbound webhooks (SPEC §11.5): each company's endpoints receive Tenon's events as signed
JSON, delivered by jobs with retries, every attempt logged; the signing secrets rotate with
an overlap window. See docs/webhooks.md for what a receiver sees."""
