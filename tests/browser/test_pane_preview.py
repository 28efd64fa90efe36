"""Previewing the selected rows: recipients, first messages, problems that select their cell,
duplicates, hidden rows, tables, the ribbon's "Check numbers", and hostile cell text."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import SEND, OpenPane, workbook

HOSTILE = "<img src=x onerror=alert(1)>"
ROWS = [
    ["Namn", "Telefon", "Stad"],
    ["Anna", "070-123 45 67", "Umeå"],
    ["Bertil", "12345", "Luleå"],
    [HOSTILE, "070-123 45 68", "Kiruna"],
    ["Anna", "0701234567", "Umeå"],  # the same number and text as row 2: a duplicate
    ["Erik", "070-123 45 69", "Boden"],
    ["Fia", "070-123 45 70", "Gällivare"],
]
# Rows 2-7 selected (the header above is found by the pane), Erik's row 6 hidden by a filter.
BOOK = workbook(ROWS, selection=(1, 0, 6, 3), hidden=[5])


def preview(page: Page, message: str = "Hej {{ Namn }} i {{ Stad }}!") -> None:
    page.get_by_label("Message", exact=True).fill(message)
    page.get_by_role("button", name="Preview selected rows").click()
    expect(page.locator("#preview-card")).to_be_visible()


def test_preview_shows_recipients_messages_problems_duplicates_and_hidden_rows(
    open_pane: OpenPane,
) -> None:
    pane = open_pane(BOOK)
    page = pane.page
    preview(page)
    summary = page.locator("#summary")
    expect(summary).to_contain_text("3 recipients")
    expect(summary).to_contain_text("1 hidden row left out")
    expect(summary).to_contain_text("1 problem")
    expect(summary).to_contain_text("1 duplicate")
    expect(page.locator("#messages .text")).to_have_text(
        ["Hej Anna i Umeå!", f"Hej {HOSTILE} i Kiruna!", "Hej Fia i Gällivare!"]
    )
    expect(page.locator("#problems button")).to_have_count(1)
    expect(page.locator("#problems button .cell")).to_have_text("Kontakter!B3")
    expect(page.locator("#duplicates button")).to_contain_text("row 2")
    expect(page.locator("#duplicates button .cell")).to_have_text("Kontakter!B5")
    expect(page.get_by_role("button", name="Send 3 messages")).to_be_enabled()
    pane.screenshot("preview")


def test_clicking_a_problem_selects_its_cell(open_pane: OpenPane) -> None:
    pane = open_pane(BOOK)
    preview(pane.page)
    pane.page.locator("#problems button").first.click()
    pane.page.wait_for_function("() => window.__wb.selection.row === 2")
    assert pane.wb()["selection"] == {"sheet": 0, "row": 2, "col": 1, "rows": 1, "cols": 1}


def test_hostile_cell_text_is_shown_as_text_and_never_runs(open_pane: OpenPane) -> None:
    pane = open_pane(BOOK)
    page = pane.page
    preview(page)
    expect(page.locator("#messages .text").nth(1)).to_have_text(f"Hej {HOSTILE} i Kiruna!")
    assert page.locator("#app img").count() == 1  # only the pane's own icon
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert pane.dialogs == []
    assert page.evaluate("() => window.__xss === undefined")


def test_selecting_one_cell_inside_a_table_previews_the_whole_table(open_pane: OpenPane) -> None:
    rows = [["Rapport", "", ""], ["", "", ""], *ROWS[:3]]
    table = {"name": "Kunder", "row": 2, "col": 0, "rows": 3, "cols": 3}
    pane = open_pane(workbook(rows, selection=(3, 2, 1, 1), tables=[table]))
    preview(pane.page)
    expect(pane.page.locator("#summary")).to_contain_text("1 recipient in 2 rows")
    expect(pane.page.locator("#problems button .cell")).to_have_text("Kontakter!B5")


def test_a_plain_block_of_numbers_needs_no_header(open_pane: OpenPane) -> None:
    rows = [["070-123 45 67"], ["070-123 45 68"], ["070-123 45 69"]]
    pane = open_pane(workbook(rows, selection=(0, 0, 3, 1)))
    preview(pane.page, "Välkommen!")
    expect(pane.page.locator("#summary")).to_contain_text("3 recipients")
    expect(pane.page.locator("#messages .text")).to_have_text(["Välkommen!"] * 3)


def test_the_ribbons_check_numbers_lists_the_problems_in_the_pane(open_pane: OpenPane) -> None:
    pane = open_pane(BOOK)
    page = pane.page
    completed = page.evaluate(
        """() => new Promise(resolve => {
            window.__officeActions.checkNumbers({completed: () => resolve(true)});
        })"""
    )
    assert completed is True
    expect(page.locator("#preview-title")).to_have_text("Number check")
    expect(page.locator("#problems button .cell")).to_have_text("Kontakter!B3")
    expect(page.locator("#messages li")).to_have_count(0)
    pane.screenshot("check-numbers")
    page.get_by_label("Message", exact=True).fill("Hej {{ Namn }}")
    page.get_by_role("button", name=SEND).click()
    expect(page.locator("#confirm-text")).to_contain_text("Send 3 messages now?")
    expect(page.locator("#preview-title")).to_have_text("Preview")


def test_selected_rows_below_the_header_are_read_with_the_header_above_them(
    open_pane: OpenPane,
) -> None:
    pane = open_pane(workbook(ROWS, selection=(6, 1, 1, 1)))  # only Fia's phone cell, B7
    body = pane.page.evaluate("() => elksxl.excel.readSelection()")
    selection = body["selection"]
    assert body["header"] is True
    assert selection["values"] == [ROWS[0], ROWS[6]]
    assert selection["row_numbers"] == [1, 7]
    assert selection["address"] == "Kontakter!A1:C7"


def test_a_selection_not_adjacent_to_its_header_previews_its_own_rows(
    open_pane: OpenPane,
) -> None:
    pane = open_pane(workbook(ROWS, selection=(5, 0, 2, 3), hidden=[]))  # rows 6 and 7
    preview(pane.page)
    expect(pane.page.locator("#messages .to")).to_have_text(
        [re.compile(r"^Row 6 "), re.compile(r"^Row 7 ")]
    )
