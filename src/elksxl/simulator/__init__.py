"""A faithful local 46elks API (``/a1``) with seeded fault injection, for tests and demos.

Run it with ``elksxl sim`` or :func:`serve` (binds 127.0.0.1 by default), or in tests with
:func:`elksxl.simulator.testing.running_simulator`. The scenario format is documented in
:mod:`elksxl.simulator.scenario`, the API in :mod:`elksxl.simulator.app`.
"""

from __future__ import annotations

from .app import create_app
from .scenario import TEST_NUMBER, Account, Delivery, Faults, Latency, Scenario
from .server import DEFAULT_HOST, DEFAULT_PORT, serve

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "TEST_NUMBER",
    "Account",
    "Delivery",
    "Faults",
    "Latency",
    "Scenario",
    "create_app",
    "serve",
]
