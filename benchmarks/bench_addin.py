"""The add-in backend (issue 10): preview time for 1,000 selected rows, and how much a poll
carries during a 10,000-row campaign compared with the whole selection.

Both run against the real backend under uvicorn on 127.0.0.1 and the simulator, over HTTP.
The preview is timed as the server sees it (request to answer, median of repeated calls) and
set against `elksxl plan` of the same rows as an .xlsx file in the same run. The poll bytes
are set against the JSON of the selection the pane posted: what a poll would cost if it sent
the sheet back.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

from elksxl.server.testing import running_backend
from elksxl.simulator.testing import running_simulator

PREVIEW_ROWS = int(os.environ.get("ELKSXL_BENCH_PREVIEW_ROWS", "1000"))
CAMPAIGN_ROWS = int(os.environ.get("ELKSXL_BENCH_CAMPAIGN_ROWS", "10000"))
MESSAGE = "Hej {{ Namn }}! Din tid är {{ Tid }}. Välkommen till {{ Ort }}."


def values(count: int) -> list[list[Any]]:
    rows: list[list[Any]] = [["Namn", "Telefon", "Tid", "Ort"]]
    for i in range(count):
        n = 1_000_000 + i
        rows.append([f"Namn{i}", f"070-{n // 10000:03d} {n % 10000:04d}", "09:30", "Umeå"])
    return rows


def payload(grid: list[list[Any]]) -> dict[str, Any]:
    return {
        "client": "elksxl-addin",
        "version": "1",
        "book": {"name": "Kunder.xlsx", "campaign_id": None},
        "sheet": {"name": "Kontakter", "position": 0},
        "selection": {
            "address": f"Kontakter!A1:D{len(grid)}",
            "first_row": 1,
            "first_column": 1,
            "values": grid,
            "hidden_rows": [],
        },
        "header": True,
        "message": MESSAGE,
        "sender": "Bench",
        "options": {},
    }


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="elksxl-bench-addin-") as tmp,
        running_simulator({"rate_per_minute": 0, "delivery": {"delivered_after_ms": 0}}) as sim,
    ):
        folder = Path(tmp)
        settings = sim.settings(journal_path=folder / "journal.sqlite3", rate_per_minute=0)
        with running_backend(settings, addin_dir=Path("addin")) as backend:
            http = httpx.Client(
                base_url=backend.base_url, headers=backend.headers, timeout=300, trust_env=False
            )
            preview(http, folder)
            polls(http)


def preview(http: httpx.Client, folder: Path) -> None:
    body = payload(values(PREVIEW_ROWS))
    http.post("/api/preview", json=body).raise_for_status()  # warm up
    times = []
    for _ in range(7):
        started = time.perf_counter()
        http.post("/api/preview", json=body).raise_for_status()
        times.append(time.perf_counter() - started)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in body["selection"]["values"]:
        sheet.append(row)
    path = folder / "preview.xlsx"
    book.save(path)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "elksxl", "plan", str(path), "--message", MESSAGE, "--json"],
        check=True,
        capture_output=True,
        env=os.environ | {"ELKSXL_JOURNAL": str(folder / "plan.sqlite3")},
    )
    plan = time.perf_counter() - started
    median = statistics.median(times)
    print(f"preview of {PREVIEW_ROWS} rows: median {median * 1000:.0f} ms over 7 calls")
    print(f"  elksxl plan --json on the same rows as .xlsx (whole process): {plan * 1000:.0f} ms")
    print(f"  ratio preview / plan: {median / plan:.2f}x")


def polls(http: httpx.Client) -> None:
    body = payload(values(CAMPAIGN_ROWS))
    selection_bytes = len(json.dumps(body["selection"], ensure_ascii=False).encode())
    started = http.post("/api/send", json=body).raise_for_status().json()
    cursor, sizes, state = started.get("cursor", ""), [], "running"
    begun = time.perf_counter()
    while state == "running" and time.perf_counter() - begun < 600:
        time.sleep(0.5)
        answer = http.get(f"/api/runs/{started['run']}", params={"since": cursor})
        answer.raise_for_status()
        sizes.append(len(answer.content))
        poll = answer.json()
        cursor, state = poll["cursor"], poll["state"]
    total = sum(sizes)
    print(f"campaign of {CAMPAIGN_ROWS} rows ({state}), polled every 0.5 s: {len(sizes)} polls")
    print(f"  selection posted once: {selection_bytes:,} bytes")
    print(
        f"  per poll: median {statistics.median(sizes):,.0f} bytes, largest {max(sizes):,} "
        f"({max(sizes) / selection_bytes:.3f}x the selection); all polls {total:,} bytes "
        f"({total / selection_bytes:.2f}x)"
    )


if __name__ == "__main__":
    main()
