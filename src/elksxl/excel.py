"""Desktop Excel through xlwings: worksheet functions and the ribbon's RunPython entry points.

The worksheet functions are plain callables over the same pure core as ``elksxl plan``
(:func:`elksxl.phone.normalize`, :func:`elksxl.encoding.analyze`), so a cell and the plan never
disagree. Each takes one value or a range: a scalar gives a scalar, a list (of rows) gives a
list of the same shape, so a whole column is one call. xlwings' decorators register them as
Excel functions on Windows and are no-ops elsewhere, where they stay ordinary functions.

Their parameters are annotated ``Any`` on purpose: xlwings' Windows UDF server turns an
argument's annotation into its converter, and ``Any`` is the one that passes values through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import xlwings as xw

from .encoding import analyze
from .phone import PhoneNumber, PhoneProblem, normalize
from .templating import format_value

__all__ = [
    "ELKS_E164",
    "ELKS_ENCODING",
    "ELKS_PARTS",
    "ELKS_VALID",
    "ELKS_WHY",
]

_CATEGORY: Final = "elksxl SMS"
_PHONE_DOC: Final = "a phone number cell, or a column of them"
_REGION_DOC: Final = 'country for numbers without a country code, such as "SE" or "NO"'
_TEXT_DOC: Final = "the SMS text, or a column of texts"


def _each(value: Any, function: Callable[[Any], Any]) -> Any:
    """``function`` applied to a scalar, or to every cell of a list (of rows), keeping its shape."""
    if isinstance(value, list | tuple):
        return [_each(item, function) for item in value]
    return function(value)


def _region(region: Any) -> str:
    # An empty optional argument arrives as None (or "" from an empty cell): the default.
    if region is None or (isinstance(region, str) and not region.strip()):
        return "SE"
    return str(region).strip()


def _phone(region: Any, mobile_only: Any) -> Callable[[Any], PhoneNumber | PhoneProblem]:
    wanted = _region(region)
    strict = bool(mobile_only)
    return lambda cell: normalize(cell, wanted, mobile_only=strict)


@xw.func(category=_CATEGORY)
@xw.arg("value", ndim=2, doc=_PHONE_DOC)
@xw.arg("region", doc=_REGION_DOC)
@xw.arg("mobile_only", doc="TRUE: only mobile numbers count as valid")
def ELKS_E164(value: Any, region: Any = "SE", mobile_only: Any = False) -> Any:
    """The number in international E.164 form (+46701234567), or empty text if it is not usable."""
    parse = _phone(region, mobile_only)

    def e164(cell: Any) -> str:
        number = parse(cell)
        return number.e164 if isinstance(number, PhoneNumber) else ""

    return _each(value, e164)


@xw.func(category=_CATEGORY)
@xw.arg("value", ndim=2, doc=_PHONE_DOC)
@xw.arg("region", doc=_REGION_DOC)
@xw.arg("mobile_only", doc="TRUE: only mobile numbers count as valid")
def ELKS_VALID(value: Any, region: Any = "SE", mobile_only: Any = False) -> Any:
    """TRUE when the cell holds a phone number an SMS can be sent to."""
    parse = _phone(region, mobile_only)
    return _each(value, lambda cell: isinstance(parse(cell), PhoneNumber))


@xw.func(category=_CATEGORY)
@xw.arg("value", ndim=2, doc=_PHONE_DOC)
@xw.arg("region", doc=_REGION_DOC)
@xw.arg("mobile_only", doc="TRUE: only mobile numbers count as valid")
def ELKS_WHY(value: Any, region: Any = "SE", mobile_only: Any = False) -> Any:
    """Why the cell is not a usable phone number, in words; empty text when it is one."""
    parse = _phone(region, mobile_only)

    def why(cell: Any) -> str:
        number = parse(cell)
        return number.reason if isinstance(number, PhoneProblem) else ""

    return _each(value, why)


@xw.func(category=_CATEGORY)
@xw.arg("text", ndim=2, doc=_TEXT_DOC)
def ELKS_PARTS(text: Any) -> Any:
    """How many SMS parts the text takes (0 for an empty cell)."""
    return _each(text, lambda cell: analyze(format_value(cell)).parts)


@xw.func(category=_CATEGORY)
@xw.arg("text", ndim=2, doc=_TEXT_DOC)
def ELKS_ENCODING(text: Any) -> Any:
    """How the text travels: "gsm7" (160 characters a part) or "ucs2" (70)."""
    return _each(text, lambda cell: analyze(format_value(cell)).encoding)
