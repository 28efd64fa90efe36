"""Phone numbers: a spreadsheet cell becomes an E.164 recipient, or a reason a person understands.

Excel damage (floats, scientific notation, dates) is detected before parsing and either undone
exactly or reported; nothing is guessed. Parsing and validation are phonenumbers'.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Final

import phonenumbers as pn

from .errors import ConfigError
from .table import Cell

__all__ = [
    "PhoneNumber",
    "PhoneProblem",
    "calling_code",
    "destination",
    "looks_like_phone",
    "normalize",
]


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid recipient."""

    e164: str  # "+46701234567"
    kind: str  # phonenumbers type in lowercase: "mobile", "fixed_line_or_mobile", ...
    region: str | None  # region code of the number ("SE"); None for non-geographic numbers


@dataclass(frozen=True, slots=True)
class PhoneProblem:
    """Why a cell is not a usable recipient, as a sentence for the person who owns the sheet.

    ``summary`` is the same reason without the cell's own value ("not a valid number for SE"),
    so that a plan can group rows that fail for the same reason; "" when ``reason`` has none.
    """

    reason: str
    summary: str = ""

    @property
    def group(self) -> str:
        """The reason shared by every cell that fails this way."""
        return self.summary or self.reason


_T = pn.PhoneNumberType
_KINDS: Final[dict[int, str]] = {
    getattr(_T, name): name.lower()
    for name in (
        "FIXED_LINE",
        "MOBILE",
        "FIXED_LINE_OR_MOBILE",
        "TOLL_FREE",
        "PREMIUM_RATE",
        "SHARED_COST",
        "VOIP",
        "PERSONAL_NUMBER",
        "PAGER",
        "UAN",
        "VOICEMAIL",
        "UNKNOWN",
    )
}
# Fixed-line-or-mobile must pass: NANP (+1) and some other plans cannot tell them apart.
_SMS_KINDS: Final = frozenset({_T.MOBILE, _T.FIXED_LINE_OR_MOBILE})
_NOT_MOBILE: Final[dict[int, str]] = {
    _T.FIXED_LINE: "landline number (fixed line)",
    _T.TOLL_FREE: "toll-free number",
    _T.PREMIUM_RATE: "premium-rate number",
    _T.SHARED_COST: "shared-cost number",
    _T.VOIP: "VoIP number",
    _T.PERSONAL_NUMBER: "personal (forwarding) number",
    _T.PAGER: "pager number",
    _T.UAN: "company switchboard number (UAN)",
    _T.VOICEMAIL: "voicemail access number",
}

# Which kinds of valid number normalize accepts (a string: it is part of the parse cache key).
_ANY: Final = "any"
_NO_LANDLINES: Final = "no landlines"
_MOBILE_ONLY: Final = "mobile only"
_LANDLINE: Final = PhoneProblem(
    "landline number (fixed line): a landline cannot receive SMS; "
    "pass --allow-landlines to send anyway"
)

_EMPTY: Final = PhoneProblem("empty cell: no phone number")
_NO_DIGITS: Final = PhoneProblem("no digits: not a phone number")
_LOST_DIGITS: Final = (
    "shown in scientific notation ({text}), so Excel has lost the last digits: "
    "format the phone column as Text and type or paste the numbers again"
)
_LOST_DIGITS_SUMMARY: Final = "scientific notation: Excel has lost the last digits"
_TWO_NUMBERS: Final = PhoneProblem(
    "two or more phone numbers in one cell: keep one number per cell (or one per row)"
)

# Only ASCII digits, at most a leading plus: nothing to clean, go straight to phonenumbers.
_PLAIN: Final = re.compile(r"\+?[0-9]{1,17}")
_SCIENTIFIC: Final = re.compile(r"[+-]?(\d+)(?:[.,](\d*))?[eE]([+-]?\d+)")
# "46701234567.0" is a float written out as text (CSV export, pandas): the ".0" is not a digit.
_FLOAT_TEXT: Final = re.compile(r"(\+?[0-9]{6,})[.,]0+")
_EXTENSION: Final = re.compile(r"(?i)(?:\b(?:ext|extn|ankn|anknytning)\b\.?|(?<=[\d\s])x|#)\s*\d")
_ISO_DATE: Final = re.compile(r"\d{4}-\d\d-\d\d(?:$|[ T])")  # a date typed as text
_SEPARATOR_CHARS: Final = re.compile(r"[/\n\r]")  # the separators that are phone characters
_SEPARATORS: Final = re.compile(r"(?i)[;,/|&\n\r]|\b(?:or|eller|och|and)\b")
# Characters phonenumbers reads as phone punctuation; "~" is left out on purpose because
# phonenumbers silently cuts the number there.
_PUNCTUATION: Final = frozenset(
    "+\uff0b-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d.\uff0e()\uff08\uff09[]/"
)
_PHONE_CHARS: Final = re.compile(r"[\s\d" + re.escape("".join(sorted(_PUNCTUATION))) + "]+")
_DIGIT: Final = re.compile(r"\d")
_NON_DIGITS: Final = re.compile(r"\D+")
_MIN_DIGITS_PER_NUMBER: Final = 7  # shortest whole number in a cell, e.g. 08-12 34 5
_MAX_DIGITS: Final = 17  # E.164 allows 15, plus a 00 prefix or a trunk 0 written out


def normalize(
    value: Cell, region: str = "SE", *, mobile_only: bool = False, allow_landlines: bool = False
) -> PhoneNumber | PhoneProblem:
    """Turn a cell value into a recipient, or say why it is not one.

    ``region`` is the default region for numbers written without a country code.

    Which kinds of valid number pass: a landline (FIXED_LINE) cannot receive SMS, so it is a
    problem unless ``allow_landlines``; numbers whose kind is uncertain (FIXED_LINE_OR_MOBILE,
    as everywhere in +1) and the other kinds pass. ``mobile_only`` is stricter and wins over
    ``allow_landlines``: only MOBILE and FIXED_LINE_OR_MOBILE pass.

    A leading apostrophe (``'0701234567``) is Excel's text marker, pasted along from text
    exports, not part of the number.

    Excel damage: a float with an integral value is the integer it holds (``46701234567.0``),
    as is the same text; text in scientific notation whose mantissa is shorter than the
    number (``4.67012E+10``) has lost digits and is a problem.

    Extensions (``ext 12``, ``x12``, ``#12``) are problems, not stripped: an SMS cannot reach
    an extension, and a number written with one is usually a switchboard.

    Raises ConfigError when ``region`` is not a region code phonenumbers knows.
    """
    region = _check_region(region)
    accept = _MOBILE_ONLY if mobile_only else _ANY if allow_landlines else _NO_LANDLINES
    if value is None:
        return _EMPTY
    if isinstance(value, bool):  # before int: bool is an int subclass
        return PhoneProblem(
            f"a TRUE/FALSE value ({value}), not a phone number",
            "a TRUE/FALSE value, not a phone number",
        )
    if isinstance(value, int):
        return _from_int(value, region, accept)
    if isinstance(value, float):
        return _from_float(value, region, accept)
    if isinstance(value, str):
        return _from_text(value, region, accept)
    if isinstance(value, datetime | date | time):
        return PhoneProblem(
            "a date or time, not a phone number: Excel may have read the number as a date; "
            "format the column as Text and type the number again"
        )
    return PhoneProblem(f"a {type(value).__name__} value, not a phone number")  # pragma: no cover


def looks_like_phone(value: Cell) -> bool:
    """Cheap test: could this cell be a phone number? Used to find the phone column by content.

    True for text of digits and phone punctuation with 7-16 digits (also the Excel-damaged
    forms ``46701234567.0`` and ``4.67012E+10``) and for whole numbers of 7-16 digits.
    """
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return 10**6 <= value < 10**16
    if isinstance(value, float):
        return value.is_integer() and 1e6 <= value < 1e16
    if not isinstance(value, str):
        return False
    text = _strip(value)
    if not text or len(text) > 40 or _ISO_DATE.match(text):
        return False
    if _SCIENTIFIC.fullmatch(text):
        magnitude = abs(float(text.replace(",", ".")))
        return 1e6 <= magnitude < 1e16
    if float_text := _FLOAT_TEXT.fullmatch(text):
        text = float_text.group(1)
    digits = 0
    for char in text:
        if char.isdecimal():
            digits += 1
        elif not (char in _PUNCTUATION or char.isspace()):
            return False
    return 7 <= digits <= 16


def _check_region(region: str) -> str:
    upper = region.upper()
    if upper not in pn.SUPPORTED_REGIONS:
        raise ConfigError(
            f"unknown phone region {region!r}: use a two-letter country code such as SE, NO or GB"
        )
    return upper


def _from_int(value: int, region: str, accept: str) -> PhoneNumber | PhoneProblem:
    if value <= 0:
        return PhoneProblem(f"the number {value} is not a phone number", "not a phone number")
    return _from_text(str(value), region, accept)


def _from_float(value: float, region: str, accept: str) -> PhoneNumber | PhoneProblem:
    if not math.isfinite(value):
        return PhoneProblem("not a number, not a phone number")
    if not value.is_integer():
        return PhoneProblem(
            f"a number with decimals ({value:g}), not a phone number: "
            "format the column as Text and type the number again",
            "a number with decimals, not a phone number",
        )
    # A float cell holds the exact integer Excel stored (15 significant digits cover E.164).
    return _from_int(int(value), region, accept)


# Values repeat (the same people, the same formats) but most are unique in a large list: a
# small cache catches the repeats without holding tens of MB for 100,000 distinct numbers.
@lru_cache(maxsize=1 << 12)
def _from_text(text: str, region: str, accept: str) -> PhoneNumber | PhoneProblem:
    text = _strip(text)
    if not text:
        return _EMPTY
    if _PLAIN.fullmatch(text):
        return _parse(text, region, accept)
    cleaned = _clean(text)
    if isinstance(cleaned, PhoneProblem):
        return cleaned
    return _parse(cleaned, region, accept)


def _strip(text: str) -> str:
    """The text without surrounding whitespace and without Excel's leading text marker."""
    text = text.strip()
    return text[1:].strip() if text.startswith("'") else text


def _clean(text: str) -> str | PhoneProblem:
    """Undo exact Excel damage and reject what is not one plain phone number."""
    if _PHONE_CHARS.fullmatch(text):  # the common case: digits and punctuation only
        if "." in text and (float_text := _FLOAT_TEXT.fullmatch(text)):
            return float_text.group(1)
        if _SEPARATOR_CHARS.search(text) and _several_numbers(text):
            return _TWO_NUMBERS
        return _count_problem(text) or _compact(text)
    if scientific := _SCIENTIFIC.fullmatch(text):
        return _from_scientific(scientific)
    if float_text := _FLOAT_TEXT.fullmatch(text):  # "46701234567,0" from a comma locale
        return float_text.group(1)
    return _explain(text)


def _compact(text: str) -> str:
    """The digits and a leading plus: what phonenumbers reads from such text, but cheaper to parse.

    phonenumbers drops the same punctuation (also a "(0)" trunk, which is only digits to it),
    so the result is identical; it also lets differently written numbers share the cache.
    """
    first_digit = _DIGIT.search(text)
    if first_digit is None:
        return text
    head, rest = text[: first_digit.start()], text[first_digit.start() :]
    if "+" in rest or "\uff0b" in rest:  # a plus after digits: leave it to phonenumbers
        return text
    plus = "+" if "+" in head or "\uff0b" in head else ""
    return plus + _NON_DIGITS.sub("", rest)


def _explain(text: str) -> PhoneProblem:
    """The reason a text with letters or other non-phone characters is not a number."""
    count_problem = _count_problem(text)
    if count_problem is _NO_DIGITS:
        return count_problem
    if _several_numbers(text):
        return _TWO_NUMBERS
    if count_problem is not None:
        return count_problem
    if _EXTENSION.search(text):
        return PhoneProblem(
            "has an extension: SMS cannot reach an extension; put a mobile number in the cell"
        )
    letters = "".join(dict.fromkeys(char for char in text if char.isalpha()))
    if letters:
        return PhoneProblem(
            f"contains letters ({letters!r}) besides the number: keep only the number in the cell",
            "contains letters besides the number",
        )
    odd = "".join(
        dict.fromkeys(
            char
            for char in text
            if not (char.isdecimal() or char.isspace() or char in _PUNCTUATION)
        )
    )
    return PhoneProblem(
        f"contains characters that do not belong in a phone number ({odd!r})",
        "contains characters that do not belong in a phone number",
    )


def _several_numbers(text: str) -> bool:
    pieces = _SEPARATORS.split(text)
    return sum(_digit_count(piece) >= _MIN_DIGITS_PER_NUMBER for piece in pieces) >= 2


def _count_problem(text: str) -> PhoneProblem | None:
    digits = _digit_count(text)
    if digits == 0:
        return _NO_DIGITS
    if digits > _MAX_DIGITS:
        return PhoneProblem(
            f"{digits} digits is too many for one phone number: two numbers in one cell? "
            "Keep one number per cell",
            "too many digits for one phone number",
        )
    return None


def _from_scientific(match: re.Match[str]) -> str | PhoneProblem:
    """Exact when the mantissa still shows every digit of the number, else the digits are lost."""
    text = match.group()
    whole, fraction, _ = match.groups()
    value = Decimal(text.replace(",", "."))
    shown = len((whole + (fraction or "")).lstrip("0"))
    if value > 0 and value == value.to_integral_value():
        integer = str(int(value))
        if shown >= len(integer):
            return integer
    return PhoneProblem(_LOST_DIGITS.format(text=text), _LOST_DIGITS_SUMMARY)


def _digit_count(text: str) -> int:
    return sum(map(str.isdecimal, text))


_PARSE_ERRORS: Final[dict[int, str]] = {
    pn.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code after + or 00",
    pn.NumberParseException.NOT_A_NUMBER: "not a phone number",
    pn.NumberParseException.TOO_SHORT_AFTER_IDD: "too short: only a few digits after 00",
    pn.NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    pn.NumberParseException.TOO_LONG: "too long to be a phone number",
}


@lru_cache(maxsize=1 << 12)
def _parse(text: str, region: str, accept: str) -> PhoneNumber | PhoneProblem:
    try:
        number = pn.parse(text, region)
    except pn.NumberParseException as exc:
        return PhoneProblem(_PARSE_ERRORS.get(exc.error_type, "not a phone number"))
    if number.extension:  # "," or ";ext=" forms that slipped past _clean
        return PhoneProblem("has an extension: SMS cannot reach an extension")
    # number_type is UNKNOWN exactly when is_valid_number is False, so one lookup does both.
    kind = pn.number_type(number)
    e164 = pn.format_number(number, pn.PhoneNumberFormat.E164)
    if kind == _T.UNKNOWN:
        return _invalid(number, e164, text)
    if accept == _MOBILE_ONLY and kind not in _SMS_KINDS:
        what = _NOT_MOBILE.get(kind, "not a mobile number")
        return PhoneProblem(f"{what}: SMS cannot reach it (only mobile numbers are allowed)")
    if accept == _NO_LANDLINES and kind == _T.FIXED_LINE:
        return _LANDLINE
    code = pn.region_code_for_number(number)
    return PhoneNumber(e164, _KINDS[kind], code if code and code != "001" else None)


def _invalid(number: pn.PhoneNumber, e164: str, text: str) -> PhoneProblem:
    code = number.country_code or 0
    where = pn.region_code_for_country_code(code)
    where = f"+{code}" if where in ("ZZ", "001") else where
    possible = pn.is_possible_number_with_reason(number)
    digits = len(e164) - 1 - len(str(code))
    if possible == pn.ValidationResult.TOO_SHORT:
        summary = f"too short for {where}"
        return PhoneProblem(f"{summary}: {digits} digits after the country code", summary)
    if possible == pn.ValidationResult.TOO_LONG:
        summary = f"too long for {where}"
        return PhoneProblem(f"{summary}: {digits} digits after the country code", summary)
    summary = f"not a valid number for {where}"
    if text.isdigit() and not text.startswith("0") and (hint := _as_international(text)):
        # Excel drops the 00 before a foreign number: say what it would be, but do not guess.
        return PhoneProblem(
            f"{summary} ({e164}); with + in front it is {hint}: "
            "if that is meant, write it with + and format the column as Text",
            summary,
        )
    return PhoneProblem(f"{summary} ({e164}): a digit missing or too many?", summary)


def _as_international(digits: str) -> str | None:
    try:
        number = pn.parse("+" + digits, None)
    except pn.NumberParseException:
        return None
    if not pn.is_valid_number(number):
        return None
    code = pn.region_code_for_number(number)
    e164 = pn.format_number(number, pn.PhoneNumberFormat.E164)
    return f"{e164} ({code})" if code and code != "001" else e164


def destination(number: PhoneNumber) -> str:
    """Where a number goes, for grouping costs: its region ("SE"), else "+" and its calling code."""
    if number.region is not None:
        return number.region
    return f"+{pn.parse(number.e164, None).country_code}"


def calling_code(destination: str) -> int:
    """The calling code of a :func:`destination`: "SE" -> 46, "+882" -> 882, unknown -> 0."""
    if destination.startswith("+"):
        return int(destination[1:])
    return pn.country_code_for_region(destination)
