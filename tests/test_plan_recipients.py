"""Who the plan sends to: landlines, shared numbers, several phone columns, Excel's apostrophe."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elksxl.errors import WorkbookError
from elksxl.plan import Plan, PlanOptions, build, find_phone_column, find_phone_columns
from elksxl.pricing import PriceTable
from elksxl.recipients import Recipients
from elksxl.table import Cell, Row, Table
from elksxl.templating import compile_template

PRICES = PriceTable(currency="SEK", prices={"46": 3500}, example=True)


def table(header: Sequence[str], *rows: Sequence[Cell]) -> Table:
    return Table(tuple(header), [Row(i + 2, tuple(r)) for i, r in enumerate(rows)], "Kontakter")


def plan_of(t: Table, source: str = "Hej {{ Namn }}!", **options: object) -> Plan:
    template = compile_template(source, t.header)
    return build(t, template, PlanOptions(**options), PRICES)  # type: ignore[arg-type]


# --- landlines --------------------------------------------------------------------------------


def test_a_landline_is_a_problem_by_default_with_the_reason_in_words() -> None:
    t = table(("Namn", "Telefon"), ("A", "08-123 456 78"), ("B", "0701234567"))
    plan = plan_of(t)
    assert [m.row for m in plan.messages] == [3]
    (problem,) = plan.problems
    assert (problem.row, problem.column, problem.value) == (2, "Telefon", "08-123 456 78")
    assert "landline cannot receive SMS" in problem.reason
    assert "--allow-landlines" in problem.reason


def test_allow_landlines_sends_to_a_landline() -> None:
    t = table(("Namn", "Telefon"), ("A", "08-123 456 78"))
    assert [m.to for m in plan_of(t, allow_landlines=True).messages] == ["+46812345678"]


def test_numbers_of_uncertain_kind_are_sent_by_default() -> None:
    t = table(("Namn", "Telefon"), ("A", "+1 650 253 0000"), ("B", "+46201234567"))
    assert [m.to for m in plan_of(t).messages] == ["+16502530000", "+46201234567"]


def test_mobile_only_stays_stricter_than_allow_landlines() -> None:
    t = table(("Namn", "Telefon"), ("A", "08-123 456 78"), ("B", "+46201234567"))
    plan = plan_of(t, mobile_only=True, allow_landlines=True)
    assert [p.row for p in plan.problems] == [2, 3]


# --- duplicates and shared numbers --------------------------------------------------------------


def test_one_phone_two_people_gets_both_messages_and_the_plan_lists_the_number() -> None:
    t = table(
        ("Namn", "Telefon"),
        ("Alva", "070-123 45 67"),
        ("Bo", "0701234567"),
        ("Alva", "+46701234567"),
        ("Cia", "0702345678"),
    )
    plan = plan_of(t)
    assert [m.row for m in plan.messages] == [2, 3, 5]
    assert [(d.row, d.first_row) for d in plan.duplicates] == [(4, 2)]
    assert "row 2" in plan.duplicates[0].reason
    assert [(s.to, s.rows) for s in plan.shared_numbers] == [("+46701234567", (2, 3))]
    assert plan.messages[1].shares_number_with == 2
    assert plan.to_dict()["shared_numbers"] == [{"to": "+46701234567", "rows": [2, 3]}]


def test_one_per_number_restores_one_message_per_number() -> None:
    t = table(("Namn", "Telefon"), ("Alva", "0701234567"), ("Bo", "070-123 45 67"))
    plan = plan_of(t, one_per_number=True)
    assert [m.row for m in plan.messages] == [2]
    (duplicate,) = plan.duplicates
    assert (duplicate.row, duplicate.first_row, duplicate.same_text) == (3, 2, False)
    assert "row 2" in duplicate.reason
    assert "one message per number" in duplicate.reason
    assert plan.shared_numbers == ()


def test_a_row_already_sent_with_another_text_does_not_stop_a_new_text() -> None:
    t = table(
        ("Namn", "Telefon", "SMS status"),
        ("Alva", "0701234567", "sent"),
        ("Bo", "0701234567", None),
        ("Alva", "0701234567", None),
    )
    plan = plan_of(t)
    assert [m.row for m in plan.messages] == [3]
    assert [(d.row, d.first_row) for d in plan.duplicates] == [(4, 2)]


names = st.sampled_from(["Alva", "Bo", "Cia"])
numbers = st.sampled_from(["0701234567", "070-123 45 67", "+46702345678", "0703456789"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(names, numbers), max_size=12), st.booleans())
def test_no_number_ever_gets_the_same_text_twice_and_every_row_is_accounted_for(
    rows: list[tuple[str, str]], one_per_number: bool
) -> None:
    plan = plan_of(table(("Namn", "Telefon"), *rows), one_per_number=one_per_number)
    sent = [(m.to, m.text) for m in plan.messages]
    assert len(sent) == len(set(sent))
    if one_per_number:
        assert len({m.to for m in plan.messages}) == len(plan.messages)
    assert len(plan.messages) + len(plan.duplicates) == len(rows)
    if not one_per_number:  # then every distinct (number, text) is sent
        national = {(number.replace("-", "").replace(" ", "")[-9:], name) for name, number in rows}
        assert len(plan.messages) == len(national)


# --- phone columns ------------------------------------------------------------------------------


def test_several_phone_columns_first_non_empty_wins_per_row() -> None:
    t = table(
        ("Namn", "Mobil", "Hem"),
        ("A", "0701234567", "0702345678"),
        ("B", None, "0703456789"),
        ("C", "  ", "0704567890"),
        ("D", "abc", "0705678901"),  # the first non-empty cell is read, even when it is bad
        ("E", None, None),
    )
    plan = plan_of(t, phone_columns=("Mobil", "Hem"))
    assert [m.to[-4:] for m in plan.messages] == ["4567", "6789", "7890"]
    assert [(p.row, p.column) for p in plan.problems] == [(5, "Mobil"), (6, "Mobil, Hem")]
    assert "'Mobil' or 'Hem'" in plan.problems[1].reason
    assert (plan.phone_column, plan.phone_columns) == ("Mobil, Hem", ("Mobil", "Hem"))


def test_phone_column_is_the_one_column_form_of_phone_columns() -> None:
    assert PlanOptions(phone_column="Hem").phone_columns == ("Hem",)
    both = PlanOptions(phone_column="Hem", phone_columns=("Mobil",))
    assert both.phone_columns == ("Hem", "Mobil")


def test_a_found_column_says_that_another_phone_column_exists() -> None:
    t = table(
        ("Namn", "Mobil", "Hemtelefon", "Ort"),
        ("A", "0701234567", "08-123 456 78", "Lund"),
        ("B", "0702345678", None, "Lund"),
    )
    plan = plan_of(t)
    assert (plan.phone_column, plan.other_phone_columns) == ("Mobil", ("Hemtelefon",))
    assert plan.to_dict()["other_phone_columns"] == ["Hemtelefon"]


def test_an_empty_phone_like_column_is_not_mentioned() -> None:
    t = table(("Namn", "Mobil", "Hemtelefon"), ("A", "0701234567", None))
    assert plan_of(t).other_phone_columns == ()


def test_named_columns_are_all_checked_and_mention_no_others() -> None:
    t = table(("Namn", "Mobil", "Hem"), ("A", "0701234567", "0702345678"))
    assert find_phone_columns(t, ("hem", "MOBIL")).headers == ("Hem", "Mobil")
    assert find_phone_columns(t, ("Mobil",)).others == ()
    with pytest.raises(WorkbookError, match="no column 'Jobb'"):
        find_phone_columns(t, ("Mobil", "Jobb"))
    assert find_phone_column(t, "Hem") == 2


# --- Excel's text marker ----------------------------------------------------------------------


def test_a_number_pasted_with_a_leading_apostrophe_is_sent() -> None:
    t = table(("Namn", "Telefon"), ("A", "'0703333333"))
    assert [m.to for m in plan_of(t).messages] == ["+46703333333"]


# --- Recipients, against the plain model it stands for --------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["+461", "+462", "+463"]), st.none() | st.sampled_from("abc")),
        max_size=20,
    ),
    st.booleans(),
)
def test_recipients_answer_as_a_plain_record_of_every_number_and_text(
    given_texts: list[tuple[str, str | None]], one_per_number: bool
) -> None:
    recipients = Recipients(one_per_number=one_per_number)
    first_row: dict[str, int] = {}
    first_row_of_text: dict[tuple[str, str], int] = {}
    for row, (number, text) in enumerate(given_texts, start=2):
        expected = first_row.get(number)
        if not one_per_number and text is not None:
            expected = first_row_of_text.get((number, text))
        assert recipients.duplicate_of(number, text) == expected
        assert recipients.shared_with(number) == first_row.get(number)
        recipients.add(number, text, row)
        first_row.setdefault(number, row)
        if text is not None:
            first_row_of_text.setdefault((number, text), row)
