"""Results -> actions for the task pane: a :class:`~elksxl.table.ResultSink` that writes nothing
itself but keeps a log of xlwings-shaped actions the pane applies to the workbook.

Only the result columns of the rows captured at send time are ever written. Existing result
columns in the header (``SMS status`` ...) are reused where they are; missing ones are created
at the right end of the header by one ``setValues`` on the header row. Every ``setValues``
carries ``number_format`` (same shape as ``values``): ``"@"`` for text cells, so a value
starting with ``=`` is never a formula, ``"General"`` for numbers. Dates are
``YYYY-MM-DD HH:MM:SS`` text in the workbook's local time.

The log only grows; a poll asks for the actions after its cursor, so it gets what changed
since the last poll, never the whole sheet. ``set``/``save`` may be called from a worker
thread while a poll reads the log: a lock guards both.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ..table import CAMPAIGN_PROPERTY, RESULT_COLUMNS, Cell, RowResult, Table
from .payload import Selection

__all__ = ["ActionLog", "ResultLayout", "format_time"]

Action = dict[str, Any]
_TEXT = "@"
_NUMBER = "General"


def format_time(moment: datetime, utc_offset_minutes: int) -> str:
    """``moment`` as ``YYYY-MM-DD HH:MM:SS`` in local time (a naive moment is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(timezone(timedelta(minutes=utc_offset_minutes)))
    return local.strftime("%Y-%m-%d %H:%M:%S")


@dataclasses.dataclass(frozen=True)
class ResultLayout:
    """Where the result columns are: a 0-based sheet column for each of RESULT_COLUMNS."""

    sheet: str
    sheet_position: int
    header_row: int | None  # Excel row of the header; None for a plain block
    columns: tuple[int, ...]  # 0-based sheet column of each result column
    created: tuple[int, ...]  # indexes into RESULT_COLUMNS of the columns to create
    existing: tuple[int | None, ...]  # index into the table's values of each, when it exists

    @classmethod
    def of(cls, selection: Selection) -> ResultLayout:
        table = selection.table
        first = table.first_column - 1
        end = _header_end(table, selection.width) if selection.header else selection.width
        columns, created, existing = [], [], []
        for i, name in enumerate(RESULT_COLUMNS):
            index = table.column_index(name) if selection.header else None
            if index is None:
                columns.append(first + end)
                created.append(i)
                end += 1
            else:
                columns.append(first + index)
            existing.append(index)
        header_row = table.header_row if selection.header else None
        return cls(
            table.sheet,
            selection.sheet_position,
            header_row,
            tuple(columns),
            tuple(created),
            tuple(existing),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultLayout:
        return cls(
            data["sheet"],
            data["sheet_position"],
            data["header_row"],
            tuple(data["columns"]),
            tuple(data["created"]),
            tuple(data["existing"]),
        )


def _header_end(table: Table, width: int) -> int:
    """One past the last non-blank header cell (new columns go right of it)."""
    filled = [i for i, h in enumerate(table.header) if h]
    return filled[-1] + 1 if filled else width


class ActionLog:
    """The ResultSink of one add-in run: results in, a growing log of actions out."""

    def __init__(
        self,
        layout: ResultLayout,
        table: Table,
        utc_offset_minutes: int,
        *,
        status_word: Callable[[str], str] = str,
        store_campaign_id: bool = True,
    ) -> None:
        self.layout = layout
        self._offset = utc_offset_minutes
        self._status_word = status_word
        self._store_campaign_id = store_campaign_id
        self._original = {row.number: row.values for row in table.rows}
        self._current: dict[int, RowResult] = {}
        self._pending: dict[int, RowResult] = {}
        self._campaign: str | None = None
        self._saved_campaign: str | None = None
        self._actions: list[Action] = []
        self._lock = threading.Lock()
        if layout.created and layout.header_row is not None:
            self._add_header()

    # -- ResultSink ---------------------------------------------------------------------------

    def set(self, row: int, result: RowResult) -> None:
        with self._lock:
            if row in self._original:  # only rows captured at send time
                self._pending[row] = _merge(self._pending.get(row), result)

    def set_campaign_id(self, campaign_id: str | None) -> None:
        with self._lock:
            self._campaign = campaign_id

    def save(self) -> int:
        """Turn everything set since the last save into actions; returns the log's length."""
        with self._lock:
            if self._store_campaign_id and self._campaign != self._saved_campaign:
                self._actions.append(
                    {
                        "func": "setCustomProperty",
                        "name": CAMPAIGN_PROPERTY,
                        "value": self._campaign,
                    }
                )
                self._saved_campaign = self._campaign
            changed = []
            for row, result in sorted(self._pending.items()):
                merged = _merge(self._current.get(row), result)
                if merged != self._current.get(row):
                    self._current[row] = merged
                    changed.append(row)
            self._pending = {}
            self._actions.extend(self._row_actions(changed))
            return len(self._actions)

    # -- reading ------------------------------------------------------------------------------

    def since(self, cursor: int) -> tuple[list[Action], int]:
        """The actions after ``cursor`` (0: all of them), and the new cursor."""
        with self._lock:
            cursor = max(0, min(cursor, len(self._actions)))
            return list(self._actions[cursor:]), len(self._actions)

    def results(self) -> dict[int, RowResult]:
        """Every row's result as written so far."""
        with self._lock:
            return dict(self._current)

    def rows(self) -> Iterable[int]:
        return self._original.keys()

    # -- building actions ---------------------------------------------------------------------

    def _add_header(self) -> None:
        names = {self.layout.columns[i]: RESULT_COLUMNS[i] for i in self.layout.created}
        assert self.layout.header_row is not None
        for start, cells in _segments(names):
            self._actions.append(
                _set_values(
                    self.layout,
                    self.layout.header_row - 1,
                    start,
                    [list(cells)],
                    [[_TEXT] * len(cells)],
                )
            )

    def _row_actions(self, rows: Sequence[int]) -> list[Action]:
        """One setValues per block of consecutive rows and contiguous result columns."""
        actions: list[Action] = []
        for block in _consecutive(rows):
            cells = [self._cells(row) for row in block]
            for start, width, offset in _column_runs(self.layout.columns):
                values = [[c[offset + k][0] for k in range(width)] for c in cells]
                formats = [[c[offset + k][1] for k in range(width)] for c in cells]
                actions.append(_set_values(self.layout, block[0] - 1, start, values, formats))
        return actions

    def _cells(self, row: int) -> list[tuple[Cell, str]]:
        """(value, number format) of each result column of ``row``, in RESULT_COLUMNS order."""
        result = self._current[row]
        status = None if result.status is None else self._status_word(result.status)
        fields = [status, *result.cells()[1:]]
        original = self._original.get(row, ())
        cells: list[tuple[Cell, str]] = []
        for value, index in zip(fields, self.layout.existing, strict=True):
            if value is None:  # None leaves the cell as it was
                value = original[index] if index is not None and index < len(original) else None
            cells.append(self._cell(value))
        return cells

    def _cell(self, value: object) -> tuple[Cell, str]:
        if value is None:
            return "", _TEXT
        if isinstance(value, bool):
            return str(value).upper(), _TEXT
        if isinstance(value, int | float):
            return value, _NUMBER
        if isinstance(value, datetime):
            return format_time(value, self._offset), _TEXT
        return str(value), _TEXT


def _set_values(
    layout: ResultLayout, row: int, column: int, values: list[list[Any]], formats: list[list[str]]
) -> Action:
    return {
        "func": "setValues",
        "sheet_position": layout.sheet_position,
        "sheet": layout.sheet,
        "start_row": row,
        "start_column": column,
        "row_count": len(values),
        "column_count": len(values[0]),
        "values": values,
        "number_format": formats,
    }


def _segments(cells: dict[int, str]) -> list[tuple[int, list[str]]]:
    """Contiguous runs of {column: text}, as (first column, texts)."""
    runs: list[tuple[int, list[str]]] = []
    for column in sorted(cells):
        if runs and runs[-1][0] + len(runs[-1][1]) == column:
            runs[-1][1].append(cells[column])
        else:
            runs.append((column, [cells[column]]))
    return runs


def _column_runs(columns: Sequence[int]) -> list[tuple[int, int, int]]:
    """Runs of consecutive sheet columns in order: (first column, width, offset in columns)."""
    runs: list[tuple[int, int, int]] = []
    for offset, column in enumerate(columns):
        if runs and runs[-1][0] + runs[-1][1] == column and runs[-1][2] + runs[-1][1] == offset:
            start, width, first = runs[-1]
            runs[-1] = (start, width + 1, first)
        else:
            runs.append((column, 1, offset))
    return runs


def _consecutive(rows: Sequence[int]) -> list[list[int]]:
    blocks: list[list[int]] = []
    for row in rows:
        if blocks and blocks[-1][-1] + 1 == row:
            blocks[-1].append(row)
        else:
            blocks.append([row])
    return blocks


def _merge(old: RowResult | None, new: RowResult) -> RowResult:
    if old is None:
        return new
    changes = {f.name: getattr(new, f.name) for f in dataclasses.fields(new)}
    return dataclasses.replace(old, **{k: v for k, v in changes.items() if v is not None})
