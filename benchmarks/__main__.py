"""Run every benchmark (or those named on the command line: `python -m benchmarks plan`)."""

from __future__ import annotations

import importlib
import sys

BENCHES = ("plan", "sender", "send", "addin")


def main() -> None:
    names = sys.argv[1:] or list(BENCHES)
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"benchmarks.bench_{name}":
                raise
            print(f"== {name}: not written yet")
            continue
        print(f"== {name}", flush=True)
        module.main()


if __name__ == "__main__":
    main()
