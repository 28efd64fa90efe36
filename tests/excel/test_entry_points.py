"""The ribbon's Check and Send on real xw.Book objects, against the simulator over real HTTP.

A JSON book records what Excel should do instead of changing itself, so a second press opens
the book again with the first press's actions played back (:func:`books.applied`), as Excel
would have them. The journal is a real SQLite file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from elksxl.campaign import Outcome
from elksxl.errors import TemplateError
from elksxl.excel import check_selection, send_selection
from elksxl.sheets.xlbook import read_campaign_id
from elksxl.table import RESULT_COLUMNS

from .books import applied, cell_writes, open_book, payload, with_message

FAST = {"rate_per_minute": 0}
SENDER = "Elksxl"
MESSAGE = "Hej {{ Name }}!"
STATUS, ERROR = 3, 7  # sheet columns of SMS status and SMS error right of Phone, Name

PEOPLE = [
    ["Phone", "Name"],
    ["0701234567", "Ann"],
    [46701234568.0, "Bo"],  # an Excel float with the country code
    ["12", "Cy"],  # not a number
    [None, None],
    ["070-123 45 67", "Ann"],  # the same number and text as row 2: a duplicate
    ["0701234570", "Ed"],
]
SENT = {"+46701234567": "Hej Ann!", "+46701234568": "Hej Bo!", "+46701234570": "Hej Ed!"}


def book(rows: list[list[Any]] = PEOPLE, *, selection: str = "A1") -> dict[str, Any]:
    return with_message(payload(rows, selection=selection), MESSAGE)


def environ(sim: Any, tmp_path: Path) -> dict[str, str]:
    return {
        **sim.env(),
        "ELKSXL_JOURNAL": str(tmp_path / "journal.sqlite3"),
        "ELKSXL_RATE": "0",
        "ELKS_FROM": SENDER,
    }


def press(entry: Any, data: dict[str, Any], env: dict[str, str], **kwargs: Any) -> Any:
    """Call the entry point on a fresh book from ``data``: (its answer, the actions it left)."""
    with open_book(data) as opened:
        answer = entry(opened, environ=env, **{"confirm": False, **kwargs})
        return answer, opened.json()["actions"]


def grid(data: dict[str, Any]) -> list[list[Any]]:
    return data["sheets"][0]["values"]  # type: ignore[no-any-return]


def column(data: dict[str, Any], number: int) -> dict[int, Any]:
    """Sheet row -> value of column ``number`` (1-based), below the header."""
    rows = grid(data)[1:]
    return {i: row[number - 1] for i, row in enumerate(rows, start=2) if len(row) >= number}


def sent_texts(sim: Any) -> dict[str, str]:
    messages = sim.messages()
    found = {m["to"]: m["message"] for m in messages}
    assert len(found) == len(messages), "a recipient got two messages"
    assert {m["from"] for m in messages} <= {SENDER}
    return found


def test_send_sends_exactly_the_planned_messages_and_writes_only_result_cells(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    data = book()
    result, actions = press(send_selection, data, environ(sim, tmp_path))

    assert result.outcome is Outcome.COMPLETE
    assert sent_texts(sim) == SENT
    writes = cell_writes(actions)
    assert {col for _, col in writes} <= set(range(STATUS, STATUS + len(RESULT_COLUMNS)))
    assert [writes[(1, STATUS + i)] for i in range(len(RESULT_COLUMNS))] == list(RESULT_COLUMNS)
    after = applied(data, actions)
    assert [row[:2] for row in grid(after)] == [row[:2] for row in grid(data)]  # user cells
    assert column(after, STATUS) == {
        2: "sent",
        3: "sent",
        4: "invalid",
        5: "",  # the blank row is nobody's
        6: "duplicate",
        7: "sent",
    }
    assert "same number as row 2" in column(after, ERROR)[6]
    with open_book(after) as reopened:
        assert read_campaign_id(reopened) == result.campaign_id


def test_send_goes_only_to_the_selected_rows(simulator_factory: Any, tmp_path: Path) -> None:
    sim = simulator_factory(FAST)
    result, actions = press(send_selection, book(selection="A3:B4"), environ(sim, tmp_path))

    assert result.outcome is Outcome.COMPLETE
    assert sent_texts(sim) == {"+46701234568": "Hej Bo!"}
    assert {row for row, _ in cell_writes(actions)} == {1, 3, 4}


def test_a_second_press_after_running_out_of_credits_sends_the_rest_and_nothing_twice(
    simulator_factory: Any, tmp_path: Path
) -> None:
    # An account in EUR: the SEK estimate cannot be compared with it, so the send starts and
    # the account runs dry after two messages.
    account = {"username": "sim", "password": "sim", "currency": "EUR", "balance": 2 * 3500}
    sim = simulator_factory({**FAST, "accounts": [account], "prices": {"46": 3500}})
    env = environ(sim, tmp_path)
    data = book()
    first, actions = press(send_selection, data, env)
    assert first.outcome is Outcome.STOPPED
    assert len(sim.messages()) == 2
    data = applied(data, actions)
    assert sorted(column(data, STATUS).values()).count("not sent") == 1

    sim.set_balance(sim.username, 10**9)
    second, actions = press(send_selection, data, env)

    assert second.outcome is Outcome.COMPLETE
    assert second.campaign_id == first.campaign_id
    assert sent_texts(sim) == SENT
    data = applied(data, actions)
    assert [column(data, STATUS)[row] for row in (2, 3, 7)] == ["sent"] * 3


def test_a_second_press_after_excel_lost_the_results_sends_nothing_again(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    env = environ(sim, tmp_path)
    data = book()
    first, actions = press(send_selection, data, env)
    # Excel crashed after the campaign id and the result headers were saved, before the results.
    kept = [a for a in actions if a["func"] != "setValues" or a["start_row"] == 0]
    data = applied(data, kept)
    assert set(column(data, STATUS).values()) == {""}

    second, actions = press(send_selection, data, env)

    assert second.campaign_id == first.campaign_id
    assert sent_texts(sim) == SENT  # nobody got a second message
    data = applied(data, actions)
    assert [column(data, STATUS)[row] for row in (2, 3, 7)] == ["sent"] * 3


def test_a_declined_confirmation_sends_nothing(simulator_factory: Any, tmp_path: Path) -> None:
    sim = simulator_factory(FAST)
    # The JSON engine's dialogs answer nothing, which is not "ok".
    result, actions = press(send_selection, book(), environ(sim, tmp_path), confirm=True)

    assert result is None
    assert sim.messages() == []
    assert [a["args"][1] for a in actions if a["func"] == "alert"] == ["SMS: send"]
    assert cell_writes(actions) == {}


def test_check_gives_the_summary_and_writes_reasons_only_into_sms_error(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    summary, actions = press(check_selection, book(), environ(sim, tmp_path))

    assert sim.messages() == []
    lines = summary.splitlines()
    assert lines[0] == "3 recipients, 3 SMS parts"
    assert lines[1] == "estimated cost: 1.05 SEK"
    assert lines[2].startswith("balance 100000.00 SEK: covers the estimated cost")
    assert "1 rows with problems (see SMS error)" in lines
    assert "1 duplicates, 0 already sent" in lines
    assert "hidden rows could not be told apart here: every selected row counts" in lines
    body = {cell: v for cell, v in cell_writes(actions).items() if cell[0] > 1}
    assert {cell for cell in body} == {(4, ERROR), (6, ERROR)}
    assert body[(4, ERROR)].startswith("too short")
    assert body[(6, ERROR)].startswith("duplicate of row 2")


def test_check_clears_the_reasons_it_wrote_once_the_rows_are_fixed(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    env = environ(sim, tmp_path)
    rows = [*PEOPLE, ["0701234571", "Fy"]]
    data = book(rows)
    _, actions = press(check_selection, data, env)
    data = applied(data, actions)
    grid(data)[3][0] = "0701234569"  # Cy's number fixed
    grid(data)[7][STATUS - 1] = "failed"  # a send's own error, with its status
    grid(data)[7][ERROR - 1] = "blocked by the operator"

    _, actions = press(check_selection, data, env)

    body = {cell: v for cell, v in cell_writes(actions).items() if cell[0] > 1}
    assert body[(4, ERROR)] == ""  # cleared
    assert body[(6, ERROR)].startswith("duplicate of row 2")  # still a duplicate
    assert (8, ERROR) not in body
    assert column(applied(data, actions), ERROR)[8] == "blocked by the operator"


def test_check_of_a_clean_selection_writes_no_cells(simulator_factory: Any, tmp_path: Path) -> None:
    sim = simulator_factory(FAST)
    summary, actions = press(check_selection, book(selection="A2:B3"), environ(sim, tmp_path))

    assert summary.startswith("2 recipients")
    assert cell_writes(actions) == {}


def test_check_shows_its_summary_in_a_dialog_when_asked(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    summary, actions = press(check_selection, book(), environ(sim, tmp_path), confirm=True)

    alerts = [a["args"] for a in actions if a["func"] == "alert"]
    assert alerts == [[summary, "SMS: check", "ok", "", ""]]


def test_without_a_message_cell_the_error_says_how_to_name_one(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    with pytest.raises(TemplateError, match="SMS_Message"):
        press(send_selection, payload(PEOPLE), environ(sim, tmp_path))
    assert sim.messages() == []


def test_an_error_is_shown_in_a_dialog_when_confirming(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    answer, actions = press(send_selection, payload(PEOPLE), environ(sim, tmp_path), confirm=True)

    assert answer is None
    (alert,) = [a["args"] for a in actions if a["func"] == "alert"]
    assert "SMS_Message" in alert[0]
    assert alert[3] == "critical"
