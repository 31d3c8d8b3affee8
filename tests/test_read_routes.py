"""The hot reads run outside any transaction: their routes take the read session
(autocommit connections, no BEGIN/COMMIT round trips) and never the transactional one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant

from app.core.db import get_db_session, get_read_session
from tests.support.route_table import document_app, route_for

HOT_READS = (
    "/api/tasks/{task_id}/run/{run_id}",
    "/api/candidate/session/{cs_id}/current_task",
    "/api/submissions",
)


def _calls(dependant: Dependant) -> Iterator[object]:
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


@pytest.mark.parametrize("path", HOT_READS)
def test_a_hot_read_takes_the_read_session_only(path: str) -> None:
    calls = set(_calls(route_for(document_app(), "GET", path).dependant))
    assert get_read_session in calls
    assert get_db_session not in calls
