"""Every domain's models, imported in one place.

Alembic (`alembic/env.py`) and anything that needs the complete mapper configuration import
`metadata` from here, so a table cannot be missed by autogenerate or left out of a
relationship lookup by string name. Add each new models module below.
"""

from app.ats import models as ats
from app.candidate_sessions import models as candidate_sessions
from app.companies import models as companies
from app.core.db import Base
from app.drafts import models as drafts
from app.evaluation import models as evaluation
from app.events import models as events
from app.grading import models as grading
from app.integrations.github import models as github
from app.jobs import models as jobs
from app.recordings import models as recordings
from app.runs import models as runs
from app.similarity import models as similarity
from app.simulations import models as simulations
from app.submissions import models as submissions
from app.webhooks import models as webhooks
from app.workspaces import models as workspaces

metadata = Base.metadata

__all__ = [
    "ats",
    "candidate_sessions",
    "companies",
    "drafts",
    "evaluation",
    "events",
    "github",
    "grading",
    "jobs",
    "metadata",
    "recordings",
    "runs",
    "similarity",
    "simulations",
    "submissions",
    "webhooks",
    "workspaces",
]
