"""The action sink: results become setValues on the result columns of captured rows only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elksxl.server.actions import ActionLog, ResultLayout
from elksxl.server.payload import parse_selection
from elksxl.table import CAMPAIGN_PROPERTY, RowResult

from .conftest import Grid, apply, selection


def log_for(values: list[list[Any]], offset: int = 60, **kwargs: Any) -> ActionLog:
    parsed = parse_selection(selection(values, **kwargs) | {"utc_offset_minutes": offset})
    return ActionLog(ResultLayout.of(parsed), parsed.table, offset)


def applied(log: ActionLog, cursor: int = 0) -> tuple[Grid, dict[str, Any], int]:
    grid: Grid = {}
    props: dict[str, Any] = {}
    actions, cursor = log.since(cursor)
    apply(actions, grid, props)
    return grid, props, cursor


def test_missing_result_columns_are_created_right_of_the_header() -> None:
    log = log_for([["Namn", "Telefon", ""], ["A", "0701234567", None]], first_column=2)
    grid, _, _ = applied(log)
    # header B1:C1 (D1 blank): the seven result columns go to D1..J1
    assert [grid[(1, c)] for c in range(4, 11)][:2] == ["SMS status", "SMS id"]
    assert grid[(1, 10)] == "SMS delivered at"
    assert (1, 11) not in grid


def test_existing_result_columns_are_reused_where_they_are() -> None:
    header = ["SMS status", "Namn", "Telefon", "SMS id"]
    log = log_for([header, [None, "A", "0701234567", None]])
    log.set(2, RowResult(status="sent", sms_id="s1", parts=1, cost=0.35))
    log.save()
    grid, _, _ = applied(log)
    assert grid[(2, 1)] == "sent"
    assert grid[(2, 4)] == "s1"
    assert grid[(1, 5)] == "SMS parts"  # the five missing ones, from E
    assert grid[(2, 5)] == 1
    assert grid[(2, 6)] == 0.35
    assert (2, 2) not in grid
    assert (2, 3) not in grid


def test_only_rows_captured_at_send_time_are_written_and_text_is_never_a_formula() -> None:
    log = log_for([["Telefon"], ["0701234567"]])
    log.set(2, RowResult(status="failed", error="=HYPERLINK(evil)"))
    log.set(99, RowResult(status="sent"))  # not a row of the selection
    log.save()
    grid, _, _ = applied(log)  # apply() checks "@" on every text cell
    assert grid[(2, 6)] == "=HYPERLINK(evil)"
    assert {r for r, _ in grid} == {1, 2}


def test_times_are_written_in_the_workbooks_local_time() -> None:
    log = log_for([["Telefon"], ["0701234567"]], offset=120)
    log.set(2, RowResult(status="delivered", sent_at=datetime(2026, 6, 1, 8, 0, tzinfo=UTC)))
    log.save()
    grid, _, _ = applied(log)
    assert grid[(2, 7)] == "2026-06-01 10:00:00"


def test_a_poll_gets_only_what_changed_since_its_cursor() -> None:
    log = log_for([["Telefon"], *([f"07012345{i:02d}"] for i in range(10))])
    log.set_campaign_id("c1")
    for row in range(2, 12):
        log.set(row, RowResult(status="sent", sms_id=f"s{row}"))
    log.save()
    _, props, cursor = applied(log)
    assert props == {CAMPAIGN_PROPERTY: "c1"}

    log.set(5, RowResult(status="delivered"))
    log.set(6, RowResult(status="sent", sms_id="s6"))  # no change: no action
    log.save()
    actions, _ = log.since(cursor)
    assert len(actions) == 1
    assert (actions[0]["start_row"], actions[0]["row_count"]) == (4, 1)
    assert actions[0]["values"][0][:2] == ["delivered", "s5"]


def test_consecutive_rows_go_out_as_one_block() -> None:
    log = log_for([["Telefon"], *([f"07012345{i:02d}"] for i in range(5))])
    for row in (2, 3, 4, 6):
        log.set(row, RowResult(status="sent"))
    log.save()
    actions, _ = log.since(1)  # after the header action
    assert [(a["start_row"], a["row_count"]) for a in actions] == [(1, 3), (5, 1)]
