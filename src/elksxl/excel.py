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

import asyncio
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import xlwings as xw

from .campaign import Outcome, Prepared, SendResult, Session, read_template
from .config import Settings
from .encoding import analyze
from .errors import ElksxlError, TemplateError
from .phone import PhoneNumber, PhoneProblem, normalize
from .plan import Plan
from .pricing import to_currency
from .sheets.xlbook import Selection, named_value, read_selection
from .sheets.xlsink import RangeResultSink
from .table import RESULT_COLUMNS, STATUS_COLUMN, Row, RowResult, Table
from .templating import format_value

__all__ = [
    "ELKS_E164",
    "ELKS_ENCODING",
    "ELKS_PARTS",
    "ELKS_VALID",
    "ELKS_WHY",
    "check_selection",
    "send_selection",
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


# ---------------------------------------------------------------------------------------------
# RunPython entry points (the ribbon's Check and Send). Thin over campaign.Session.

_TITLE: Final = "SMS"
ERROR_COLUMN: Final = RESULT_COLUMNS[4]
_CONFIG_KEYS: Final = ("ELKS_", "ELKSXL_")


def check_selection(
    book: Any = None, *, confirm: bool = True, environ: Mapping[str, str] | None = None
) -> str | None:
    """Plan the selected rows; write problem reasons into ``SMS error``; return the summary.

    Reasons an earlier check wrote on rows that are no longer problems are cleared. ``book``
    None is the workbook that called (``xw.Book.caller()``). With ``confirm`` the summary, or
    an error, is shown in a dialog; without it errors are raised.
    """
    book = book if book is not None else xw.Book.caller()
    try:
        return _check(book, confirm, environ)
    except ElksxlError as error:
        if not confirm:
            raise
        book.app.alert(str(error), title=_TITLE, mode="critical")
        return None


def send_selection(
    book: Any = None, *, confirm: bool = True, environ: Mapping[str, str] | None = None
) -> SendResult | None:
    """Send the message to the selected rows; results fill in beside them.

    A second call on the same rows resumes: the campaign id is kept in the workbook and the
    journal knows what left. With ``confirm`` the count and cost are confirmed in a dialog
    first (None if declined) and the outcome is shown; without it errors are raised.
    """
    book = book if book is not None else xw.Book.caller()
    try:
        return _send(book, confirm, environ)
    except ElksxlError as error:
        if not confirm:
            raise
        book.app.alert(str(error), title=_TITLE, mode="critical")
        return None


def _check(book: Any, confirm: bool, environ: Mapping[str, str] | None) -> str:
    selection = read_selection(book)
    settings = Settings.from_env(environ if environ is not None else user_environ())
    with Session(settings) as session:
        message, name = _message(book)
        prepared = session.prepare(selection.table, message, message_name=name)
        balance = session.check_balance(prepared, asyncio.run(session.account()), force=True)
    reasons = _reasons(prepared.plan)
    stale = _stale_reasons(selection.table, reasons)
    if reasons or stale:  # a clean sheet gets no result columns from a check
        sink = RangeResultSink(book, selection.table)
        for row, reason in reasons.items():
            sink.set(row, RowResult(error=reason))
        for row in stale:
            sink.set(row, RowResult(error=""))
        sink.save()
    summary = _summary(selection, prepared, balance)
    if confirm:
        book.app.alert(summary, title=f"{_TITLE}: check")
    return summary


def _send(book: Any, confirm: bool, environ: Mapping[str, str] | None) -> SendResult | None:
    selection = read_selection(book)
    settings = Settings.from_env(environ if environ is not None else user_environ())
    sender = named_value(book, "SMS_From")
    with Session(settings) as session:
        message, name = _message(book)
        prepared = session.prepare(selection.table, message, message_name=name)
        balance = session.check_balance(prepared, asyncio.run(session.account()))
        if confirm:
            question = _summary(selection, prepared, balance) + "\n\nSend now?"
            answer = book.app.alert(question, title=f"{_TITLE}: send", buttons="ok_cancel")
            if answer != "ok":
                return None
        sink = RangeResultSink(book, selection.table, save_book=_has_file(book))
        result = asyncio.run(
            session.send(
                prepared,
                sink,
                sender=format_value(sender).strip() or None,
                save_in_thread=False,  # the workbook's objects belong to this thread
            )
        )
    if confirm:
        book.app.alert(_outcome(result), title=f"{_TITLE}: {result.outcome}")
    return result


def _reasons(plan: Plan) -> dict[int, str]:
    """Why each row of the plan will not be sent: problems and duplicates."""
    reasons = {problem.row: problem.reason for problem in plan.problems}
    reasons.update((duplicate.row, duplicate.reason) for duplicate in plan.duplicates)
    return reasons


def _stale_reasons(table: Table, reasons: Mapping[int, str]) -> list[int]:
    """Rows with a reason in ``SMS error`` but none now, and no status: a check wrote it.

    A send always writes a status beside its errors, so those stay as they are.
    """
    error, status = table.column_index(ERROR_COLUMN), table.column_index(STATUS_COLUMN)
    if error is None:
        return []

    def text(row: Row, index: int | None) -> str:
        if index is None or index >= len(row.values):
            return ""
        return format_value(row.values[index]).strip()

    return [
        row.number
        for row in table.rows
        if row.number not in reasons and text(row, error) and not text(row, status)
    ]


def _message(book: Any) -> tuple[str, str]:
    """The message text and its name: the cell SMS_Message, else the file named in SMS_Template."""
    text = named_value(book, "SMS_Message")
    if text is not None and format_value(text).strip():
        return format_value(text), "SMS_Message"
    template = named_value(book, "SMS_Template")
    if template is None or not format_value(template).strip():
        raise TemplateError(
            "no message: write it in a cell named SMS_Message (select the cell, type the "
            "name in the Name Box), or name a template file in a cell named SMS_Template",
            file=book.name,
        )
    path = Path(format_value(template).strip()).expanduser()
    if not path.is_absolute() and _has_file(book):
        path = Path(book.fullname).parent / path
    return read_template(path), str(path)


def _summary(selection: Selection, prepared: Prepared, balance: str) -> str:
    plan = prepared.plan
    cost = plan.estimated_cost
    lines = [
        f"{len(plan.messages)} recipients, {plan.parts} SMS parts",
        f"estimated cost: {to_currency(cost):.2f} {plan.currency}"
        if cost is not None
        else "estimated cost: unknown (numbers without a price)",
        balance,
        f"{len(plan.problems)} rows with problems (see SMS error)",
        f"{len(plan.duplicates)} duplicates, {len(plan.already_sent)} already sent",
    ]
    if selection.hidden_rows:
        lines.append(f"{selection.hidden_rows} hidden rows left out")
    if not selection.visibility_known:
        lines.append("hidden rows could not be told apart here: every selected row counts")
    lines.extend(prepared.notice_texts())
    return "\n".join(lines)


def _outcome(result: SendResult) -> str:
    """What a finished send did, for the dialog: messages by state, cost, and what to do."""
    summary = result.summary
    lines = [f"{n} {state.value.replace('_', ' ')}" for state, n in summary.counts.items() if n]
    lines.append(f"cost: {to_currency(summary.cost):.2f} {result.currency or ''}".rstrip())
    if summary.stopped is not None:
        lines.append(f"stopped: {summary.stopped}")
    if result.outcome in (Outcome.CANCELLED, Outcome.STOPPED):
        lines.append("press Send again to send the rest (nothing is sent twice)")
    elif result.outcome is Outcome.PARTIAL:
        lines.append("the rows that did not go out say why in SMS error")
    return "\n".join(lines)


def _has_file(book: Any) -> bool:
    try:
        return Path(book.fullname).is_file()
    except (NotImplementedError, OSError, TypeError):
        return False


def user_environ(config: Path | None = None) -> dict[str, str]:
    """The environment, plus ELKS_* settings from the xlwings config file where not set.

    The file (``~/.xlwings/xlwings.conf``) holds lines such as ``"ELKS_USERNAME","u123"``.
    """
    path = config or Path.home() / ".xlwings" / "xlwings.conf"
    found: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        fields = [part.strip().strip('"') for part in line.split('","')]
        if len(fields) == 2 and fields[0].upper().startswith(_CONFIG_KEYS):
            found[fields[0].upper()] = fields[1]
    return {**found, **os.environ}
