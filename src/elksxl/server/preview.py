"""The preview the pane shows before Send: the plan's figures (the same as ``elksxl plan``),
the first messages, every problem and duplicate with its cell, and the balance check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import BalanceError, ElksxlError
from .payload import Selection

if TYPE_CHECKING:
    from ..campaign import Prepared
    from .backend import Backend

__all__ = ["FIRST_MESSAGES", "preview"]

FIRST_MESSAGES = 5


async def preview(backend: Backend, selection: Selection, prepared: Prepared) -> dict[str, Any]:
    plan = prepared.plan
    table = selection.table
    phone = table.column_index(plan.phone_column) or 0

    def cell(row: int, column: str | None = None) -> str:
        index = table.column_index(column) if column else None
        return selection.cell(row, phone if index is None else index)

    recipients = len(plan.messages)
    return {
        **plan.totals(),
        "hidden_left_out": table.hidden_rows,
        "balance_check": await _balance(backend, prepared),
        "notices": prepared.notice_texts(),
        "messages": [_message(m.to_dict()) for m in plan.messages[:FIRST_MESSAGES]],
        "problems": [
            {"row": p.row, "cell": cell(p.row, p.column), "reason": p.reason} for p in plan.problems
        ],
        "duplicates": [
            {"row": d.row, "cell": cell(d.row), "first_row": d.first_row, "to": d.to}
            for d in plan.duplicates
        ],
        "send_label": f"Send {recipients} message{'' if recipients == 1 else 's'}",
    }


def _message(data: dict[str, Any]) -> dict[str, Any]:
    keep = ("row", "to", "text", "parts", "encoding", "ucs2_chars", "length", "estimated_cost")
    return {k: data[k] for k in keep}


async def _balance(backend: Backend, prepared: Prepared) -> str:
    """What the balance check says; a preview never fails for it."""
    try:
        account = await backend.account()
        return backend.session.check_balance(prepared, account)
    except BalanceError as exc:
        return exc.message
    except ElksxlError as exc:
        return f"balance not checked: {exc}"
