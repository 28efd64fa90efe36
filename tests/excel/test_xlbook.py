"""The xlwings adapter on real xw.Book objects: selection -> Table, results -> result cells only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from elksxl.errors import WorkbookError
from elksxl.sheets.xlbook import named_value, read_campaign_id, read_selection, visible_spans
from elksxl.sheets.xlsink import RangeResultSink
from elksxl.table import RESULT_COLUMNS, RowResult

from .books import applied, cell_writes, open_book, payload, table

PEOPLE = [
    ["Phone", "Name", "City"],
    ["0701234567", "Ann", "Lund"],
    [46701234568.0, "Bo", None],
    [None, None, None],
    ["0701234569", "Cy", "Umeå"],
    ["0701234570", "Di", "Kiruna"],
]


def test_selected_rows_below_a_header_keep_their_sheet_row_numbers() -> None:
    with open_book(payload(PEOPLE, selection="A3:C5")) as book:
        found = read_selection(book)
    assert found.table.header == ("Phone", "Name", "City")
    assert found.table.header_row == 1
    assert found.table.first_column == 1
    assert [(r.number, r.values) for r in found.table.rows] == [
        (3, (46701234568.0, "Bo", None)),
        (5, ("0701234569", "Cy", "Umeå")),
    ]  # the blank row 4 is skipped
    assert found.list_object is None
    assert found.table.sheet == "Sheet1"
    assert found.table.source == "People.xlsx"


def test_one_selected_cell_means_every_row_of_the_block() -> None:
    with open_book(payload(PEOPLE, selection="B2")) as book:
        rows = read_selection(book).table.rows
    assert [r.number for r in rows] == [2, 3, 5, 6]


def test_selecting_the_header_row_too_means_every_row() -> None:
    with open_book(payload(PEOPLE, selection="A1:C3")) as book:
        rows = read_selection(book).table.rows
    assert [r.number for r in rows] == [2, 3, 5, 6]


def test_header_below_title_rows_and_right_of_blank_columns() -> None:
    values = [
        [None, "Campaign March", None],
        [None, None, None],
        [None, "Phone", "Name"],
        [None, "0701234567", "Ann"],
    ]
    with open_book(payload(values, selection="B4")) as book:
        found = read_selection(book).table
    assert (found.header_row, found.first_column, found.header) == (1, 2, ("Campaign March", ""))
    # the first non-empty row is the header, as for `elksxl plan`: a title row is its header
    values = values[1:]
    with open_book(payload(values, selection="B3")) as book:
        found = read_selection(book).table
    assert (found.header_row, found.first_column, found.header) == (2, 2, ("Phone", "Name"))
    assert [(r.number, r.values) for r in found.rows] == [(3, ("0701234567", "Ann"))]


def test_a_selection_in_an_excel_table_reads_that_table_only() -> None:
    values = [
        ["Notes", None, None, None],
        [None, None, None, None],
        [None, "Mobil", "Namn", None],
        [None, "0701234567", "Ann", "outside"],
        [None, "0701234568", "Bo", None],
        [None, "0701234569", "Cy", None],
        [None, None, None, None],
        [None, "not", "mine", None],
    ]
    tables = [table("Kunder", (3, 2), rows=3, columns=2)]
    with open_book(payload(values, selection="C5", tables=tables)) as book:
        found = read_selection(book)
    assert found.list_object == "Kunder"
    assert (found.table.header_row, found.table.first_column) == (3, 2)
    assert found.table.header == ("Mobil", "Namn")
    assert [(r.number, r.values) for r in found.table.rows] == [
        (4, ("0701234567", "Ann")),
        (5, ("0701234568", "Bo")),
        (6, ("0701234569", "Cy")),
    ]
    with open_book(payload(values, selection="B5:C6", tables=tables)) as book:
        assert [r.number for r in read_selection(book).table.rows] == [5, 6]


def test_json_engine_cannot_tell_hidden_rows_so_all_stay_and_it_says_so() -> None:
    tables = [table("Kunder", (1, 1), rows=5, columns=3)]
    with open_book(payload(PEOPLE, selection="A2", tables=tables)) as book:
        found = read_selection(book)
    assert found.visibility_known is False
    assert found.hidden_rows == 0
    assert len(found.table.rows) == 4


def test_visible_spans_leave_out_hidden_rows_with_few_questions() -> None:
    hidden = {5, 6, 7, 400}
    asked: list[tuple[int, int]] = []

    def height(top: int, bottom: int) -> float | None:
        asked.append((top, bottom))
        heights = {0.0 if row in hidden else 15.0 for row in range(top, bottom + 1)}
        return heights.pop() if len(heights) == 1 else None

    spans = list(visible_spans(2, 1001, height))
    assert [row for top, bottom in spans for row in range(top, bottom + 1)] == [
        row for row in range(2, 1002) if row not in hidden
    ]
    assert len(asked) < 60
    asked.clear()
    assert list(visible_spans(2, 10_001, lambda top, bottom: 15.0)) == [(2, 10_001)]


def test_duplicate_headers_are_refused_naming_both_cells() -> None:
    data = payload([["Phone", "Name", "Name"], ["0701234567", "a", "b"]])
    with open_book(data) as book, pytest.raises(WorkbookError, match=r"B1 and C1"):
        read_selection(book)


def test_named_message_cell_is_read_and_a_missing_name_is_none() -> None:
    values = [*PEOPLE, [None, None, None, "Hej {{ Name }}!"]]
    data = payload(values, names={"SMS_Message": "$D$7"})
    with open_book(data) as book:
        assert named_value(book, "SMS_Message") == "Hej {{ Name }}!"
        assert named_value(book, "sms_message") == "Hej {{ Name }}!"
        assert named_value(book, "SMS_From") is None


def test_results_go_only_into_new_result_columns_right_of_the_used_range() -> None:
    data = payload(PEOPLE, selection="A2")
    sent = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    with open_book(data) as book:
        found = read_selection(book)
        sink = RangeResultSink(book, found.table)
        assert sink.columns == {name: 4 + i for i, name in enumerate(RESULT_COLUMNS)}
        sink.set(2, RowResult("sent", "s1", 1, 0.35, None, sent))
        sink.set(3, RowResult(status="failed", error="=cmd|' /C calc'!A0"))
        sink.set(5, RowResult("sent", "s3", 2, 0.7, None, sent))
        sink.save()
        writes = cell_writes(book.json()["actions"])
    assert {column for _, column in writes} <= set(range(4, 4 + len(RESULT_COLUMNS)))
    assert [writes[(1, 4 + i)] for i in range(len(RESULT_COLUMNS))] == list(RESULT_COLUMNS)
    assert writes[(2, 4)] == "sent"
    assert writes[(2, 5)] == "s1"
    local = sent.astimezone().replace(tzinfo=None)  # Excel has no zones: this computer's time
    assert writes[(2, 9)] == local.strftime("%Y-%m-%d %H:%M:%S")  # how the JSON engine sends it
    assert writes[(3, 8)] == "'=cmd|' /C calc'!A0"  # text, never a formula
    assert (3, 5) not in writes  # None leaves the cell as it is
    assert (4, 4) not in writes  # the blank row gets nothing


def test_existing_result_columns_are_reused_wherever_they_are() -> None:
    values = [["Phone", "sms STATUS", "Name"], ["0701234567", None, "Ann"]]
    with open_book(payload(values)) as book:
        sink = RangeResultSink(book, read_selection(book).table)
        assert sink.columns["SMS status"] == 2
        assert sink.columns["SMS id"] == 4
        sink.set(2, RowResult(status="sent"))
        sink.save()
        writes = cell_writes(book.json()["actions"])
    assert writes[(2, 2)] == "sent"
    assert writes[(1, 4)] == "SMS id"


def test_results_are_written_in_batches_one_range_per_run_of_rows() -> None:
    values = [["Phone", "Name"]] + [[f"070{n:07d}", "x"] for n in range(1000)]
    with open_book(payload(values)) as book:
        sink = RangeResultSink(book, read_selection(book).table, batch_rows=500)
        before = len(book.json()["actions"])
        for row in range(2, 1002):
            sink.set(row, RowResult(status="sent", sms_id=f"s{row}"))
        written_before_save = len(book.json()["actions"]) - before
        sink.save()
        value_writes = [a for a in book.json()["actions"][before:] if a["func"] == "setValues"]
    assert written_before_save == 4  # two full batches, two columns each, already in Excel
    assert len(value_writes) == 4
    assert sum(a["row_count"] for a in value_writes) == 2000


def test_campaign_id_is_a_defined_name_on_the_json_engine_and_is_read_back() -> None:
    data = payload(PEOPLE)
    with open_book(data) as book:
        assert read_campaign_id(book) is None
        sink = RangeResultSink(book, read_selection(book).table)
        sink.set_campaign_id('c-2024"03')
        assert not any(a["func"] == "namesAdd" for a in book.json()["actions"])  # not yet
        sink.save()
        actions = book.json()["actions"]
    assert ["elksxl_campaign", '="c-2024""03"'] in [a["args"] for a in actions]
    data = applied(data, actions)
    with open_book(data) as book:
        assert read_campaign_id(book) == 'c-2024"03'
        assert read_selection(book).campaign_id == 'c-2024"03'
        sink = RangeResultSink(book, read_selection(book).table)
        sink.set_campaign_id("c-next")
        sink.save()
        data = applied(data, book.json()["actions"])
    with open_book(data) as book:
        assert read_campaign_id(book) == "c-next"
