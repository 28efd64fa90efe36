"""The planner: phone column detection, skipping, duplicates after normalization, problems, cost."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from elksxl.errors import WorkbookError
from elksxl.plan import PlanOptions, build, find_phone_column
from elksxl.pricing import PriceTable
from elksxl.table import Cell, Row, Table
from elksxl.templating import compile_template

PRICES = PriceTable(currency="SEK", prices={"46": 3500, "47": 6000}, example=True)


def table(header: Sequence[str], *rows: Sequence[Cell]) -> Table:
    return Table(
        header=tuple(header),
        rows=[Row(i + 2, tuple(r)) for i, r in enumerate(rows)],
        sheet="Kontakter",
        source="book.xlsx",
    )


def plan_of(t: Table, source: str = "Hej {{ Namn }}!", **options: object):  # type: ignore[no-untyped-def]
    template = compile_template(source, t.header)
    return build(t, template, PlanOptions(**options), PRICES)  # type: ignore[arg-type]


def test_duplicates_are_found_after_normalization_and_the_first_row_wins() -> None:
    t = table(
        ("Namn", "Telefon"),
        ("Anna", "070-123 45 67"),
        ("Anna", "+46701234567"),
        ("Anna", 701234567),
        ("Anna", "0046 70 123 45 67"),
    )
    plan = plan_of(t)
    assert [m.row for m in plan.messages] == [2]
    assert [(d.row, d.to, d.first_row) for d in plan.duplicates] == [
        (3, "+46701234567", 2),
        (4, "+46701234567", 2),
        (5, "+46701234567", 2),
    ]
    assert plan.duplicates[0].reason.startswith("duplicate of row 2")


def test_invalid_numbers_become_problems_naming_row_column_and_value() -> None:
    t = table(("Namn", "Mobil"), ("Anna", "abc"), ("Bo", "4.67012E+10"), ("Cia", None))
    plan = plan_of(t)
    assert plan.messages == ()
    assert [(p.row, p.column, p.value) for p in plan.problems] == [
        (2, "Mobil", "abc"),
        (3, "Mobil", "4.67012E+10"),
        (4, "Mobil", None),
    ]
    assert "Text" in plan.problems[1].reason


def test_rows_already_sent_are_skipped_and_counted() -> None:
    t = table(
        ("Namn", "Telefon", "SMS status"),
        ("Anna", "0701234567", "sent"),
        ("Bo", "0702345678", "Delivered"),
        ("Cia", "0703456789", "failed"),
        ("Anna", "0701234567", None),
    )
    plan = plan_of(t)
    assert plan.already_sent == (2, 3)
    assert [m.row for m in plan.messages] == [4]
    # Anna already got it: a later row with her number and text is a duplicate, not a second SMS.
    assert [(d.row, d.first_row) for d in plan.duplicates] == [(5, 2)]


def test_an_empty_placeholder_value_is_a_problem_for_that_row() -> None:
    t = table(("Namn", "Telefon"), ("", "0701234567"), ("Bo", "0702345678"))
    plan = plan_of(t)
    assert [m.row for m in plan.messages] == [3]
    assert [(p.row, p.column) for p in plan.problems] == [(2, "Namn")]


def test_text_is_measured_and_ucs2_characters_are_listed() -> None:
    t = table(("Namn", "Telefon"), ("O’Neill", "0701234567"), ("Åsa", "0702345678"))
    plan = plan_of(t)
    first, second = plan.messages
    assert (first.encoding, first.ucs2_chars) == ("ucs2", ("’",))
    assert (second.encoding, second.ucs2_chars) == ("gsm7", ())
    smart = plan_of(t, smart_encoding=True)
    assert smart.messages[0].encoding == "gsm7"
    assert smart.messages[0].text == "Hej O'Neill!"


def test_cost_is_parts_times_price_and_unknown_when_a_destination_has_no_price() -> None:
    long = "x" * 200  # 2 parts
    t = table(("Namn", "Telefon"), (long, "0701234567"), ("Bo", "+47 412 34 567"))
    plan = plan_of(t)
    assert [m.cost for m in plan.messages] == [7000, 6000]
    assert plan.estimated_cost == 13000
    t2 = table(("Namn", "Telefon"), ("Al", "0701234567"), ("Bo", "+44 7911 123456"))
    plan2 = plan_of(t2)
    assert [m.cost for m in plan2.messages] == [3500, None]
    assert plan2.estimated_cost is None
    assert plan2.to_dict()["estimated_cost"] is None
    assert plan2.unpriced == 1


def test_json_shape_matches_the_contract() -> None:
    t = table(
        ("Namn", "Telefon"),
        ("Anna", "0701234567"),
        ("Bo", "abc"),
        ("Anna", "+46701234567"),
    )
    data = plan_of(t).to_dict()
    assert {k: data[k] for k in ("rows", "recipients", "parts", "already_sent", "currency")} == {
        "rows": 3,
        "recipients": 1,
        "parts": 1,
        "already_sent": 0,
        "currency": "SEK",
    }
    assert data["estimated_cost"] == pytest.approx(0.35)
    message = data["messages"][0]
    assert {k: message[k] for k in ("row", "to", "text", "encoding", "parts", "ucs2_chars")} == {
        "row": 2,
        "to": "+46701234567",
        "text": "Hej Anna!",
        "encoding": "gsm7",
        "parts": 1,
        "ucs2_chars": [],
    }
    assert data["problems"][0]["row"] == 3
    assert data["problems"][0]["column"] == "Telefon"
    assert data["problems"][0]["value"] == "abc"
    assert data["duplicates"] == [
        {
            "row": 4,
            "to": "+46701234567",
            "first_row": 2,
            "reason": "duplicate of row 2: the same number and the same text",
        }
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (("Namn", "Telefon"), 1),
        (("Mobilnummer", "Namn"), 0),
        (("Name", "Phone number"), 1),
        (("Imię", "Numer"), 1),
        (("Name", "Mobile phone"), 1),
    ],
)
def test_phone_column_is_found_by_header(header: tuple[str, str], expected: int) -> None:
    t = table(header, ("0701234567", "0701234567"))
    assert find_phone_column(t) == expected


def test_phone_column_is_found_by_content_when_no_header_says_so() -> None:
    t = table(("Namn", "Kontakt", "Ort"), *[("A", f"070-12345{i:02d}", "Lund") for i in range(9)])
    assert find_phone_column(t) == 1


def test_named_phone_column_must_exist_and_the_error_lists_the_columns() -> None:
    t = table(("Namn", "Telefon"), ("A", "0701234567"))
    assert find_phone_column(t, "telefon") == 1  # case-insensitive
    with pytest.raises(WorkbookError) as info:
        find_phone_column(t, "Mobil")
    assert "'Namn', 'Telefon'" in str(info.value)
    assert "Kontakter" in str(info.value)


def test_no_recognisable_phone_column_is_an_error_suggesting_the_option() -> None:
    t = table(("Namn", "Ort"), ("A", "Lund"))
    with pytest.raises(WorkbookError, match="--phone-column"):
        find_phone_column(t)


def test_mobile_only_turns_landlines_into_problems() -> None:
    t = table(("Namn", "Telefon"), ("A", "08-123 456 78"), ("B", "+1 650 253 0000"))
    plan = plan_of(t, mobile_only=True)
    assert [p.row for p in plan.problems] == [2]
    assert [m.to for m in plan.messages] == ["+16502530000"]
