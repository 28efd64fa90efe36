"""The pane's text counter and the workbook's custom functions, on the same core as the plan.

``=ELKS.E164(value, [region])``, ``=ELKS.VALID(value, [region])``, ``=ELKS.PARTS(text)`` and
``=ELKS.ENCODING(text)`` arrive batched; each call gets a value or ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..encoding import analyze, smart_replace
from ..errors import ConfigError, InputError
from ..phone import PhoneProblem, normalize

__all__ = ["MAX_CALLS", "call_functions", "text_info"]

MAX_CALLS = 20_000


def text_info(text: str) -> dict[str, Any]:
    """Encoding, length, parts and the UCS-2 characters of a message, and its smart version."""
    info = analyze(text)
    smart = smart_replace(text)
    return {
        "encoding": info.encoding,
        "length": info.length,
        "parts": info.parts,
        "ucs2_chars": list(info.ucs2_chars),
        "smart_text": smart,
        "smart_parts": analyze(smart).parts,
    }


def call_functions(calls: object, default_region: str) -> list[object]:
    """The result of every call, in order; InputError when the batch itself is malformed."""
    if not isinstance(calls, list):
        raise InputError('"calls" must be a list of {"name": ..., "args": [...]}')
    if len(calls) > MAX_CALLS:
        raise InputError(f"at most {MAX_CALLS} calls per batch")
    return [_call(c, default_region) for c in calls]


def _call(call: object, default_region: str) -> object:
    if not isinstance(call, dict):
        return {"error": "not a function call"}
    name, args = call.get("name"), call.get("args") or []
    function = _FUNCTIONS.get(str(name).upper())
    if function is None or not isinstance(args, list) or not args:
        return {"error": f"unknown function or missing argument: {name!r}"}
    try:
        return function(args, default_region)
    except ConfigError as exc:
        return {"error": exc.message}


def _region(args: Sequence[Any], default: str) -> str:
    region = args[1] if len(args) > 1 and args[1] not in (None, "") else default
    return str(region).upper()


def _e164(args: Sequence[Any], region: str) -> object:
    number = normalize(_value(args[0]), _region(args, region))
    return {"error": number.reason} if isinstance(number, PhoneProblem) else number.e164


def _valid(args: Sequence[Any], region: str) -> object:
    return not isinstance(normalize(_value(args[0]), _region(args, region)), PhoneProblem)


def _parts(args: Sequence[Any], _: str) -> object:
    return analyze(_text(args[0])).parts


def _encoding(args: Sequence[Any], _: str) -> object:
    return analyze(_text(args[0])).encoding


def _value(value: Any) -> Any:
    if isinstance(value, list):  # a one-cell range arrives as [[value]]
        while isinstance(value, list) and value:
            value = value[0]
    return None if value in ("", []) else value


def _text(value: Any) -> str:
    value = _value(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)


_FUNCTIONS: dict[str, Callable[[Sequence[Any], str], object]] = {
    "E164": _e164,
    "VALID": _valid,
    "PARTS": _parts,
    "ENCODING": _encoding,
}
