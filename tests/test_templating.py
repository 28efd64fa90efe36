"""Message templates: placeholders, compile-time errors, value rendering, filters, sandbox."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elksxl.errors import TemplateError
from elksxl.table import Cell
from elksxl.templating import (
    FieldProblem,
    MessageTemplate,
    compile_template,
    field_name,
    format_value,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
CAMPAIGN_HEADERS = (
    "Förnamn",
    "Efternamn",
    "Telefon",
    "Datum",
    "Tid",
    "Klinik",
    "Belopp",
    "Förfallodag",
    "Evenemang",
    "Plats",
)
CAMPAIGN_ROW: tuple[Cell, ...] = (
    "Anna",
    "Svensson",
    "070-123 45 67",
    datetime(2026, 12, 1),  # Excel dates arrive as midnight datetimes
    time(14, 30),
    "Tandläkarhuset Söder",
    1250.0,
    datetime(2026, 12, 15),
    "Jesienny piknik",
    "Park Łazienkowski",
)
HEADERS = ("Förnamn", "First name", "Telefon", "Belopp", "Datum", "Titel")


def render(source: str, **cells: Cell) -> str | FieldProblem:
    """Compile ``source`` against the keys of ``cells`` (in order) and render their values."""
    template = compile_template(source, list(cells))
    return template.render(list(cells.values()))


def compile_error(source: str, headers: tuple[str, ...] = HEADERS) -> str:
    with pytest.raises(TemplateError) as caught:
        compile_template(source, headers, name="reminder.txt")
    return str(caught.value)


# --- field names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("First name", "first_name"),
        ("Förnamn", "förnamn"),
        ("  E-post (arbete) ", "e_post_arbete"),
        ("Belopp, kr", "belopp_kr"),
        ("already_normal", "already_normal"),
        ("Fo\u0308rnamn", "förnamn"),  # decomposed ö, as macOS may type it
        ("---", ""),
    ],
)
def test_field_name_normalizes_headers(header: str, expected: str) -> None:
    assert field_name(header) == expected


# --- the three ways to name a column ----------------------------------------------------------


def test_identifier_header_is_a_placeholder() -> None:
    assert render("Hej {{ Förnamn }}!", Förnamn="Anna") == "Hej Anna!"


def test_any_header_is_reachable_through_row() -> None:
    template = compile_template('Hi {{ row["First name"] }}', HEADERS)
    assert template.render(["x", "Bo", None, None, None, None]) == "Hi Bo"


def test_row_get_with_a_quoted_header_works() -> None:
    template = compile_template('Hi {{ row.get("First name") }}', HEADERS)
    assert template.render(["x", "Bo", None, None, None, None]) == "Hi Bo"


def test_normalized_name_reaches_a_header_with_spaces() -> None:
    template = compile_template("Hi {{ first_name }}", HEADERS)
    assert template.render(["x", "Bo", None, None, None, None]) == "Hi Bo"


def test_placeholder_matches_a_header_whatever_its_case() -> None:
    assert render("{{ FÖRNAMN }} {{ förnamn }}", Förnamn="Anna") == "Anna Anna"


def test_exact_header_wins_over_a_normalized_match() -> None:
    template = compile_template("{{ Namn }}/{{ namn }}", ["namn", "Namn"])
    assert template.render(["lower", "Upper"]) == "Upper/lower"


def test_fields_lists_used_headers_in_header_order() -> None:
    template = compile_template('{{ Titel }} {{ row["First name"] }} {{ förnamn }}', HEADERS)
    assert template.fields == ("Förnamn", "First name", "Titel")


def test_template_without_placeholders_uses_no_fields() -> None:
    template = compile_template("Välkommen!", HEADERS)
    assert template.fields == ()
    assert template.render([None] * len(HEADERS)) == "Välkommen!"


def test_jinja_globals_stay_usable() -> None:
    assert render("{% for i in range(3) %}{{ i }}{% endfor %}", X="x") == "012"


def test_loop_and_set_variables_are_not_columns() -> None:
    source = '{% set greeting = "Hej" %}{{ greeting }} {{ Förnamn }}'
    assert render(source, Förnamn="Anna") == "Hej Anna"


# --- compile-time errors ----------------------------------------------------------------------


def test_unknown_placeholder_names_it_suggests_closest_and_lists_headers() -> None:
    message = compile_error("Hej {{ Fornamn }}!")
    assert "reminder.txt" in message
    assert "line 1" in message
    assert "unknown placeholder 'Fornamn'" in message
    assert "did you mean {{ Förnamn }}" in message
    for header in HEADERS:
        assert repr(header) in message


def test_unknown_placeholder_reports_its_line() -> None:
    message = compile_error("Hej {{ Förnamn }}!\n\nDin tid: {{ Tidpunkt }}")
    assert "line 3: unknown placeholder 'Tidpunkt'" in message


def test_every_unknown_placeholder_is_reported_at_once() -> None:
    message = compile_error("{{ Alfa }} {{ Beta }}")
    assert "'Alfa'" in message
    assert "'Beta'" in message


def test_unknown_row_key_suggests_the_header_in_row_syntax() -> None:
    message = compile_error('{{ row["Frist name"] }}')
    assert "unknown column 'Frist name'" in message
    assert 'row["First name"]' in message


def test_row_needs_a_quoted_header() -> None:
    assert 'row["Column name"]' in compile_error("{{ row[Förnamn] }}")
    assert 'row["Column name"]' in compile_error("{{ row }}")
    assert 'row["Column name"]' in compile_error("{% for k in row %}{{ k }}{% endfor %}")


def test_placeholder_matching_two_headers_is_ambiguous() -> None:
    message = compile_error("{{ first_name }}", ("First name", "first-name"))
    assert "'First name' and 'first-name'" in message


def test_table_without_headers_says_so() -> None:
    assert "no column headers" in compile_error("{{ x }}", ())


def test_syntax_error_names_template_line_and_problem() -> None:
    message = compile_error("Hej!\nDin tid {{ Datum }\n")
    assert message.startswith("reminder.txt: line 2")
    assert "Din tid {{ Datum }" in message
    assert "unexpected '}'" in message


def test_unclosed_block_is_a_syntax_error() -> None:
    message = compile_error("{% if Titel %}Hej\n")
    assert "line" in message
    assert "endif" in message


def test_unknown_filter_is_refused_with_a_suggestion() -> None:
    message = compile_error("{{ Förnamn|uper }}")
    assert "no filter named 'uper'" in message
    assert "'upper'" in message


def test_include_is_refused() -> None:
    assert "not supported" in compile_error('{% include "other.txt" %}')


# --- empty values -----------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [None, "", "   ", "\n"])
def test_empty_value_is_a_field_problem_naming_the_column(empty: Cell) -> None:
    template = compile_template('Hej {{ Förnamn }} {{ row["First name"] }}', HEADERS)
    result = template.render(["Anna", empty, None, None, None, None])
    assert isinstance(result, FieldProblem)
    assert result.column == "First name"
    assert "First name" in result.reason
    assert "empty" in result.reason


def test_unused_empty_columns_do_not_matter() -> None:
    template = compile_template("Hej {{ Förnamn }}", HEADERS)
    assert template.render(["Anna", None, None, None, None, None]) == "Hej Anna"


def test_missing_trailing_values_count_as_empty() -> None:
    result = compile_template("{{ Titel }}", HEADERS).render(["Anna"])
    assert result == FieldProblem("Titel", "column 'Titel' is empty")


def test_template_may_test_an_optional_column() -> None:
    template = compile_template("Hej{% if Titel %} {{ Titel }}{% endif %} {{ Förnamn }}", HEADERS)
    assert template.render(["Anna", None, None, None, None, None]) == "Hej Anna"
    assert template.render(["Anna", None, None, None, None, "dr"]) == "Hej dr Anna"


def test_default_filter_fills_an_empty_column() -> None:
    template = compile_template('Hej {{ Förnamn|default("kund") }}', HEADERS)
    assert template.render([" ", None, None, None, None, None]) == "Hej kund"


def test_empty_column_in_a_filter_is_still_a_problem() -> None:
    result = compile_template('{{ Datum|date("%d/%m") }}', HEADERS).render(["A"])
    assert isinstance(result, FieldProblem)
    assert result.column == "Datum"


# --- values as text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12, "12"),
        (12.0, "12"),
        (-0.0, "0"),
        (46701234567.0, "46701234567"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333333333333"),
        (1234567.89, "1234567.89"),
        (0.00001, "0.00001"),
        (1e20, "100000000000000000000"),
        (True, "TRUE"),
        (False, "FALSE"),
        (date(2026, 12, 1), "2026-12-01"),
        (datetime(2026, 12, 1), "2026-12-01"),
        (datetime(2026, 12, 1, 14, 30), "2026-12-01 14:30"),
        (datetime(2026, 12, 1, 14, 30, 5), "2026-12-01 14:30:05"),
        (datetime(2026, 12, 1, 14, 29, 59, 999_996), "2026-12-01 14:30"),
        (datetime(1899, 12, 30, 14, 30), "14:30"),  # a time-only Excel cell
        (time(14, 30), "14:30"),
        (time(8, 5, 9), "08:05:09"),
        ("  Anna\n", "Anna"),
    ],
)
def test_values_render_as_a_person_writes_them(value: Cell, text: str) -> None:
    assert render("{{ X }}", X=value) == text


def test_format_value_is_the_same_rule_outside_templates() -> None:
    assert format_value(12.0) == "12"
    assert format_value(datetime(2026, 12, 1, 9, 0)) == "2026-12-01 09:00"


def test_text_is_kept_as_written_except_one_final_newline() -> None:
    source = "Rad ett\n  indragen rad  \n\n"
    assert compile_template(source, ()).render(()) == "Rad ett\n  indragen rad  \n"


def test_block_tags_do_not_leave_blank_lines() -> None:
    source = "Hej\n{% if Titel %}\n{{ Titel }}\n{% endif %}\nHejdå\n"
    assert render(source, Titel="dr") == "Hej\ndr\nHejdå"


def test_text_is_not_html_escaped() -> None:
    assert render("{{ X }}", X="Tom & Jerry <3") == "Tom & Jerry <3"


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value", "text"),
    [
        ('{{ X|date("%d/%m") }}', datetime(2026, 12, 1), "01/12"),
        ('{{ X|date("%d.%m.%Y") }}', date(2026, 12, 1), "01.12.2026"),
        ("{{ X|date }}", "2026-12-01", "2026-12-01"),
        ('{{ X|date("%d/%m %H.%M") }}', "2026-12-01T09:15", "01/12 09.15"),
        ('{{ X|time("%H.%M") }}', time(14, 30), "14.30"),
        ("{{ X|time }}", datetime(2026, 12, 1, 9, 5), "09:05"),
        ("{{ X|time }}", "14:30:00", "14:30"),
        ("{{ X|number(2) }}", 1250, "1250.00"),
        ("{{ X|number(2) }}", 2.675, "2.68"),
        ("{{ X|number(0) }}", 2.5, "3"),
        ('{{ X|number(2, thousands=" ", decimal=",") }}', 1234567.5, "1 234 567,50"),
        ('{{ X|number(thousands=",") }}', -1234567, "-1,234,567"),
        ("{{ X|number }}", 0.1 + 0.2, "0.3"),
        ("{{ X|number }}", 12.0, "12"),
        ("{{ X|number(2) }}", "1 234,5", "1234.50"),
        ("{{ X|upper }}", "anna", "ANNA"),
        ("{{ X|round(1) }}", 2.34, "2.3"),
        ("{{ X * 2 }}", 1.5, "3"),
    ],
)
def test_filters(source: str, value: Cell, text: str) -> None:
    assert render(source, X=value) == text


@pytest.mark.parametrize(
    ("source", "value", "reason"),
    [
        ("{{ X|date }}", "snart", "'snart' is not a date"),
        ("{{ X|time }}", 14, "'14' is not a time of day"),
        ("{{ X|number(2) }}", "ca 500", "'ca 500' is not a number"),
        ("{{ X|number }}", True, "'TRUE' is not a number"),
    ],
)
def test_filter_on_a_wrong_value_is_a_field_problem(source: str, value: Cell, reason: str) -> None:
    template = compile_template(source, ["Namn", "X"])
    result = template.render(["Anna", value])
    assert isinstance(result, FieldProblem)
    assert (result.column, result.reason) == ("X", reason)
    assert result.summary == "column 'X': " + reason.split(" is ", 1)[1]  # without the value


def test_filters_receive_raw_values_not_rendered_text() -> None:
    # finalize would print 12.0 as "12"; the filter must still see the float
    assert render("{{ X|number(1) }} {{ X is number }}", X=12.0) == "12.0 TRUE"


def test_failing_expression_on_one_row_is_a_field_problem() -> None:
    template = compile_template("{{ Belopp + 1 }}", HEADERS)
    assert template.render([None, None, None, 1, None, None]) == "2"
    problem = template.render([None, None, None, "tio", None, None])
    assert isinstance(problem, FieldProblem)
    assert problem.column == "Belopp"


# --- sandbox ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ Förnamn.__class__ }}",
        "{{ Förnamn.__class__.__mro__[1].__subclasses__() }}",
        "{{ row.__class__ }}",
        '{{ Förnamn|attr("__class__") }}',
        "{{ range.__globals__ }}",
    ],
)
def test_private_attributes_are_refused_at_compile_time(source: str) -> None:
    message = compile_error(source)
    assert "not allowed" in message or 'row["Column name"]' in message


@pytest.mark.parametrize(
    "source",
    [
        '{{ "{0.__class__}".format(Förnamn) }}',
        '{{ Förnamn|attr("_" ~ "_class__") }}',
    ],
)
def test_sandbox_refusal_at_render_time_is_a_template_error(source: str) -> None:
    template = compile_template(source, HEADERS, name="evil.txt")
    with pytest.raises(TemplateError, match=r"evil\.txt: not allowed: .*unsafe"):
        template.render(["Anna", None, None, None, None, None])


def test_templates_cannot_mutate_values() -> None:
    template = compile_template("{% set xs = [1] %}{{ xs.append(2) }}{{ xs }}", ())
    with pytest.raises(TemplateError, match="not allowed"):
        template.render(())


def test_compiled_template_is_immutable() -> None:
    template = compile_template("{{ Förnamn }}", HEADERS)
    with pytest.raises(AttributeError):
        template.fields = ("Telefon",)  # type: ignore[misc]
    assert isinstance(template, MessageTemplate)


# --- shipped templates ------------------------------------------------------------------------


# Two SMS parts hold 2 x 153 GSM-7 characters, or 2 x 67 UCS-2 units (Polish ł forces UCS-2).
@pytest.mark.parametrize(
    ("file", "fields", "expected", "two_parts"),
    [
        (
            "appointment-reminder.sv.txt",
            ("Förnamn", "Datum", "Tid", "Klinik"),
            "Hej Anna! Påminnelse om din tid hos Tandläkarhuset Söder 2026-12-01 kl 14:30.",
            306,
        ),
        (
            "payment-reminder.en.txt",
            ("Förnamn", "Klinik", "Belopp", "Förfallodag"),
            "your invoice of 1250.00 SEK is due on 2026-12-15.",
            306,
        ),
        (
            "event-invitation.pl.txt",
            ("Förnamn", "Datum", "Tid", "Evenemang", "Plats"),
            "Zapraszamy na „Jesienny piknik”. Miejsce: Park Łazienkowski, 01.12.2026, godz. 14:30.",
            134,
        ),
    ],
)
def test_shipped_template_renders_a_campaign_row(
    file: str, fields: tuple[str, ...], expected: str, two_parts: int
) -> None:
    source = (TEMPLATES / file).read_text("utf-8")
    template = compile_template(source, CAMPAIGN_HEADERS, name=file)
    text = template.render(CAMPAIGN_ROW)
    assert template.fields == fields
    assert isinstance(text, str)
    assert expected in text
    assert "\n" not in text
    assert len(text) <= two_parts


def test_shipped_templates_are_all_tested() -> None:
    assert sorted(p.name for p in TEMPLATES.glob("*.txt")) == [
        "appointment-reminder.sv.txt",
        "event-invitation.pl.txt",
        "payment-reminder.en.txt",
    ]


# --- properties -------------------------------------------------------------------------------


@given(st.text().filter(lambda text: text.strip() != ""))
def test_any_text_value_renders_as_itself_without_surrounding_whitespace(text: str) -> None:
    assert render("{{ col }}", col=text) == text.strip()


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_typed_in_excel_renders_back_to_the_same_number(value: float) -> None:
    typed = float(f"{value:.15g}")  # Excel keeps 15 significant digits
    text = render("{{ X }}", X=typed)
    assert isinstance(text, str)
    assert "e" not in text.lower()
    assert float(text) == typed


_CELLS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.tuples(_CELLS, _CELLS),
    literal=st.text(max_size=20).filter(
        lambda t: "{" not in t and "}" not in t and "%" not in t and "#" not in t
    ),
)
def test_plain_templates_render_exactly_as_jinja_does(
    values: tuple[object, object], literal: str
) -> None:
    # literal=True: the text may hold "[a]" or "$A", which are not under test here
    template = compile_template(
        f"{literal}{{{{ A }}}} and {{{{ b_c }}}} {{{{ B c }}}}!", ["A", "B c"], literal=True
    )
    assert template._plain is not None  # the fast path is in use
    through_jinja = dataclasses.replace(template, _plain=None)
    assert template.render(values) == through_jinja.render(values)  # type: ignore[arg-type]
