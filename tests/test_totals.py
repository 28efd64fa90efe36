"""What the plan tells before anything is sent: problem groups, UCS-2, cost per country, time."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elksxl.plan import Plan, PlanOptions, Tally, build, estimated_duration, iter_plan
from elksxl.pricing import PriceTable
from elksxl.recipients import find_phone_columns
from elksxl.table import Cell, Row, Table
from elksxl.templating import compile_template

PRICES = PriceTable(currency="SEK", prices={"46": 3500, "47": 6000}, example=True)


def table(header: Sequence[str], *rows: Sequence[Cell]) -> Table:
    return Table(tuple(header), [Row(i + 2, tuple(r)) for i, r in enumerate(rows)], "Kontakter")


def plan_of(t: Table, source: str = "Hej {{ Namn }}!", **options: object) -> Plan:
    template = compile_template(source, t.header)
    return build(t, template, PlanOptions(**options), PRICES)  # type: ignore[arg-type]


def test_every_problem_row_is_grouped_by_reason() -> None:
    t = table(
        ("Namn", "Telefon"),
        ("A", "4670123456"),
        ("B", None),
        ("C", "070123"),
        ("", "0701234567"),
        ("E", None),
        ("F", "08-123 456 78"),
    )
    groups = [(g.reason, g.rows) for g in plan_of(t).problem_groups()]
    assert groups == [
        ("not a valid number for SE", (2, 4)),
        ("empty cell: no phone number", (3, 6)),
        ("column 'Namn' is empty", (5,)),
        (
            "landline number (fixed line): a landline cannot receive SMS; "
            "pass --allow-landlines to send anyway",
            (7,),
        ),
    ]
    assert plan_of(t).to_dict()["problem_groups"][0] == {
        "reason": "not a valid number for SE",
        "rows": [2, 4],
    }


def test_ucs2_messages_are_counted_and_their_rows_named() -> None:
    rows = [("O’Neill" if i % 2 else "Anna", f"07012345{i:02d}") for i in range(30)]
    plan = plan_of(table(("Namn", "Telefon"), *rows))
    assert plan.ucs2_rows == tuple(range(3, 32, 2))
    totals = plan.totals()
    assert totals["ucs2_messages"] == 15
    assert totals["ucs2_rows"] == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]  # the first ten


def test_cost_is_given_per_destination_country_and_unpriced_rows_are_named() -> None:
    t = table(
        ("Namn", "Telefon"),
        ("A", "0701234567"),
        ("x" * 200, "0702345678"),  # two parts
        ("C", "+47 412 34 567"),
        ("D", "+44 7400 123456"),
        ("E", "+44 7400 123457"),
    )
    plan = plan_of(t)
    countries = {c.country: c for c in plan.countries()}
    assert list(countries) == ["GB", "SE", "NO"]  # most messages first
    se, no, gb = countries["SE"], countries["NO"], countries["GB"]
    assert (se.calling_code, se.messages, se.parts, se.cost) == (46, 2, 3, 10500)
    assert (no.calling_code, no.cost) == (47, 6000)
    assert (gb.calling_code, gb.cost, gb.unpriced_rows) == (44, None, (5, 6))
    assert plan.unpriced_rows == (5, 6)
    data = plan.to_dict()
    assert data["unpriced_rows"] == [5, 6]
    assert data["countries"][1] == {
        "country": "SE",
        "calling_code": 46,
        "messages": 2,
        "parts": 3,
        "estimated_cost": pytest.approx(1.05),
        "currency": "SEK",
        "unpriced_rows": [],
    }


def test_numbers_of_no_country_are_grouped_by_calling_code() -> None:
    t = table(("Namn", "Telefon"), ("A", "+800 1234 5678"))
    (country,) = plan_of(t).countries()
    assert (country.country, country.calling_code) == ("+800", 800)


def test_the_estimate_is_only_given_in_the_account_currency() -> None:
    plan = plan_of(table(("Namn", "Telefon"), ("A", "0701234567")))
    assert plan.estimate_in("SEK") == 3500
    assert plan.estimate_in("sek") == 3500
    assert plan.estimate_in("EUR") is None
    assert plan.estimate_in(None) is None


@pytest.mark.parametrize(
    ("messages", "rate", "seconds"),
    [(100, 100, 60.0), (150, 100, 90.0), (1, 60, 1.0), (0, 100, 0.0), (500, 0, 0.0)],
)
def test_estimated_duration_is_messages_at_the_rate(
    messages: int, rate: float, seconds: float
) -> None:
    assert estimated_duration(messages, rate) == pytest.approx(seconds)


def test_a_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        estimated_duration(10, -1)


def test_plan_duration_counts_only_the_messages() -> None:
    t = table(("Namn", "Telefon"), ("A", "0701234567"), ("B", "abc"), ("C", "0702345678"))
    assert plan_of(t).duration(60) == pytest.approx(2.0)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**6), st.floats(0.1, 10**5), st.integers(1, 1000))
def test_duration_grows_with_messages_and_shrinks_with_the_rate(
    messages: int, rate: float, more: int
) -> None:
    assert estimated_duration(messages + more, rate) > estimated_duration(messages, rate)
    assert estimated_duration(messages + more, rate * 2) < estimated_duration(messages + more, rate)


cells = st.sampled_from(
    ["0701234567", "070-123 45 67", "+47 412 34 567", "+44 7911 123456", "abc", None, "08-1234567"]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "", "Ö’"]), cells), max_size=15))
def test_a_streamed_tally_adds_up_to_the_same_totals_as_the_plan(
    rows: list[tuple[str, Cell]],
) -> None:
    t = table(("Namn", "Telefon"), *rows)
    template = compile_template("Hej {{ Namn }}!", t.header)
    phone = find_phone_columns(t, ("Telefon",))
    tally = Tally(phone.label, PRICES.currency, phone_columns=phone.headers)
    for item in iter_plan(t, iter(t.rows), template, PlanOptions(), PRICES, phone=phone):
        tally.add(item)
    expected = build(t, template, PlanOptions(phone_column="Telefon"), PRICES).totals()
    assert tally.totals() == expected


def test_rows_with_values_a_filter_cannot_use_are_grouped_by_column_and_reason() -> None:
    t = table(
        ("Namn", "Telefon", "Datum"),
        ("A", "0701234567", "imorgon"),
        ("B", "0702345678", "snart"),
        ("C", "0703456789", "2026-12-01"),
    )
    plan = plan_of(t, 'Hej {{ Namn }}, {{ Datum|date("%d/%m") }}')
    assert [p.reason for p in plan.problems] == ["'imorgon' is not a date", "'snart' is not a date"]
    groups = [(g.reason, g.rows) for g in plan.problem_groups()]
    assert groups == [("column 'Datum': not a date", (2, 3))]
