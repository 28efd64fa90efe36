"""Sending from the pane: the backend runs the campaign, a poll brings the results into the
right cells; cancel, the run list, the test number, dry runs, and one run per workbook."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from elksxl.config import Settings
from elksxl.simulator.testing import SimulatorHandle
from elksxl.table import CAMPAIGN_PROPERTY

from .conftest import (
    SENDER,
    Grid,
    StartBackend,
    apply,
    contacts,
    e164,
    number,
    poll_until,
    selection,
)

STATUS, ID, PARTS, COST, ERROR, SENT_AT = range(3, 9)  # Excel columns of the results, C..H


def send_body(values: list[list[Any]], **extra: Any) -> dict[str, Any]:
    body = selection(values, utc_offset_minutes=60)
    return body | {"message": "Hej {{ Namn }}", "options": {}, "sender": SENDER} | extra


def test_send_writes_results_into_the_right_cells_and_nowhere_else(
    api: httpx.Client, sim: SimulatorHandle
) -> None:
    values = [*contacts(4), ["Ogiltig", "12"], ["Dubblett", number(1)]]
    answer = api.post("/api/send", json=send_body(values))
    assert answer.status_code == 202, answer.text
    started = answer.json()
    grid: Grid = {}
    props: dict[str, Any] = {}
    apply(started["actions"], grid, props)
    assert props == {CAMPAIGN_PROPERTY: started["campaign_id"]}

    final, _ = poll_until(api, started["run"], grid, props, cursor=started["cursor"])

    assert final["state"] == "complete"  # invalid and duplicate rows are not campaign messages
    assert final["progress"]["sent"] == 4
    assert sorted(m["to"] for m in sim.messages()) == sorted(e164(i) for i in range(4))
    assert [grid[(1, c)] for c in (STATUS, ID, SENT_AT)] == ["SMS status", "SMS id", "SMS sent at"]
    assert [grid[(row, STATUS)] for row in range(2, 8)] == [
        "sent",
        "sent",
        "sent",
        "sent",
        "invalid",
        "duplicate",
    ]
    ids = {m["to"]: m["id"] for m in sim.messages()}
    assert grid[(3, ID)] == ids[e164(1)]
    assert grid[(3, PARTS)] == 1
    assert "same number as row 3" in grid[(7, ERROR)]
    assert {c for _, c in grid} <= set(range(3, 10))  # never Namn or Telefon
    assert {r for r, _ in grid} == set(range(1, 8))


def test_a_poll_from_the_start_gets_every_result_and_the_runs_are_listed(
    api: httpx.Client,
) -> None:
    started = api.post("/api/send", json=send_body(contacts(3))).json()
    grid: Grid = {}
    poll_until(api, started["run"], grid, {})
    again: Grid = {}
    props: dict[str, Any] = {}
    final, _ = poll_until(api, started["run"], again, props)  # a reopened pane: since=""
    assert again == grid
    assert props == {CAMPAIGN_PROPERTY: started["campaign_id"]}
    assert final["state"] == "complete"

    listed = api.get("/api/runs", params={"campaign_id": started["campaign_id"]}).json()
    assert [r["run"] for r in listed["runs"]] == [started["run"]]
    assert api.get("/api/runs", params={"campaign_id": "other"}).json() == {"runs": []}


def test_cancel_stops_a_run_and_sending_again_sends_only_the_rest(
    backend_factory: StartBackend, settings: Settings, sim: SimulatorHandle
) -> None:
    backend = backend_factory(settings.with_changes(rate_per_minute=300))
    with httpx.Client(base_url=backend.base_url, headers=backend.headers, trust_env=False) as api:
        started = api.post("/api/send", json=send_body(contacts(30))).json()
        grid: Grid = {}
        props: dict[str, Any] = {}
        poll_until(
            api, started["run"], grid, props, done=lambda p: p["progress"].get("sent", 0) >= 3
        )
        assert api.post(f"/api/runs/{started['run']}/cancel").json() == {"state": "cancelling"}
        final, _ = poll_until(api, started["run"], grid, props)
        assert final["state"] == "cancelled"
        first = len(sim.messages())
        assert 3 <= first < 30

        again = send_body(
            contacts(30), book={"name": "Kunder.xlsx", "campaign_id": props[CAMPAIGN_PROPERTY]}
        )
        for row in range(2, 32):  # the statuses the pane wrote are in the sheet now
            again["selection"]["values"][row - 1].append(grid.get((row, STATUS)))
        again["selection"]["values"][0].append("SMS status")
        second = api.post("/api/send", json=again).json()
        assert second["campaign_id"] == started["campaign_id"]
        poll_until(api, second["run"], grid, props)

    assert Counter(m["to"] for m in sim.messages()) == Counter(e164(i) for i in range(30))


def test_a_second_send_of_a_running_workbook_gets_409(
    backend_factory: StartBackend, settings: Settings
) -> None:
    backend = backend_factory(settings.with_changes(rate_per_minute=60))
    with httpx.Client(base_url=backend.base_url, headers=backend.headers, trust_env=False) as api:
        started = api.post("/api/send", json=send_body(contacts(20))).json()
        book = {"name": "Kunder.xlsx", "campaign_id": started["campaign_id"]}
        clash = api.post("/api/send", json=send_body(contacts(20), book=book))
        api.post(f"/api/runs/{started['run']}/cancel")
    assert clash.status_code == 409
    assert "already running" in clash.json()["error"]


def test_test_number_only_sends_every_message_to_the_test_number_as_its_own_campaign(
    api: httpx.Client, sim: SimulatorHandle
) -> None:
    values = [*contacts(3), ["Dubblett", number(0)]]
    started = api.post("/api/send", json=send_body(values, test_number_only=True)).json()
    grid: Grid = {}
    props: dict[str, Any] = {}
    apply(started["actions"], grid, props)
    poll_until(api, started["run"], grid, props)

    assert [m["to"] for m in sim.messages()] == ["+46700000000"] * 3
    assert sorted(m["message"] for m in sim.messages()) == ["Hej Namn0", "Hej Namn1", "Hej Namn2"]
    assert props == {}  # the workbook's campaign is not this one
    assert [grid[(r, STATUS)] for r in range(2, 6)] == ["test: sent"] * 3 + ["test: duplicate"]


def test_a_dry_run_sends_nothing_and_says_what_46elks_would_charge(
    api: httpx.Client, sim: SimulatorHandle
) -> None:
    answer = api.post("/api/send", json=send_body([*contacts(3), ["X", "12"]], dry_run=True))
    assert answer.status_code == 200, answer.text
    dry = answer.json()["dry_run"]
    assert (dry["messages"], dry["parts"], dry["currency"]) == (3, 3, "SEK")
    assert dry["cost"] > 0
    assert sim.messages() == []


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        ({"message": "Hej {{ Efternamn }}"}, 400, None),
        ({"sender": "1nvalid sender"}, 400, None),
        ({"options": {"phone_column": "Fax"}}, 400, None),
    ],
)
def test_bad_input_is_400_and_nothing_is_sent(
    api: httpx.Client, sim: SimulatorHandle, change: dict[str, Any], status: int, where: Any
) -> None:
    answer = api.post("/api/send", json=send_body(contacts(2)) | change)
    assert answer.status_code == status
    assert answer.json()["where"] == where
    assert answer.json()["error"]
    assert sim.messages() == []
