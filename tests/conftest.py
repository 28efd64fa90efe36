"""Shared fixtures: a real 46elks simulator on 127.0.0.1 for every test that talks to the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from typing import Any

import pytest

from elksxl.simulator import Scenario
from elksxl.simulator.testing import SimulatorHandle, running_simulator

StartSimulator = Callable[..., SimulatorHandle]


@pytest.fixture
def simulator() -> Iterator[SimulatorHandle]:
    """A running simulator, default scenario: account "sim"/"sim", SEK, 100/min then queued."""
    with running_simulator() as handle:
        yield handle


@pytest.fixture
def simulator_factory() -> Iterator[StartSimulator]:
    """Call with a Scenario or a scenario dict (and optionally port=N) to start a simulator;
    every one started is stopped at teardown."""
    with ExitStack() as stack:

        def start(
            scenario: Scenario | Mapping[str, Any] | None = None, *, port: int = 0
        ) -> SimulatorHandle:
            return stack.enter_context(running_simulator(scenario, port=port))

        yield start
