"""kill -9 of a sending process at random moments, then a resume: nothing twice, nothing lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from run_campaign import number

from elksxl.journal import Journal, State
from elksxl.simulator.testing import SimulatorHandle

StartSimulator = Callable[..., SimulatorHandle]
RUNNER = Path(__file__).with_name("run_campaign.py")
RUNS = 20
MESSAGES = 300


def runner(journal: Path, campaign: str, url: str, first: int) -> subprocess.Popen[str]:
    command = [sys.executable, str(RUNNER), str(journal), campaign, url]
    command += ["--count", str(MESSAGES), "--first", str(first)]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def kill_after(process: subprocess.Popen[str], settled: int, jitter: float) -> int:
    """SIGKILL ``process`` once it reported ``settled`` messages, plus ``jitter`` seconds.

    Returns how many it had reported; a process that finished first is not killed.
    """
    assert process.stdout is not None
    seen = 0
    for line in process.stdout:
        if line.startswith("settled"):
            seen += 1
        if (line.startswith("sending") and settled == 0) or seen >= settled > 0:
            break
    time.sleep(jitter)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)  # reaps it and closes the pipes
    return seen


def finish(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    assert "done" in out


@pytest.mark.slow
def test_killed_sender_resumes_with_every_recipient_exactly_once(
    simulator_factory: StartSimulator, tmp_path: Path
) -> None:
    sim = simulator_factory(
        {"rate_per_minute": 0, "faults": {"seed": 5, "latency": {"min_ms": 2, "max_ms": 20}}}
    )
    rng = random.Random(20260401)
    killed_mid_campaign = 0
    for run in range(RUNS):
        journal_path, campaign, first = tmp_path / f"run{run}.db", f"kill-{run}", run * 1000
        process = runner(journal_path, campaign, sim.base_url, first)
        seen = kill_after(process, rng.randrange(MESSAGES), rng.uniform(0, 0.02))
        killed_mid_campaign += process.returncode == -signal.SIGKILL and seen < MESSAGES

        finish(runner(journal_path, campaign, sim.base_url, first))

        expected = Counter(number(first + i) for i in range(MESSAGES))
        accepted = [m for m in sim.messages() if m["to"] in expected]
        twice = {to: n for to, n in Counter(m["to"] for m in accepted).items() if n > 1}
        assert not twice, f"run {run} (killed after {seen}): sent twice {twice}"
        assert len(accepted) == MESSAGES, f"run {run} (killed after {seen}): some never sent"
        with Journal.open(journal_path) as journal:
            entries = journal.entries(campaign)
        assert len(entries) == MESSAGES
        unsettled = [(e.row, e.state, e.error) for e in entries if e.state is not State.SENT]
        assert not unsettled, f"run {run} (killed after {seen})"
        assert {e.elks_id for e in entries} == {m["id"] for m in accepted}, f"run {run}"
    assert killed_mid_campaign >= RUNS * 3 // 4, "most kills must land mid-campaign"
