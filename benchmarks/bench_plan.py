"""`elksxl plan --json` on a 100,000-row messy workbook against a plain pandas script (issue 2)."""

from __future__ import annotations

import os
from pathlib import Path

from .measure import messy_workbook, python, run_child

ROWS = int(os.environ.get("ELKSXL_BENCH_ROWS", "100000"))
TEMPLATE = (
    "Hej {{ Förnamn }}! Påminnelse: din tid är {{ Datum }}. Belopp att betala: {{ Belopp }} kr."
)


def main() -> None:
    book = messy_workbook(ROWS)
    template = book.with_name("plan-template.txt")
    template.write_text(TEMPLATE, encoding="utf-8")
    baseline_script = str(Path(__file__).with_name("baseline_pandas_plan.py"))
    ours = run_child(
        [python(), "-m", "elksxl", "plan", str(book), "--template", str(template), "--json"]
    )
    base = run_child([python(), baseline_script, str(book)])
    print(f"workbook: {ROWS} rows ({book})")
    print(f"{'':24}{'seconds':>10}{'peak MiB':>12}")
    print(f"{'elksxl plan --json':24}{ours.seconds:10.2f}{ours.peak_mib:12.1f}")
    print(f"{'pandas baseline':24}{base.seconds:10.2f}{base.peak_mib:12.1f}")
    print(
        f"ratio elksxl/baseline: time {ours.seconds / base.seconds:.2f}x, "
        f"memory {ours.peak_mib / base.peak_mib:.2f}x (target <= 0.5x both)"
    )


if __name__ == "__main__":
    main()
