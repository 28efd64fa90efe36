"""Sending from the pane: confirmation, the simulator receiving exactly the planned messages,
the fake workbook's result cells filled (as text, never formulas), dry run, the test number,
and the access token."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from elksxl.simulator.testing import SimulatorHandle

from .conftest import SEND, OpenPane, Pane, workbook

ROWS = [
    ["Namn", "Telefon"],
    ["Anna", "070-123 45 67"],
    ["Bertil", "12345"],
    ["=1+1", "070-123 45 68"],
]
RESULT_HEADERS = ["SMS status", "SMS id", "SMS parts", "SMS cost", "SMS error", "SMS sent at"]


def send(pane: Pane, message: str = "Hej {{ Namn }}") -> None:
    page = pane.page
    page.get_by_label("Message", exact=True).fill(message)
    page.get_by_role("button", name=SEND).click()
    expect(page.locator("#confirm")).to_be_visible()
    pane.screenshot(f"confirm-{pane.page.url.rsplit('/', 1)[-1].split('.')[0]}")
    page.get_by_role("button", name="Yes, send").click()


def finished(pane: Pane, title: str = "Sent") -> None:
    expect(pane.page.locator("#progress-title")).to_have_text(title, timeout=20_000)


def test_send_delivers_exactly_the_planned_messages_and_fills_the_result_cells(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    pane = open_pane(workbook(ROWS))
    send(pane)
    finished(pane)
    sent = sorted((m["to"], m["message"], m["from"]) for m in sim.messages())
    assert sent == [
        ("+46701234567", "Hej Anna", "Elksxl"),
        ("+46701234568", "Hej =1+1", "Elksxl"),
    ]
    progress = pane.page.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-valuenow", "2")
    expect(progress).to_have_attribute("aria-valuemax", "2")
    expect(pane.page.locator("#progress-text")).to_contain_text("2 of 2 done · 2 sent · 0 failed")
    pane.screenshot("sent")
    book = pane.wb()
    sheet = book["sheets"][0]
    header = sheet["values"][0]
    status = header.index("SMS status")
    assert header[status : status + len(RESULT_HEADERS)] == RESULT_HEADERS
    assert [row[status] for row in sheet["values"][1:4]] == ["sent", "invalid", "sent"]
    ids = [sheet["values"][r][status + 1] for r in (1, 3)]
    assert {m["id"] for m in sim.messages()} == set(ids)
    assert sheet["formulas"] == {}, "a result or a user cell became a formula"
    assert sheet["formats"][f"1,{status}"] == "@"
    assert [row[:2] for row in sheet["values"]] == [row[:2] for row in ROWS], "user cells changed"
    assert book["properties"].get("elksxl campaign")


def test_dry_run_sends_nothing_and_tells_the_cost(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    pane = open_pane(workbook(ROWS))
    pane.page.get_by_label("Dry run").check()
    send(pane)
    expect(pane.page.locator("#dry-result")).to_contain_text("would take 2 messages")
    pane.screenshot("dry-run")
    assert sim.messages() == []
    assert pane.wb()["sheets"][0]["values"] == ROWS


def test_test_number_only_sends_every_message_to_the_46elks_test_number(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    pane = open_pane(workbook(ROWS))
    pane.page.get_by_label("Send only to the 46elks test number").check()
    send(pane)
    expect(pane.page.locator("#confirm-text")).to_be_hidden()
    finished(pane)
    assert [m["to"] for m in sim.messages()] == ["+46700000000", "+46700000000"]


def test_going_back_from_the_confirmation_sends_nothing(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    pane = open_pane(workbook(ROWS))
    page = pane.page
    page.get_by_label("Message", exact=True).fill("Hej")
    page.get_by_role("button", name=SEND).click()
    expect(page.locator("#confirm-text")).to_contain_text("Send 2 messages now?")
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_role("button", name="Send 2 messages")).to_be_focused()
    page.wait_for_timeout(300)
    assert sim.messages() == []


def test_a_wrong_token_shows_the_token_field_and_sends_nothing(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    pane = open_pane(workbook(ROWS), token="wrong")
    page = pane.page
    status = page.get_by_role("alert")
    expect(status).to_contain_text("access token is missing or wrong")
    expect(page.get_by_label("Access token")).to_be_visible()
    pane.screenshot("wrong-token")
    page.get_by_label("Message", exact=True).fill("Hej")
    page.get_by_role("button", name=SEND).click()
    expect(status).to_contain_text("access token is missing or wrong")
    expect(page.locator("#confirm")).to_be_hidden()
    assert sim.messages() == []


def test_without_a_token_the_pane_asks_for_it_and_works_once_saved(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    pane = open_pane(workbook(ROWS), token=None)
    page = pane.page
    expect(page.get_by_role("alert")).to_contain_text("Enter the access token")
    token = page.get_by_label("Access token")
    expect(token).to_be_visible()
    token.fill(pane.backend.token)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(page.locator("#account")).to_contain_text("SEK")
    stored: Any = page.evaluate("() => localStorage.getItem('elksxl.token')")
    assert stored == pane.backend.token
    assert sim.messages() == []
