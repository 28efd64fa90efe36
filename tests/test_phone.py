"""Phone cells -> E.164 or a reason: the reference table, Excel damage, mobile-only, properties."""

from __future__ import annotations

from datetime import date, datetime, time

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elksxl.errors import ConfigError
from elksxl.phone import (
    PhoneNumber,
    PhoneProblem,
    calling_code,
    destination,
    looks_like_phone,
    normalize,
)
from elksxl.table import Cell

SE_MOBILE = "+46701234567"


def problem(
    value: Cell, region: str = "SE", *, mobile_only: bool = False, allow_landlines: bool = False
) -> str:
    result = normalize(value, region, mobile_only=mobile_only, allow_landlines=allow_landlines)
    assert isinstance(result, PhoneProblem), f"{value!r} was accepted as {result}"
    return result.reason


def accepted(
    value: Cell, region: str = "SE", *, mobile_only: bool = False, allow_landlines: bool = False
) -> PhoneNumber:
    result = normalize(value, region, mobile_only=mobile_only, allow_landlines=allow_landlines)
    assert isinstance(result, PhoneNumber), f"{value!r}: {result}"
    return result


@pytest.mark.parametrize(
    ("value", "region", "e164"),
    [
        ("070-123 45 67", "SE", SE_MOBILE),
        ("0701234567", "SE", SE_MOBILE),
        ("70 123 45 67", "SE", SE_MOBILE),
        ("+46 (0)70 123 45 67", "SE", SE_MOBILE),
        ("+46 (0)70-123 45 67", "SE", SE_MOBILE),
        ("0046 (0)70 123 45 67", "SE", SE_MOBILE),
        ("+46 070 123 45 67", "SE", SE_MOBILE),
        ("0046701234567", "SE", SE_MOBILE),
        ("46701234567", "SE", SE_MOBILE),
        ("46-70-123 45 67", "SE", SE_MOBILE),
        (701234567, "SE", SE_MOBILE),  # Excel dropped the leading 0
        (46701234567, "SE", SE_MOBILE),
        (46701234567.0, "SE", SE_MOBILE),  # never +46467012345670
        ("46701234567.0", "SE", SE_MOBILE),
        ("46701234567,0", "SE", SE_MOBILE),  # the same from a comma-decimal locale
        ("4.6701234567E+10", "SE", SE_MOBILE),  # scientific, but every digit still shown
        ("\uff0b46701234567", "SE", SE_MOBILE),  # full-width plus
        ("\u2212 070-1234567", "SE", SE_MOBILE),  # minus sign
        ("070\u2013123\u201445\u201067", "SE", SE_MOBILE),  # en dash, em dash, hyphen
        ("070.123.45.67", "SE", SE_MOBILE),
        ("(+46) 70 123 45 67", "SE", SE_MOBILE),
        ("\u00a0070 123 45 67\t", "SE", SE_MOBILE),  # no-break space and tab around
        ("\uff10\uff17\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17", "SE", SE_MOBILE),
        ("07911 123456", "GB", "+447911123456"),
        ("+1 650 253 0000", "SE", "+16502530000"),
        ("+45 20 12 34 56", "SE", "+4520123456"),
        ("0171/1234567", "DE", "+491711234567"),  # a slash inside one number is not two numbers
        ("08-123 456 78", "SE", "+46812345678"),
        ("46123456", "SE", "+4646123456"),  # Lund 046-12 34 56, as phonenumbers reads it
    ],
)
def test_common_formats_normalize_to_e164(value: Cell, region: str, e164: str) -> None:
    # The formats are the point here; two of the numbers are landlines, allowed on purpose.
    assert accepted(value, region, allow_landlines=True).e164 == e164


def test_result_carries_kind_and_region_of_the_number() -> None:
    assert normalize("070-123 45 67") == PhoneNumber(SE_MOBILE, "mobile", "SE")
    landline = PhoneNumber("+46812345678", "fixed_line", "SE")
    assert normalize("08-123 456 78", allow_landlines=True) == landline
    assert normalize("+1 650 253 0000") == PhoneNumber("+16502530000", "fixed_line_or_mobile", "US")
    assert normalize("+800 1234 5678") == PhoneNumber("+80012345678", "toll_free", None)


def test_default_region_decides_national_numbers() -> None:
    assert isinstance(normalize("07911 123456", "SE"), PhoneProblem)
    assert accepted("07911 123456", "gb").e164 == "+447911123456"  # region is case-insensitive


def test_unknown_region_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="XX"):
        normalize("0701234567", "XX")


@pytest.mark.parametrize("value", ["4.67012E+10", "4,67012E+10", "4.67E10", "1E+10"])
def test_scientific_notation_text_with_lost_digits_asks_for_text_format(value: str) -> None:
    reason = problem(value)
    assert "scientific notation" in reason
    assert "Text" in reason


def test_float_with_integral_value_is_converted_exactly() -> None:
    # A float cell holds exact digits even when Excel displays it as 4.67012E+10.
    assert accepted(4.67012e10).e164 == "+46701200000"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1.5, "decimals"),
        (46701234567.5, "decimals"),
        (float("nan"), "not a number"),
        (float("inf"), "not a number"),
        (True, "TRUE/FALSE"),
        (False, "TRUE/FALSE"),
        (-701234567, "not a phone number"),
        (0, "not a phone number"),
        (date(2024, 5, 1), "date"),
        (datetime(2024, 5, 1, 12, 0), "date"),
        (time(7, 1), "date or time"),
    ],
)
def test_cells_that_are_not_numbers_get_a_reason(value: Cell, words: str) -> None:
    assert words in problem(value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "empty"),
        ("", "empty"),
        ("   \u00a0 ", "empty"),
        ("abc", "no digits"),
        ("N/A", "no digits"),
        ("070-123 45 67 / 08-123 456 78", "two or more"),
        ("070-123 45 67; 08-123 456 78", "two or more"),
        ("070-123 45 67, 08-123 456 78", "two or more"),
        ("070-123 45 67 or 08-123 456 78", "two or more"),
        ("070-123 45 67 eller 08-123 456 78", "two or more"),
        ("070-123 45 67\n08-123 456 78", "two or more"),
        ("0701234567 0812345678", "too many"),
        ("+46701234567 ext 12", "extension"),
        ("070 123 45 67 x12", "extension"),
        ("+46701234567#12", "extension"),
        ("070-123 45 67 (mobil)", "letters ('mobil')"),
        ("07O-1234567", "letters ('O')"),
        ("070~1234567", "do not belong"),
        ("+46 70", "too short"),
        ("12", "too short"),
        ("+4670123456789012", "too long"),
        ("00999123456", "country code"),
        ("0046", "too short"),
        ("4670123456", "not a valid number for SE"),  # one digit missing
        ("070123", "not a valid number for SE"),
        ("+1 111 111 1111", "not a valid number for US"),
    ],
)
def test_text_that_is_not_one_valid_number_gets_a_reason(value: Cell, words: str) -> None:
    assert words in problem(value)


def test_each_kind_of_non_number_has_its_own_reason() -> None:
    reasons = {
        problem("abc"),
        problem(None),
        problem("070-123 45 67 / 08-123 456 78"),
        problem("+46701234567 ext 12"),
        problem("4.67012E+10"),
        problem("4670123456"),
    }
    assert len(reasons) == 6


def test_number_that_lost_its_00_gets_a_hint_but_is_not_guessed() -> None:
    reason = problem(14255550177)  # was 0014255550177 before Excel
    assert "+14255550177" in reason
    assert "write it with +" in reason


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("08-123 456 78", "landline"),
        ("+4681234567", "landline"),
        ("+46201234567", "toll-free"),
        ("+46900123456", "premium-rate"),
        ("+46771123456", "shared-cost"),
        ("+46101234567", "switchboard"),
    ],
)
def test_mobile_only_rejects_numbers_sms_cannot_reach(value: str, words: str) -> None:
    assert words in problem(value, mobile_only=True)
    assert words in problem(value, mobile_only=True, allow_landlines=True)  # mobile-only wins
    # valid when mobile-only is off (a landline only when landlines are allowed too)
    assert isinstance(normalize(value, allow_landlines=True), PhoneNumber)


@pytest.mark.parametrize("value", ["070-123 45 67", "+1 650 253 0000", "+45 20 12 34 56"])
def test_mobile_only_accepts_mobile_and_fixed_line_or_mobile(value: str) -> None:
    assert accepted(value, mobile_only=True).kind in ("mobile", "fixed_line_or_mobile")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("070-123 45 67", True),
        ("+46 (0)70 123 45 67", True),
        ("0046701234567", True),
        ("46701234567.0", True),
        ("4.67012E+10", True),
        (701234567, True),
        (46701234567.0, True),
        ("abc", False),
        ("Anna Berg", False),
        ("070-123 45 67 (mobil)", False),
        ("12", False),
        (123456, False),
        (12.5, False),
        (True, False),
        (None, False),
        ("", False),
        ("2024-05-01", False),
        (date(2024, 5, 1), False),
        ("12345678901234567", False),
        ("'0703333333", True),  # Excel's text marker, pasted from a text export
    ],
)
def test_looks_like_phone(value: Cell, expected: bool) -> None:
    assert looks_like_phone(value) is expected


# --- properties -------------------------------------------------------------------------------

REGIONS = ("SE", "NO", "DK", "FI", "DE", "GB", "US")
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.text(alphabet="0123456789 +-().,/xeE", max_size=25),
    st.dates(),
    st.datetimes(),
    st.times(),
)
phone_like = st.builds(
    lambda prefix, digits, separator: prefix + separator.join(digits),
    st.sampled_from(["", "0", "+", "00", "+46", "0046", "+46 (0)", "+1", "+44", "+49"]),
    st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), min_size=2, max_size=5),
    st.sampled_from(["", " ", "-", ".", " - "]),
)
swedish_mobile = st.builds(
    lambda series, rest, form: form.format(series + rest[:3], rest[3:5], rest[5:]),
    st.sampled_from(["70", "72", "73", "76", "79"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.sampled_from(["0{}-{} {}", "+46 {} {} {}", "0046{}{}{}", "+46 (0){} {}{}", "46{}{}{}"]),
)


@settings(max_examples=200, deadline=None)
@given(cells, st.sampled_from(REGIONS), st.booleans(), st.booleans())
def test_normalize_never_raises_on_any_cell(
    value: Cell, region: str, mobile_only: bool, allow_landlines: bool
) -> None:
    result = normalize(value, region, mobile_only=mobile_only, allow_landlines=allow_landlines)
    assert isinstance(result, PhoneNumber | PhoneProblem)
    if isinstance(result, PhoneProblem):
        assert result.reason
        assert result.group


@settings(max_examples=200, deadline=None)
@given(st.one_of(phone_like, swedish_mobile), st.sampled_from(REGIONS), st.booleans())
def test_accepted_numbers_are_valid_and_normalize_to_themselves(
    value: str, region: str, mobile_only: bool
) -> None:
    result = normalize(value, region, mobile_only=mobile_only)
    if isinstance(result, PhoneProblem):
        return
    parsed = phonenumbers.parse(result.e164, None)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == result.e164
    for other_region in ("SE", "US"):
        assert normalize(result.e164, other_region, mobile_only=mobile_only) == result


punctuated = st.builds(
    lambda prefix, digits, separator: prefix + separator.join(digits),
    st.sampled_from(["", "+", "00", "\uff0b", "(+46) ", "+46 (0)", "\u2212 "]),
    st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), min_size=2, max_size=5),
    st.sampled_from([" ", "-", "\u2013", " (", ") ", "  "]),
)


@settings(max_examples=200, deadline=None)
@given(punctuated, st.sampled_from(REGIONS))
def test_punctuated_numbers_get_the_same_verdict_as_from_phonenumbers(
    value: str, region: str
) -> None:
    try:
        parsed = phonenumbers.parse(value, region)
        valid = phonenumbers.is_valid_number(parsed)
    except phonenumbers.NumberParseException:
        valid = False
    result = normalize(value, region, allow_landlines=True)
    assert isinstance(result, PhoneNumber) == valid
    if valid:
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        assert result == normalize(e164, region, allow_landlines=True)


@settings(max_examples=200, deadline=None)
@given(swedish_mobile)
def test_swedish_mobiles_in_any_common_format_are_accepted(value: str) -> None:
    result = accepted(value, mobile_only=True)
    digits = "".join(char for char in value if char.isdigit())
    assert result.e164 == "+46" + digits[-9:]


# --- landlines --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["08-123 456 78", "+4681234567", "046-12 34 56", "020 7946 0000"])
def test_a_landline_is_a_problem_by_default_saying_sms_cannot_reach_it(value: str) -> None:
    region = "GB" if value.startswith("020") else "SE"
    reason = problem(value, region)
    assert "landline" in reason
    assert "cannot receive SMS" in reason
    assert "--allow-landlines" in reason


def test_allow_landlines_accepts_a_landline_as_a_fixed_line_number() -> None:
    assert accepted("08-123 456 78", allow_landlines=True).kind == "fixed_line"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("+1 650 253 0000", "fixed_line_or_mobile"),  # +1 cannot tell landlines from mobiles
        ("+46201234567", "toll_free"),
        ("+46771123456", "shared_cost"),
        ("070-123 45 67", "mobile"),
    ],
)
def test_numbers_that_are_not_certainly_landlines_pass_by_default(value: str, kind: str) -> None:
    assert accepted(value).kind == kind


@settings(max_examples=300, deadline=None)
@given(st.one_of(phone_like, swedish_mobile), st.sampled_from(REGIONS))
def test_by_default_exactly_the_fixed_line_numbers_are_refused(value: str, region: str) -> None:
    allowed = normalize(value, region, allow_landlines=True)
    default = normalize(value, region)
    if isinstance(allowed, PhoneNumber) and allowed.kind == "fixed_line":
        assert isinstance(default, PhoneProblem)
        assert "--allow-landlines" in default.reason
    else:
        assert default == allowed


# --- Excel's text marker ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["'0703333333", " '070-333 33 33", "'+46703333333", "' 0703333333"]
)
def test_a_leading_apostrophe_is_the_excel_text_marker_not_part_of_the_number(value: str) -> None:
    assert accepted(value).e164 == "+46703333333"


def test_an_apostrophe_inside_the_number_is_still_a_problem() -> None:
    assert "do not belong" in problem("070'3333333")


@settings(max_examples=200, deadline=None)
@given(st.one_of(phone_like, swedish_mobile), st.sampled_from(REGIONS))
def test_a_leading_apostrophe_never_changes_the_verdict(value: str, region: str) -> None:
    assert normalize("'" + value, region) == normalize(value, region)


# --- grouping and destinations ----------------------------------------------------------------


def test_problems_of_the_same_kind_share_a_group_without_the_cell_value() -> None:
    first = normalize("4670123456")
    second = normalize("070123")
    assert isinstance(first, PhoneProblem)
    assert isinstance(second, PhoneProblem)
    assert first.reason != second.reason
    assert first.group == second.group == "not a valid number for SE"
    letters = [normalize(v) for v in ("070 (mobil)", "070-1234567 hem")]
    assert {p.group for p in letters if isinstance(p, PhoneProblem)} == {
        "contains letters besides the number"
    }


def test_a_problem_without_a_value_in_its_reason_is_its_own_group() -> None:
    empty = normalize(None)
    assert isinstance(empty, PhoneProblem)
    assert empty.group == empty.reason


def test_destination_is_the_region_or_the_calling_code_of_a_number_without_one() -> None:
    assert destination(accepted("070-123 45 67")) == "SE"
    assert destination(accepted("+1 650 253 0000")) == "US"
    assert destination(accepted("+800 1234 5678")) == "+800"
    assert (calling_code("SE"), calling_code("US"), calling_code("+800")) == (46, 1, 800)
