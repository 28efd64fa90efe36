"""The worksheet functions give the plan's answers, for one cell or a whole column at once."""

from __future__ import annotations

import os
import time
import typing
from pathlib import Path
from typing import Any

import pytest

from elksxl import excel
from elksxl.encoding import analyze
from elksxl.errors import ConfigError
from elksxl.plan import Duplicate, Message, Problem, build
from elksxl.table import Row, Table
from elksxl.templating import compile_template

# What Excel hands a function: floats for numbers, text as typed or as Excel mangled it.
EXCEL_CELLS: list[Any] = [
    46701234567.0,  # a number cell: Excel keeps numbers as floats
    "46701234567.0",  # the same float written out as text (CSV export)
    "4.67012E+10",  # scientific notation: the last digits are gone
    "4.6701234567E+10",  # scientific notation that still shows every digit
    701234567.0,  # 0701234567 typed into a number cell: the leading zero is gone
    "0701234567",
    "+47 912 34 567",
    "070-123 45 67 ext 12",
    "08-123 456 78",  # a Stockholm landline: valid, not mobile
    "call me",
    None,
    True,
]


def plan_for(cells: list[Any]) -> dict[int, Message | Duplicate | Problem]:
    table = Table(
        header=("Phone", "Name"),
        rows=[Row(number, (cell, "Ann")) for number, cell in enumerate(cells, start=2)],
    )
    template = compile_template("Hello {{ Name }}", table.header)
    plan = build(table, template)
    return {item.row: item for item in (*plan.messages, *plan.duplicates, *plan.problems)}


def test_e164_valid_and_why_agree_with_the_plan_on_excel_damaged_cells() -> None:
    planned = plan_for(EXCEL_CELLS)
    for number, cell in enumerate(EXCEL_CELLS, start=2):
        item = planned[number]
        if isinstance(item, Message | Duplicate):
            assert excel.ELKS_E164(cell) == item.to, cell
            assert excel.ELKS_VALID(cell) is True, cell
            assert excel.ELKS_WHY(cell) == "", cell
        else:
            assert excel.ELKS_E164(cell) == "", cell
            assert excel.ELKS_VALID(cell) is False, cell
            assert excel.ELKS_WHY(cell) == item.reason, cell


def test_excel_float_and_lost_leading_zero_become_the_swedish_mobile() -> None:
    assert excel.ELKS_E164(46701234567.0) == "+46701234567"
    assert excel.ELKS_E164(701234567.0) == "+46701234567"


def test_scientific_notation_that_lost_digits_is_explained_not_guessed() -> None:
    assert excel.ELKS_E164("4.67012E+10") == ""
    assert "scientific notation" in excel.ELKS_WHY("4.67012E+10")
    assert excel.ELKS_E164("4.6701234567E+10") == "+46701234567"


def test_region_argument_reads_national_numbers_of_that_country() -> None:
    assert excel.ELKS_E164("912 34 567", "NO") == "+4791234567"
    assert excel.ELKS_E164("912 34 567") != "+4791234567"  # read as Swedish by default
    assert excel.ELKS_E164("0701234567", None) == "+46701234567"  # an empty argument: SE


def test_a_landline_is_not_valid_as_in_the_plan_and_says_why() -> None:
    assert excel.ELKS_VALID("08-123 456 78") is False
    assert "landline" in excel.ELKS_WHY("08-123 456 78")
    assert excel.ELKS_VALID("08-123 456 78", "SE", True) is False
    assert "landline" in excel.ELKS_WHY("08-123 456 78", "SE", True)


def test_unknown_region_is_a_config_error_that_names_the_region() -> None:
    with pytest.raises(ConfigError, match="XX"):
        excel.ELKS_E164("0701234567", "XX")


def test_a_column_is_one_call_and_keeps_its_shape() -> None:
    column = [[cell] for cell in EXCEL_CELLS]
    e164 = excel.ELKS_E164(column)
    assert e164 == [[excel.ELKS_E164(cell)] for cell in EXCEL_CELLS]
    assert excel.ELKS_VALID([["0701234567", "x"]]) == [[True, False]]
    assert excel.ELKS_PARTS(["hej", "", None]) == [1, 0, 0]


def test_ten_thousand_rows_in_one_call_agree_with_the_plan() -> None:
    cells: list[Any] = [f"070{n:07d}" if n % 7 else float(46700000000 + n) for n in range(10_000)]
    planned = plan_for(cells)
    started = time.perf_counter()
    result = excel.ELKS_E164([[cell] for cell in cells])
    elapsed = time.perf_counter() - started
    assert len(result) == 10_000
    for number, (e164,) in enumerate(result, start=2):
        item = planned[number]
        assert e164 == (item.to if isinstance(item, Message | Duplicate) else "")
    assert elapsed < 5  # generous: a recalculation must not freeze Excel


def test_parts_and_encoding_are_the_plans_measure_of_the_text() -> None:
    texts = ["Hej Anna!", "Hej Åsa 😀", "x" * 161, "€" * 80, "", None, 12.0]
    assert excel.ELKS_PARTS(texts) == [
        analyze(t).parts for t in ("Hej Anna!", "Hej Åsa 😀", "x" * 161, "€" * 80, "", "", "12")
    ]
    assert excel.ELKS_ENCODING(texts) == ["gsm7", "ucs2", "gsm7", "gsm7", "gsm7", "gsm7", "gsm7"]
    assert excel.ELKS_PARTS("x" * 161) == 2
    assert excel.ELKS_PARTS("€" * 81) == 2  # € is an escaped GSM character: two septets


@pytest.mark.parametrize("name", [n for n in excel.__all__ if n.startswith("ELKS_")])
def test_function_parameters_are_annotated_any_for_the_windows_udf_server(name: str) -> None:
    # xlwings on Windows turns each annotation into the argument's converter; only Any
    # (the default value converter) passes Excel values through unchanged.
    hints = typing.get_type_hints(getattr(excel, name))
    assert set(hints.values()) == {Any}
    assert getattr(excel, name).__name__ == name  # the name Excel shows


def test_credentials_come_from_the_xlwings_config_file_unless_the_environment_has_them(
    tmp_path: Path,
) -> None:
    config = tmp_path / "xlwings.conf"
    config.write_text(
        '"INTERPRETER_WIN","C:\\\\Python\\\\python.exe"\n'
        '"ELKS_USERNAME","u-from-file"\n"ELKS_PASSWORD","secret"\n',
        encoding="utf-8",
    )
    found = excel.user_environ(config)
    assert found["ELKS_PASSWORD"] == os.environ.get("ELKS_PASSWORD", "secret")
    assert found["ELKS_USERNAME"] == os.environ.get("ELKS_USERNAME", "u-from-file")
    assert "INTERPRETER_WIN" not in found or "INTERPRETER_WIN" in os.environ
    assert excel.user_environ(tmp_path / "missing.conf") == dict(os.environ)
