"""A campaign that takes a while: cancelling it from the pane, and closing the pane mid-way
and reopening it, which shows the progress and writes every result that arrived meanwhile."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from elksxl.config import Settings
from elksxl.simulator.testing import SimulatorHandle

from .conftest import SEND, OpenPane, Pane, workbook

COUNT = 8


def contacts() -> list[list[str]]:
    return [["Namn", "Telefon"], *([f"Namn{i}", f"070-123 45 {i:02d}"] for i in range(COUNT))]


@pytest.fixture
def settings(sim: SimulatorHandle, tmp_path: Path) -> Settings:
    # Two messages a second: slow enough to act mid-way, quick enough for a test.
    return sim.settings(
        journal_path=tmp_path / "journal.sqlite3", rate_per_minute=120, sender="Elksxl"
    )


def start_sending(pane: Pane) -> None:
    page = pane.page
    page.get_by_label("Message", exact=True).fill("Hej {{ Namn }}")
    page.get_by_role("button", name=SEND).click()
    page.get_by_role("button", name="Yes, send").click()
    page.wait_for_function(
        "() => Number(document.getElementById('progress').getAttribute('aria-valuenow')) >= 1"
    )


def statuses(book: dict[str, object]) -> list[object]:
    values = book["sheets"][0]["values"]  # type: ignore[index]
    header = values[0]
    if "SMS status" not in header:
        return [""] * COUNT
    column = header.index("SMS status")
    return [row[column] if column < len(row) else "" for row in values[1:]]


def latest_state(api: httpx.Client, campaign: str) -> str:
    runs = api.get("/api/runs", params={"campaign_id": campaign}).json()["runs"]
    state: str = runs[0]["state"]
    return state


def test_cancel_stops_the_campaign_mid_way(open_pane: OpenPane, sim: SimulatorHandle) -> None:
    pane = open_pane(workbook(contacts()))
    start_sending(pane)
    pane.page.get_by_role("button", name="Cancel sending").click()
    expect(pane.page.locator("#progress-title")).to_have_text("Cancelled", timeout=20_000)
    pane.screenshot("cancelled")
    sent = len(sim.messages())
    assert 1 <= sent < COUNT
    got = statuses(pane.wb())
    assert got.count("sent") == sent
    assert all(s != "sent" for s in got[sent:])


def test_reopening_the_pane_shows_progress_and_writes_what_arrived_meanwhile(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    first = open_pane(workbook(contacts()))
    start_sending(first)
    book = first.wb()  # the workbook as the closed pane left it
    first.page.context.close()
    campaign = book["properties"]["elksxl campaign"]
    assert statuses(book).count("sent") < COUNT

    backend = first.backend
    with httpx.Client(base_url=backend.base_url, headers=backend.headers, trust_env=False) as api:
        deadline = time.monotonic() + 20
        while latest_state(api, campaign) in ("running", "cancelling"):
            assert time.monotonic() < deadline, "the campaign did not finish without the pane"
            time.sleep(0.2)
    assert len(sim.messages()) == COUNT

    second = open_pane(book)
    expect(second.page.locator("#progress-title")).to_have_text("Sent", timeout=10_000)
    expect(second.page.locator("#progress-text")).to_contain_text(f"{COUNT} of {COUNT} done")
    second.page.wait_for_function(
        "() => window.__wb.sheets[0].values.slice(1).every(r => r.includes('sent'))"
    )
    assert statuses(second.wb()) == ["sent"] * COUNT
    second.screenshot("reopened")


def test_sending_again_while_the_campaign_runs_shows_that_run_and_sends_nothing_twice(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    first = open_pane(workbook(contacts()))
    start_sending(first)
    second = open_pane(first.wb())  # the same workbook, campaign id included, in another pane
    expect(second.page.locator("#progress-card")).to_be_visible()
    second.page.get_by_label("Message", exact=True).fill("Hej {{ Namn }}")
    second.page.get_by_role("button", name=SEND).click()
    second.page.get_by_role("button", name="Yes, send").click()
    expect(second.page.get_by_role("alert")).to_contain_text("already running")
    expect(second.page.locator("#progress-title")).to_have_text("Sent", timeout=20_000)
    assert len(sim.messages()) == COUNT
    assert len({m["to"] for m in sim.messages()}) == COUNT
