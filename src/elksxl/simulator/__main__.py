"""``python -m elksxl.simulator``: run the simulator in its own process (used by tests).

Prints nothing; with ``--ready-file`` it writes its base URL (``http://127.0.0.1:PORT/a1``)
there once it accepts connections, which is how a parent learns a port picked with 0.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .scenario import Scenario
from .server import DEFAULT_HOST, DEFAULT_PORT, serve

__all__ = ["main"]


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m elksxl.simulator")
    parser.add_argument("--host", default=DEFAULT_HOST, help="default 127.0.0.1 (loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--scenario", help="scenario JSON file, or default/faulty")
    parser.add_argument("--ready-file", type=Path, help="write the base URL here once ready")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    scenario = Scenario.load(args.scenario) if args.scenario else Scenario.default()
    ready_file: Path | None = args.ready_file

    def on_ready(url: str) -> None:
        if ready_file is not None:
            _write_atomically(ready_file, url)

    serve(args.host, args.port, scenario, log_level=args.log_level, on_ready=on_ready)


if __name__ == "__main__":
    main()
