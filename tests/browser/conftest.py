"""Browser tests of the task pane: Debian's chromium driven by playwright, the pane served by
the real backend (``running_backend``) in front of the 46elks simulator, and office.js
replaced by ``fake_office.js`` holding an in-memory workbook (``window.__wb``).

Screenshots of the pane at 320 px go to ``tests/browser/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from elksxl.config import Settings
from elksxl.server.testing import BackendHandle, running_backend
from elksxl.simulator.testing import SimulatorHandle

playwright_sync = pytest.importorskip("playwright.sync_api")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ADDIN = REPO / "addin"
FAKE_OFFICE = HERE / "fake_office.js"
SCREENSHOTS = HERE / "screenshots"
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
PANE_WIDTH = 320
SEND = re.compile(r"^Send\b")  # the send button's accessible name starts with "Send"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the session: while playwright's sync API runs,
    its event loop is the thread's running loop, and later tests' asyncio.run() would fail."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium on this machine (apt-get install chromium; .ci/run does it)")
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def workbook(
    rows: list[list[Any]],
    *,
    selection: tuple[int, int, int, int] | None = None,
    hidden: Sequence[int] = (),
    sheet: str = "Kontakter",
    tables: Sequence[dict[str, Any]] = (),
    properties: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A fake workbook. ``selection`` is (row, col, rows, cols), 0-based; default: all rows."""
    return {
        "name": "Kunder.xlsx",
        "sheets": [
            {"name": sheet, "values": rows, "hidden": list(hidden), "tables": list(tables)},
        ],
        "selection": dict(
            zip(
                ("sheet", "row", "col", "rows", "cols"),
                (0, *(selection or (0, 0, len(rows), len(rows[0])))),
                strict=True,
            )
        ),
        "properties": dict(properties or {}),
    }


@dataclass
class Pane:
    """One open task pane: the playwright page and helpers to read its fake workbook."""

    page: Any
    backend: BackendHandle
    dialogs: list[str]

    def wb(self) -> dict[str, Any]:
        data: dict[str, Any] = self.page.evaluate("JSON.parse(JSON.stringify(window.__wb))")
        return data

    def cell(self, ref: str, sheet: int = 0) -> Any:
        """The value of an A1 cell in the fake workbook ("" when empty)."""
        match = re.fullmatch(r"([A-Z]+)(\d+)", ref)
        assert match, ref
        col = 0
        for ch in match[1]:
            col = col * 26 + ord(ch) - 64
        values = self.wb()["sheets"][sheet]["values"]
        row = int(match[2]) - 1
        if row >= len(values) or col - 1 >= len(values[row]):
            return ""
        return values[row][col - 1]

    def screenshot(self, name: str) -> Path:
        """Save the whole pane as ``screenshots/<name>.png``, after checking that nothing
        is wider than the pane (no horizontal scrolling at 320 px)."""
        width = self.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PANE_WIDTH, f"the pane scrolls sideways: {width} px wide"
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


OpenPane = Callable[..., Pane]


@pytest.fixture
def sim(simulator_factory: Any) -> SimulatorHandle:
    handle: SimulatorHandle = simulator_factory({"delivery": {"delivered_after_ms": 50}})
    return handle


@pytest.fixture
def settings(sim: SimulatorHandle, tmp_path: Path) -> Settings:
    return sim.settings(
        journal_path=tmp_path / "journal.sqlite3", rate_per_minute=0, sender="Elksxl"
    )


@pytest.fixture
def backend(settings: Settings) -> Iterator[BackendHandle]:
    with running_backend(settings, addin_dir=ADDIN) as handle:
        yield handle


@pytest.fixture
def open_pane(browser: Any, backend: BackendHandle) -> Iterator[OpenPane]:
    """Call with a fake workbook (and token=...) to open the pane at 320 px in a fresh
    browser context; the same context's pages share the token (localStorage)."""
    with ExitStack() as stack:

        def open_(book: dict[str, Any], *, token: str | None = backend.token) -> Pane:
            context = browser.new_context(
                viewport={"width": PANE_WIDTH, "height": 900}, reduced_motion="reduce"
            )
            stack.callback(context.close)
            # Nothing may leave the machine: foreign URLs are refused, except office.js, which
            # the fake replaces (playwright tries the routes registered last first).
            context.route(
                re.compile(r"^https?://(?!127\.0\.0\.1)"),
                lambda route: route.abort(),
            )
            context.route(OFFICE_JS, lambda route: route.fulfill(path=str(FAKE_OFFICE)))
            seed = "window.ELKSXL_POLL_MS = 100;"
            seed += f"window.__ELKSXL_WORKBOOK__ = {json.dumps(book)};"
            if token is not None:
                seed += f"localStorage.setItem('elksxl.token', {json.dumps(token)});"
            context.add_init_script(seed)
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            stack.callback(lambda: _no_page_errors(errors))
            page.goto(backend.base_url + "/taskpane.html")
            page.wait_for_function(
                "() => window.elksxl && window.elksxl.pane && window.elksxl.pane.ready"
            )
            page.evaluate("window.elksxl.pane.ready")
            return Pane(page, backend, dialogs)

        yield open_


def _no_page_errors(errors: list[str]) -> None:
    assert errors == [], f"uncaught errors in the pane: {errors}"
