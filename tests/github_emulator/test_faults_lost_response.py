"""The emulator's `lose_response` fault: the request is performed for real, then the
connection drops before the answer arrives, as when GitHub accepted a dispatch whose answer
was lost on the way back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.github_emulator.faults import FaultRule
from tests.support.emulator import emulator_config, running_emulator, write_template

TEMPLATE = "tenon-templates/quick"
WORKFLOW = """\
name: quick
run-name: quick ${{ inputs.tenon_run_id }}
on:
  workflow_dispatch:
    inputs:
      tenon_run_id:
        required: false
jobs:
  noop:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
"""


async def test_a_lost_response_does_the_work_and_drops_the_connection(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write_template(templates, "quick", {".github/workflows/quick.yml": WORKFLOW})
    config = emulator_config(tmp_path, templates_dir=templates)
    async with running_emulator(config) as github, github.client() as api:
        rule = {"route": r"^POST .*/dispatches$", "lose_response": True, "times": 1}
        assert (await api.post("/_emulator/faults", json=[rule])).status_code == 200
        dispatches = f"/repos/{TEMPLATE}/actions/workflows/quick.yml/dispatches"
        body = {"ref": "main", "inputs": {"tenon_run_id": "7"}, "return_run_details": True}
        with pytest.raises(httpx.RemoteProtocolError):
            await api.post(dispatches, json=body)
        answered = await api.post(dispatches, json=body | {"inputs": {"tenon_run_id": "8"}})
        runs = (await api.get(f"/repos/{TEMPLATE}/actions/runs")).json()["workflow_runs"]
        stats = (await api.get("/_emulator/stats")).json()

    assert answered.status_code == 200  # `times: 1`: only the first answer is lost
    assert sorted(run["display_title"] for run in runs) == ["quick 7", "quick 8"]
    assert stats["faults_injected"] == {"lost_response": 1}


def test_a_lost_response_is_not_also_an_error() -> None:
    for kind in ({"status": 502}, {"timeout": True}, {"rate_limit": "secondary"}):
        with pytest.raises(ValidationError):
            FaultRule(lose_response=True, **kind)
