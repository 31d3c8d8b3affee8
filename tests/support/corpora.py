"""The shared third-party corpora (real GitHub payloads, JUnit reports), used by path.

They live in `shared/corpora` beside the project checkout; `TENON_SHARED_DIR` points
elsewhere when the checkout is not next to `shared/`.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.core.migrations import PROJECT_ROOT

SHARED = Path(os.environ.get("TENON_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
CORPORA = SHARED / "corpora"
WEBHOOKS = CORPORA / "github" / "webhooks"
