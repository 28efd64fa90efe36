"""A backend restart mid-campaign resumes the run from its stored request: nobody gets a
message twice, and the poll of the new backend returns every row's result."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from elksxl.config import Settings
from elksxl.simulator.testing import SimulatorHandle

from .conftest import SENDER, Grid, StartBackend, contacts, e164, poll_until, selection

STATUS = 3


def test_a_restarted_backend_resumes_the_run_without_a_duplicate(
    backend_factory: StartBackend, settings: Settings, sim: SimulatorHandle
) -> None:
    slow = settings.with_changes(rate_per_minute=600)
    body = selection(contacts(60)) | {"message": "Hej {{ Namn }}", "sender": SENDER}
    first = backend_factory(slow)
    with httpx.Client(base_url=first.base_url, headers=first.headers, trust_env=False) as api:
        started = api.post("/api/send", json=body).raise_for_status().json()
        poll_until(api, started["run"], {}, {}, done=lambda p: p["progress"].get("sent", 0) >= 10)
    first.stop()
    before = len(sim.messages())
    assert 10 <= before < 60
    assert (settings.journal_path.parent / "runs" / f"{started['run']}.json").is_file()

    second = backend_factory(settings.with_changes(token=first.settings.token))
    grid: Grid = {}
    props: dict[str, Any] = {}
    with httpx.Client(base_url=second.base_url, headers=second.headers, trust_env=False) as api:
        final, _ = poll_until(api, started["run"], grid, props)

    assert final["state"] == "complete"
    assert Counter(m["to"] for m in sim.messages()) == Counter(e164(i) for i in range(60))
    assert [grid[(row, STATUS)] for row in range(2, 62)] == ["sent"] * 60
    assert props == {"elksxl campaign": started["campaign_id"]}
