"""Selection payloads become Tables by our own rules, the same as the .xlsx reader's."""

from __future__ import annotations

from datetime import datetime

import pytest

from elksxl.errors import InputError, WorkbookError
from elksxl.server.payload import parse_selection

from .conftest import selection


def test_a_table_with_a_header_keeps_excel_row_numbers_and_leaves_hidden_rows_out() -> None:
    values = [
        ["Namn", "Telefon", "Kund sedan"],
        ["Anna", 46701234567.0, "2021-03-04T00:00:00.000Z"],
        ["Bo", "070-123 45 68", ""],
        ["", "", ""],
        ["Cia", "+46701234569", None],
        ["Dan", "#N/A", 12.5],
    ]
    parsed = parse_selection(selection(values, first_row=4, first_column=3, hidden_rows=[6]))
    table = parsed.table

    assert table.header == ("Namn", "Telefon", "Kund sedan")
    assert (table.header_row, table.first_column, table.sheet) == (4, 3, "Kontakter")
    assert [r.number for r in table.rows] == [5, 8, 9]  # 6 hidden, 7 empty
    assert table.hidden_rows == 1
    assert table.rows[0].values == ("Anna", 46701234567.0, datetime(2021, 3, 4))
    assert table.rows[2].values == ("Dan", None, 12.5)
    assert parsed.cell(8, 1) == "Kontakter!D8"


def test_rows_selected_away_from_their_header_keep_their_own_row_numbers() -> None:
    payload = selection([["Namn", "Telefon"], ["Gun", "0701234510"], ["Hans", "0701234511"]])
    payload["selection"]["row_numbers"] = [1, 10, 11]

    table = parse_selection(payload).table

    assert table.header_row == 1
    assert [(r.number, r.values[0]) for r in table.rows] == [(10, "Gun"), (11, "Hans")]


@pytest.mark.parametrize("numbers", [[1, 2], [1, 10, 10], [1, 0, 3], "1,2,3"])
def test_row_numbers_that_do_not_fit_the_values_are_refused(numbers: object) -> None:
    payload = selection([["Namn", "Telefon"], ["Gun", "0701234510"], ["Hans", "0701234511"]])
    payload["selection"]["row_numbers"] = numbers

    with pytest.raises(InputError, match="row_numbers"):
        parse_selection(payload)


def test_a_plain_block_of_numbers_gets_a_telefon_header() -> None:
    parsed = parse_selection(
        selection([["0701234567"], [46701234568.0]], first_row=3, header=False)
    )
    assert parsed.table.header == ("Telefon",)
    assert [(r.number, r.values) for r in parsed.table.rows] == [
        (3, ("0701234567",)),
        (4, (46701234568.0,)),
    ]
    assert parsed.table.header_row == 2


def test_a_plain_block_of_several_columns_is_refused() -> None:
    with pytest.raises(InputError, match="single column"):
        parse_selection(selection([["0701234567", "x"]], header=False))


def test_two_columns_with_one_header_name_the_cells() -> None:
    with pytest.raises(WorkbookError) as caught:
        parse_selection(selection([["Telefon", "Namn", "Telefon"]], first_column=2))
    assert caught.value.cell == "D1"
    assert "B1" in str(caught.value)


def test_whole_number_headers_lose_their_point_and_the_campaign_id_is_read() -> None:
    parsed = parse_selection(selection([[2024.0, " Telefon "]], campaign_id="abc"))
    assert parsed.table.header == ("2024", "Telefon")
    assert parsed.table.campaign_id == "abc"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"selection": None}, "selection"),
        ({"sheet": {"position": 0}}, "sheet name"),
        ({"utc_offset_minutes": 5000}, "offset"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(change: dict[str, object], needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_selection(selection([["Telefon"]]) | change)
