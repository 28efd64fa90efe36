"""Cell values in message text: how a value prints, the filters, and why a value cannot be used.

:func:`format_value` writes a value as a person would (``12.0`` -> ``12``, a date as
``2026-12-01``); the filters ``date``, ``time`` and ``number`` format raw values; a value a
filter cannot use, or an empty cell that is printed, raises :class:`RowProblem`, which the
template turns into a problem of that row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NoReturn

from jinja2 import Undefined

from .table import Cell

__all__ = [
    "FILTERS",
    "EmptyCell",
    "RowProblem",
    "date_filter",
    "format_value",
    "is_empty",
    "number_filter",
    "time_filter",
]

_EXCEL_TIME_ONLY_DATES = (date(1899, 12, 30), date(1899, 12, 31))


# ---------------------------------------------------------------------------------------------
# Values as text


def format_value(value: object) -> str:
    """A cell value as a person would write it (the ``finalize`` step of every ``{{ ... }}``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Undefined):
        return str(value)  # raises for an empty cell (see EmptyCell)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _format_time(_round_time(value))
    return str(value)


def _format_float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer():
        return str(int(value))
    # 15 significant digits is what Excel keeps: a typed number comes back exactly as typed, and
    # binary noise (0.30000000000000004) disappears. Decimal avoids exponent notation.
    return format(Decimal(f"{value:.15g}"), "f")


def _round_second(value: datetime) -> datetime:
    # Excel stores times as fractions of a day; readers may hand back 14:29:59.999996.
    if value.microsecond >= 500_000:
        value += timedelta(seconds=1)
    return value.replace(microsecond=0)


def _round_time(value: time) -> time:
    return _round_second(datetime.combine(date(2000, 1, 1), value)).time()


def _format_time(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _format_datetime(value: datetime) -> str:
    value = _round_second(value)
    clock = value.time()
    if value.date() in _EXCEL_TIME_ONLY_DATES and clock != time():
        return _format_time(clock)  # a time-only Excel cell read as a datetime on day zero
    if clock == time():
        return value.date().isoformat()
    return f"{value.date().isoformat()} {_format_time(clock)}"


# ---------------------------------------------------------------------------------------------
# Empty cells and bad values (raised inside rendering, turned into FieldProblem by render)


class RowProblem(Exception):
    """A value of this row cannot be used; ``summary`` is the reason without the value."""

    def __init__(
        self, reason: str, *, column: str | None = None, value: object = None, summary: str = ""
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.value = value
        self.summary = summary


class EmptyCell(Undefined):
    """An empty cell: falsy and undefined for ``if``/``default``, an error when printed."""

    __slots__ = ("_column",)

    def __init__(self, column: str) -> None:
        super().__init__(name=column)
        self._column = column

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RowProblem(f"column {self._column!r} is empty", column=self._column)

    __str__ = _fail_with_undefined_error


def is_empty(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


# ---------------------------------------------------------------------------------------------
# Filters


def _check_defined(value: object) -> None:
    if isinstance(value, Undefined):
        str(value)  # EmptyCell raises a row problem, StrictUndefined an undefined error


def _as_date(value: object) -> date:
    _check_defined(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for parse in (date.fromisoformat, datetime.fromisoformat):
            try:
                return parse(text)
            except ValueError:
                pass
    raise RowProblem(f"{format_value(value)!r} is not a date", value=value, summary="not a date")


def _as_time(value: object) -> time | datetime:
    _check_defined(value)
    if isinstance(value, time | datetime):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise RowProblem(
        f"{format_value(value)!r} is not a time of day", value=value, summary="not a time of day"
    )


def _as_decimal(value: object) -> Decimal:
    _check_defined(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(repr(value))  # repr is the shortest exact text: 2.675 rounds to 2.68
    if isinstance(value, str):
        text = "".join(value.split()).replace("\u2212", "-")
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")  # Swedish decimal comma: "12,50"
        try:
            number = Decimal(text)
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise RowProblem(
        f"{format_value(value)!r} is not a number", value=value, summary="not a number"
    )


def date_filter(value: object, fmt: str = "%Y-%m-%d") -> str:
    """``{{ Datum|date("%d/%m") }}``: strftime on a date, datetime or ISO date text."""
    return _as_date(value).strftime(fmt)


def time_filter(value: object, fmt: str = "%H:%M") -> str:
    """``{{ Tid|time("%H.%M") }}``: strftime on a time, datetime or ISO time text."""
    return _as_time(value).strftime(fmt)


def number_filter(
    value: object, decimals: int | None = None, thousands: str = "", decimal: str = "."
) -> str:
    """``{{ Belopp|number(2, thousands=" ", decimal=",") }}`` -> ``1 234,50`` (half-up rounding)."""
    number = _as_decimal(value)
    if decimals is None:
        integral = number.to_integral_value()
        text = f"{integral:f}" if number == integral else format_value(float(number))
    else:
        text = f"{number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP):f}"
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    if thousands:
        whole = f"{int(whole):,}".replace(",", thousands)
    return sign + whole + (decimal + fraction if fraction else "")


FILTERS: dict[str, Callable[..., str]] = {
    "date": date_filter,
    "time": time_filter,
    "number": number_filter,
}
