"""Delivery results reaching the workbook headless: `status --refresh`, `send --wait-for-delivery`,
the webhook address `send` gives 46elks, and `make demo`'s table."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from elksxl.simulator.testing import wait_until
from test_cli_send import command, contacts, e164, environment, results, send

FAILING = e164(1)


def delivering(**changes: Any) -> dict[str, Any]:
    """No rate limit; every message delivered after 100 ms except FAILING's, which fails."""
    return {
        "rate_per_minute": 0,
        "delivery": {"delivered_after_ms": 100, "failing_numbers": [FAILING], **changes},
    }


def status(sim: Any, tmp_path: Path, book: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "elksxl", "status", str(book), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment(sim, tmp_path),
        timeout=120,
    )


def test_status_refresh_writes_delivered_and_failed_with_their_times(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(delivering())
    book = contacts(tmp_path / "book.xlsx", 4)
    assert send(sim, tmp_path, book, "--yes", "--rate", "0").returncode == 0
    assert {r["SMS status"] for r in results(book).values()} == {"sent"}
    wait_until(lambda: all(m["status"] in ("delivered", "failed") for m in sim.messages()))

    refreshed = status(sim, tmp_path, book, "--refresh")

    assert refreshed.returncode == 0, refreshed.stderr
    assert "46elks reported 4 new delivery results" in refreshed.stderr
    rows = results(book)
    assert [rows[r]["SMS status"] for r in (2, 3, 4, 5)] == [
        "delivered",
        "failed",
        "delivered",
        "delivered",
    ]
    assert all(rows[r]["SMS delivered at"] is not None for r in (2, 3, 4, 5))
    assert "not delivered" in rows[3]["SMS error"]
    assert "delivered" in refreshed.stdout
    assert "SEK" in refreshed.stdout  # the cost with its currency


def test_refresh_after_a_killed_and_resumed_campaign_settles_every_row(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(delivering())
    count = 40
    book = contacts(tmp_path / "book.xlsx", count)
    env = environment(sim, tmp_path)
    killed = subprocess.Popen(
        command(book, "--message", "Hej {{ Namn }}!", "--yes", "--rate", "600"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_until(lambda: len(sim.messages()) >= 8, timeout=60)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    assert (
        send(sim, tmp_path, book, "--yes", "--rate", "0", message="Hej {{ Namn }}!").returncode == 0
    )
    wait_until(lambda: all(m["status"] in ("delivered", "failed") for m in sim.messages()))

    refreshed = status(sim, tmp_path, book, "--refresh")

    assert refreshed.returncode == 0, refreshed.stderr
    assert Counter(m["to"] for m in sim.messages()) == {e164(i): 1 for i in range(count)}
    statuses = Counter(r["SMS status"] for r in results(book).values())
    assert statuses == {"delivered": count - 1, "failed": 1}


def test_send_can_wait_for_the_delivery_reports(simulator_factory: Any, tmp_path: Path) -> None:
    sim = simulator_factory(delivering())
    book = contacts(tmp_path / "book.xlsx", 3)

    result = send(sim, tmp_path, book, "--yes", "--rate", "0", "--wait-for-delivery=30s")

    assert result.returncode == 0, result.stderr
    assert "delivery reports: 3/3" in result.stderr
    assert [results(book)[r]["SMS status"] for r in (2, 3, 4)] == [
        "delivered",
        "failed",
        "delivered",
    ]


def test_a_bad_wait_duration_is_refused_before_anything_is_sent(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(delivering())
    book = contacts(tmp_path / "book.xlsx", 2)

    result = send(sim, tmp_path, book, "--yes", "--wait-for-delivery=soon")

    assert result.returncode == 2
    assert "not a duration" in result.stderr
    assert sim.messages() == []


def test_with_a_public_url_send_gives_46elks_the_servers_webhook_address(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(delivering(delivered_after_ms=60_000))
    book = contacts(tmp_path / "book.xlsx", 2)
    env = environment(sim, tmp_path, ELKSXL_PUBLIC_URL="https://sms.example.com/")

    result = send(sim, tmp_path, book, "--yes", "--rate", "0", env=env)

    assert result.returncode == 0, result.stderr
    secret = (tmp_path / "callback-secret").read_text().strip()  # beside the journal
    assert len(secret) >= 32
    assert (tmp_path / "callback-secret").stat().st_mode & 0o077 == 0
    urls = {m["whendelivered"] for m in sim.messages()}
    assert urls == {f"https://sms.example.com/elks/delivery/{secret}"}


def test_the_demo_shows_delivered_and_failed_results(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    demo = subprocess.run(
        [
            sys.executable,
            "-m",
            "elksxl",
            "demo",
            "--templates",
            str(root / "templates"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )

    assert demo.returncode == 0, demo.stderr
    rows = re.findall(r"│ (delivered|failed)\s*│ s[0-9a-f]", demo.stdout)  # a status, then an id
    assert Counter(rows) == {"delivered": 9, "failed": 1}
