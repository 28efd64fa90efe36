"""Placeholders as people write them: ``{{ First name }}`` and other tools' ``{Name}`` forms."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elksxl.errors import TemplateError
from elksxl.placeholders import find_lookalikes, rewrite_spaced_names
from elksxl.table import Cell
from elksxl.templating import FieldProblem, compile_template

HEADERS = ("Förnamn", "First name", "Telefon", "Datum", "Titel")
ROW: tuple[Cell, ...] = ("Anna", "Ann", "0701234567", "2026-12-01", None)


def render(source: str, headers: tuple[str, ...] = HEADERS, **options: bool) -> str | FieldProblem:
    return compile_template(source, headers, **options).render(ROW)


def compile_error(source: str, **options: bool) -> str:
    with pytest.raises(TemplateError) as caught:
        compile_template(source, HEADERS, name="msg.txt", **options)
    return str(caught.value)


# --- {{ First name }} -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Hi {{ First name }}!", "Hi Ann!"),
        ("Hi {{first name}}!", "Hi Ann!"),
        ("Hi {{ FIRST   NAME }}!", "Hi Ann!"),
        ("Hi {{- First name -}} !", "HiAnn!"),
        ("Hi {{ First name|default('you') }}!", "Hi Ann!"),
    ],
)
def test_a_header_with_spaces_is_read_as_that_column(source: str, expected: str) -> None:
    assert render(source) == expected


def test_a_header_with_spaces_is_read_in_a_condition() -> None:
    source = "{% if Last name %}A{% elif First name %}B{% endif %}"
    assert compile_template(source, ("Last name", "First name")).render((None, "Ann")) == "B"
    assert "unknown placeholder 'Frist name'" in compile_error("{% if Frist name %}x{% endif %}")


def test_a_header_with_spaces_takes_filters() -> None:
    assert render("{{ First name|upper }} {{ First name | lower }}") == "ANN ann"


def test_a_header_with_spaces_keeps_the_fast_path() -> None:
    template = compile_template("Hi {{ First name }}!", HEADERS)
    assert template._plain is not None
    assert template.fields == ("First name",)


def test_an_empty_cell_behind_a_spaced_name_is_a_problem_of_that_column() -> None:
    result = compile_template("{{ Last name }}", ("Last name",)).render((None,))
    assert isinstance(result, FieldProblem)
    assert result.column == "Last name"


def test_unknown_spaced_name_is_an_error_suggesting_the_header() -> None:
    message = compile_error("Hej!\nHi {{ Frist name }}!")
    assert "line 2: unknown placeholder 'Frist name'" in message
    assert "did you mean {{ First name }}" in message
    assert "'Telefon'" in message  # the columns are listed


def test_unknown_placeholder_suggests_the_spaced_spelling_people_write() -> None:
    assert "did you mean {{ First name }}" in compile_error("Hi {{ first_nam }}")


def test_line_numbers_of_later_errors_are_not_moved_by_the_rewrite() -> None:
    message = compile_error("{{ First name }}\n{{ First name }}\n{{ Tidpunkt }}")
    assert "line 3: unknown placeholder 'Tidpunkt'" in message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{{ Titel if Titel else "kund" }}', "kund"),
        ("{{ Förnamn if Förnamn }}", "Anna"),
        ("{{ not Titel }}", "TRUE"),
        ("{{ Förnamn is defined }}", "TRUE"),
        ('{{ "x" in Förnamn }}', "FALSE"),
        ('{% set x = "{{ First name }}" %}{{ x }}', "{{ First name }}"),
        ("{{ Förnamn ~ ' ' ~ Titel|default('') }}", "Anna "),
        ("{% raw %}{{ Frist name }}{% endraw %}", "{{ Frist name }}"),
        ("{# {{ Frist name }} #}ok", "ok"),
        ('{{ "{{ First name }}" }}', "{{ First name }}"),
    ],
)
def test_real_jinja_expressions_are_left_as_they_are(source: str, expected: str) -> None:
    assert render(source) == expected


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.text(alphabet="{}%#-|\"' abif\n", max_size=60)))
def test_rewriting_without_a_matching_header_never_changes_the_source(source: str) -> None:
    rewritten, _ = rewrite_spaced_names(source, lambda words: None, str)
    assert rewritten == source


words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäöABCÅÄÖ", min_size=1, max_size=6),
    min_size=2,
    max_size=4,
).filter(lambda ws: not {"and", "or", "not", "in", "is", "if", "else"} & set(ws))


@settings(max_examples=200, deadline=None)
@given(words, st.text(max_size=12))
def test_any_spaced_header_renders_like_its_row_lookup(parts: list[str], value: str) -> None:
    header = " ".join(parts)
    spaced = compile_template("{{ " + header + " }}", (header,))
    lookup = compile_template('{{ row["' + header + '"] }}', (header,))
    assert spaced.render((value,)) == lookup.render((value,))
    assert dataclasses.replace(spaced, _plain=None).render((value,)) == lookup.render((value,))


# --- look-alikes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["{Förnamn}", "[Förnamn]", "<<Förnamn>>", "%Förnamn%", "$Förnamn"]
)
def test_another_tools_placeholder_for_a_column_is_refused(token: str) -> None:
    message = compile_error(f"Hej {token}, välkommen!")
    assert f"line 1: {token!r} looks like a placeholder: write {{{{ Förnamn }}}}" in message
    assert "--literal" in message


@pytest.mark.parametrize(
    ("text", "token", "spelling"),
    [
        ("Hi {first name}!", "{first name}", "{{ First name }}"),
        ("Hi [FÖRNAMN]", "[FÖRNAMN]", "{{ Förnamn }}"),
        ("Hi $First name, welcome", "$First name", "{{ First name }}"),
        ("50% rabatt, %titel%", "%titel%", "{{ Titel }}"),
        ("Rad ett\nHej {{ Förnamn }} <<Datum>>", "<<Datum>>", "{{ Datum }}"),
    ],
)
def test_lookalikes_match_headers_ignoring_case_and_spaces(
    text: str, token: str, spelling: str
) -> None:
    message = compile_error(text)
    assert f"{token!r} looks like a placeholder: write {spelling}" in message


def test_every_lookalike_is_reported_with_its_line() -> None:
    message = compile_error("Hej {Förnamn}\n\nDatum: [Datum]")
    assert "line 1: '{Förnamn}'" in message
    assert "line 3: '[Datum]'" in message


@pytest.mark.parametrize(
    "text",
    ["50% off, 20% more", "Only $5 today", "See [1] and {x}", "<<Nyhet>>", "Pris: 100 $", "{}"],
)
def test_text_that_names_no_column_is_not_a_lookalike(text: str) -> None:
    assert render(text) == text


def test_literal_sends_a_lookalike_as_written() -> None:
    assert render("Hej {Förnamn} och {{ Förnamn }}", literal=True) == "Hej {Förnamn} och Anna"


def test_a_lookalike_inside_a_jinja_string_is_not_literal_text() -> None:
    assert render('{{ "[Förnamn]"|length }}') == "9"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60).filter(lambda t: not set(t) & set("{}[]<>%$#")))
def test_text_without_placeholder_marks_is_never_a_lookalike(text: str) -> None:
    assert list(find_lookalikes(text, 1, lambda name: name)) == []
