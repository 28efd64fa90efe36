"""`elksxl sim` as a person starts it."""

from __future__ import annotations

import subprocess
import sys

from elksxl.simulator.testing import SimulatorHandle


def test_sim_on_a_busy_port_says_so_and_exits_2_without_a_traceback(
    simulator: SimulatorHandle,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "elksxl", "sim", "--port", str(simulator.port)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )

    assert result.returncode == 2
    assert f"port {simulator.port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
