"""Delivery reports in the pane: the simulator posts real callbacks to the running backend's
webhook, and the pane's poll writes `delivered` and `failed` into the fake workbook."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from elksxl.config import Settings
from elksxl.server.testing import BackendHandle, running_backend
from elksxl.simulator.testing import SimulatorHandle

from .conftest import ADDIN, OpenPane, workbook
from .test_pane_send import ROWS, finished, send

FAILING = "+46701234568"  # the "=1+1" row's number: its phone is switched off


@pytest.fixture
def sim(simulator_factory: Any) -> SimulatorHandle:
    delivery = {"delivered_after_ms": 400, "callback_retry_ms": 50, "failing_numbers": [FAILING]}
    handle: SimulatorHandle = simulator_factory({"delivery": delivery})
    return handle


@pytest.fixture
def backend(settings: Settings) -> Iterator[BackendHandle]:
    """The backend at a public URL of its own, so 46elks' callbacks (the simulator's) reach it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with running_backend(
        settings,
        addin_dir=ADDIN,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        callback_allow=("127.0.0.1",),
    ) as handle:
        yield handle


def test_delivered_and_failed_reach_the_workbook_through_the_panes_poll(
    open_pane: OpenPane, sim: SimulatorHandle
) -> None:
    pane = open_pane(workbook(ROWS))
    send(pane)
    finished(pane)

    pane.page.wait_for_function(
        """() => {
            const values = window.__wb.sheets[0].values;
            const status = values[0].indexOf("SMS status");
            return values[1][status] === "delivered" && values[3][status] === "failed";
        }""",
        timeout=20_000,
    )
    sheet = pane.wb()["sheets"][0]
    header = sheet["values"][0]
    status, delivered_at = header.index("SMS status"), header.index("SMS delivered at")
    assert [row[status] for row in sheet["values"][1:]] == ["delivered", "invalid", "failed"]
    assert sheet["values"][1][delivered_at]
    assert sheet["values"][3][delivered_at]
    assert len(sim.callbacks()) >= 2  # the reports came as callbacks, not by lookups
    text = pane.page.locator("#progress-text")
    expect(text).to_contain_text("delivered 1 · not delivered 1")
    pane.screenshot("delivered")
