"""Fixtures for the add-in backend: a simulator for 46elks, the backend under uvicorn on
127.0.0.1 (``running_backend``), an HTTP client with the token, and selection payloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from elksxl.config import Settings
from elksxl.server.testing import BackendHandle, running_backend
from elksxl.simulator.testing import SimulatorHandle

SENDER = "Elksxl"
StartBackend = Callable[..., BackendHandle]


def number(i: int) -> str:
    return f"070-123 {i // 100:02d} {i % 100:02d}"


def e164(i: int) -> str:
    return f"+4670123{i // 100:02d}{i % 100:02d}"


def selection(
    values: Sequence[Sequence[Any]],
    *,
    sheet: str = "Kontakter",
    first_row: int = 1,
    first_column: int = 1,
    hidden_rows: Sequence[int] = (),
    header: bool = True,
    campaign_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A selection payload as the pane builds it (ADDIN_API.md)."""
    return {
        "client": "elksxl-addin",
        "version": "1",
        "book": {"name": "Kunder.xlsx", "campaign_id": campaign_id},
        "sheet": {"name": sheet, "position": 0},
        "selection": {
            "address": f"{sheet}!A{first_row}",
            "first_row": first_row,
            "first_column": first_column,
            "values": [list(r) for r in values],
            "hidden_rows": list(hidden_rows),
        },
        "header": header,
        **extra,
    }


def contacts(count: int) -> list[list[Any]]:
    return [["Namn", "Telefon"], *([f"Namn{i}", number(i)] for i in range(count))]


@pytest.fixture
def sim(simulator_factory: Any) -> SimulatorHandle:
    handle: SimulatorHandle = simulator_factory({"delivery": {"delivered_after_ms": 50}})
    return handle


@pytest.fixture
def settings(sim: SimulatorHandle, tmp_path: Path) -> Settings:
    return sim.settings(journal_path=tmp_path / "journal.sqlite3", rate_per_minute=0, sender=SENDER)


@pytest.fixture
def backend_factory() -> Iterator[StartBackend]:
    """Call with Settings (and running_backend's keywords) to start a backend; all are
    stopped at teardown."""
    with ExitStack() as stack:

        def start(settings: Settings, **kwargs: Any) -> BackendHandle:
            return stack.enter_context(running_backend(settings, **kwargs))

        yield start


@pytest.fixture
def backend(backend_factory: StartBackend, settings: Settings) -> BackendHandle:
    return backend_factory(settings)


@pytest.fixture
def api(backend: BackendHandle) -> Iterator[httpx.Client]:
    """A client for the backend with the token and its base URL."""
    with httpx.Client(
        base_url=backend.base_url, headers=backend.headers, trust_env=False, timeout=20
    ) as client:
        yield client


Grid = dict[tuple[int, int], Any]


def apply(actions: Sequence[dict[str, Any]], grid: Grid, props: dict[str, Any]) -> None:
    """Apply actions as the pane's client does: setValues into ``grid`` keyed by 1-based
    (Excel row, Excel column), setCustomProperty into ``props``."""
    for action in actions:
        if action["func"] == "setCustomProperty":
            props[action["name"]] = action["value"]
            continue
        assert action["func"] == "setValues"
        assert len(action["values"]) == action["row_count"]
        assert len(action["number_format"]) == action["row_count"]
        for r, (row, formats) in enumerate(
            zip(action["values"], action["number_format"], strict=True)
        ):
            assert len(row) == len(formats) == action["column_count"]
            for c, (value, fmt) in enumerate(zip(row, formats, strict=True)):
                assert fmt == ("General" if isinstance(value, int | float) else "@")
                grid[(action["start_row"] + r + 1, action["start_column"] + c + 1)] = value


def poll_until(
    api: httpx.Client,
    run: str,
    grid: Grid,
    props: dict[str, Any],
    *,
    cursor: str = "",
    done: Callable[[dict[str, Any]], bool] = lambda p: p["state"] not in ("running", "cancelling"),
    timeout: float = 30.0,
) -> tuple[dict[str, Any], str]:
    """Poll a run, applying every answer's actions, until ``done``; (last answer, cursor)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        answer = api.get(f"/api/runs/{run}", params={"since": cursor}).raise_for_status().json()
        apply(answer["actions"], grid, props)
        cursor = answer["cursor"]
        if done(answer):
            return answer, cursor
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run} still {answer['state']} after {timeout} s")
        time.sleep(0.05)
