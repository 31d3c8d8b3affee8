"""The third-party corpora the tests read (real GitHub payloads, JUnit reports).

They are copied into `tests/fixtures/` with their licenses (see `tests/fixtures/NOTICE`),
so the suite needs nothing outside the checkout.
"""

from __future__ import annotations

from pathlib import Path

CORPORA = Path(__file__).resolve().parents[1] / "fixtures"
WEBHOOKS = CORPORA / "github" / "webhooks"
