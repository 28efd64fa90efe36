"""Shared by the benchmarks: workbooks with realistic messy data, and child-process timing."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

CACHE = Path(os.environ.get("ELKSXL_BENCH_DIR", "/tmp/elksxl-bench"))
HEADER = ["Förnamn", "Efternamn", "Telefon", "Datum", "Belopp"]
FIRST = ["Anna", "Björn", "Cecilia", "David", "Eva", "Filip", "Greta", "Łukasz", "Jonas", "Maja"]
LAST = ["Andersson", "Berg", "Ek", "Öberg", "Lind", "Nyström", "Holm", "O’Neill", "Dahl", "Sjö"]


def messy_number(rng: random.Random, i: int) -> object:
    """A phone cell as people and Excel really leave them."""
    n = 701000000 + (i * 7919) % 9_000_000
    digits = f"0{n}"
    kind = rng.random()
    if kind < 0.30:
        return f"{digits[:3]}-{digits[3:6]} {digits[6:8]} {digits[8:]}"
    if kind < 0.50:
        return digits
    if kind < 0.62:
        return n  # Excel dropped the leading zero
    if kind < 0.70:
        return float(f"46{n}")  # a float in disguise
    if kind < 0.80:
        return f"+46 (0){digits[1:3]} {digits[3:6]} {digits[6:]}"
    if kind < 0.86:
        return f"0046{n}"
    if kind < 0.90:
        return "4.67012E+10"
    if kind < 0.93:
        return rng.choice(["abc", "", None, "saknas", "08-123 456 78"])
    if kind < 0.97:
        return f"0{701000000 + (rng.randrange(i + 1) * 7919) % 9_000_000}"  # duplicate
    return f"+47 4{rng.randrange(10**7):07d}"


def messy_workbook(rows: int, *, seed: int = 7) -> Path:
    """A cached .xlsx with ``rows`` data rows of realistic messy contacts."""
    path = CACHE / f"contacts-{rows}-{seed}.xlsx"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Kontakter")
    ws.append(HEADER)
    start = date(2026, 12, 1)
    for i in range(rows):
        ws.append(
            [
                FIRST[i % len(FIRST)],
                LAST[(i // 10) % len(LAST)],
                messy_number(rng, i),
                start + timedelta(days=i % 30),
                round(rng.uniform(50, 5000), 2),
            ]
        )
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float
    returncode: int


def run_child(args: list[str], *, env: dict[str, str] | None = None) -> Run:
    """Run a command; wall time and the child's own peak RSS (from wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or os.environ.copy()
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        err = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"{args} failed with {process.returncode}: {err[-2000:]}")
    if process.stderr:
        process.stderr.close()
    return Run(seconds, usage.ru_maxrss / 1024, process.returncode)


def python() -> str:
    return sys.executable
