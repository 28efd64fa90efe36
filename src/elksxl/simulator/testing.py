"""Test helpers: a real simulator on 127.0.0.1, in a background thread or in a child process.

``running_simulator`` is what the pytest fixtures ``simulator`` and ``simulator_factory`` use;
``running_simulator_process`` runs ``python -m elksxl.simulator`` for tests that need a
simulator outliving (or independent of) the test process' threads.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..config import Secret, Settings
from .scenario import Scenario
from .server import base_url, bind, make_server, run_server

__all__ = [
    "CallbackReceiver",
    "RunningServer",
    "SimulatorHandle",
    "running_callback_receiver",
    "running_simulator",
    "running_simulator_process",
    "serving_in_thread",
    "wait_until",
]

_HOST = "127.0.0.1"
_START_TIMEOUT = 20.0


@dataclass(frozen=True)
class SimulatorHandle:
    """A running simulator: where it is, who may log in, and a look at its insides."""

    scenario: Scenario
    base_url: str  # "http://127.0.0.1:PORT/a1", what ELKS_API_URL should be
    http: httpx.Client  # plain client (no auth, no base URL), closed when the simulator stops
    process: subprocess.Popen[bytes] | None = None  # set by running_simulator_process
    stopper: Callable[[], None] | None = None

    def stop(self) -> None:
        """Stop the simulator now (its port then refuses connections); exiting is still fine."""
        if self.stopper is not None:
            self.stopper()
        elif self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/a1")

    @property
    def port(self) -> int:
        return httpx.URL(self.base_url).port or 80

    @property
    def username(self) -> str:
        return self.scenario.accounts[0].username

    @property
    def password(self) -> str:
        return self.scenario.accounts[0].password

    @property
    def auth(self) -> tuple[str, str]:
        """(username, password) of the scenario's first account, for ``httpx`` ``auth=``."""
        return self.username, self.password

    def env(self) -> dict[str, str]:
        """ELKS_API_URL, ELKS_USERNAME and ELKS_PASSWORD pointing at this simulator."""
        return {
            "ELKS_API_URL": self.base_url,
            "ELKS_USERNAME": self.username,
            "ELKS_PASSWORD": self.password,
        }

    def settings(self, **changes: Any) -> Settings:
        """Settings for the first account against this simulator (``changes`` replace fields)."""
        settings = Settings(
            username=self.username, password=Secret(self.password), api_urls=(self.base_url,)
        )
        return settings.with_changes(**changes)

    def _get(self, path: str) -> Any:
        response = self.http.get(self.root_url + path)
        response.raise_for_status()
        return response.json()

    def messages(self) -> list[dict[str, Any]]:
        """Every accepted (non-dry-run) message of every account, oldest first."""
        result: list[dict[str, Any]] = self._get("/__sim/messages")
        return result

    def stats(self) -> dict[str, Any]:
        """Request, fault and callback counters, plus ``balances`` by username."""
        result: dict[str, Any] = self._get("/__sim/stats")
        return result

    def callbacks(self) -> list[dict[str, Any]]:
        """Every delivery-report attempt: url, attempt, outcome, id, status, delivered."""
        result: list[dict[str, Any]] = self._get("/__sim/callbacks")
        return result

    def balance(self, username: str | None = None) -> int:
        balances: dict[str, int] = self.stats()["balances"]
        return balances[username or self.username]

    def set_balance(self, username: str, units: int) -> None:
        """Set an account's balance, in 1/10000 of its currency."""
        response = self.http.post(
            self.root_url + "/__sim/balance", json={"username": username, "balance": units}
        )
        response.raise_for_status()


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; raise AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


def _inspector() -> httpx.Client:
    # One client per simulator: building an httpx client costs ~40 ms (TLS context).
    return httpx.Client(trust_env=False, timeout=10)


def _as_scenario(scenario: Scenario | Mapping[str, Any] | None) -> Scenario:
    if scenario is None:
        return Scenario.default()
    if isinstance(scenario, Scenario):
        return scenario
    return Scenario.from_dict(scenario)


@dataclass(frozen=True)
class RunningServer:
    root_url: str  # "http://127.0.0.1:PORT"
    stop: Callable[[], None]  # idempotent; waits until the server has stopped


@contextmanager
def serving_in_thread(server: uvicorn.Server, port: int = 0) -> Iterator[RunningServer]:
    """Run a uvicorn server in a background thread (own event loop) on 127.0.0.1:port.

    Yields once it accepts connections; stops it on exit (or earlier through ``stop``).
    """
    sock = bind(_HOST, port)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(run_server(server, sock))
        except BaseException as exc:  # reported to the caller's thread below
            failures.append(exc)

    thread = threading.Thread(target=run, name="elksxl-uvicorn", daemon=True)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()

    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {failures or 'timeout'}")
            time.sleep(0.005)
        yield RunningServer(base_url(sock).removesuffix("/a1"), stop)
    finally:
        stop()
    if failures:
        raise RuntimeError("the server stopped with an error") from failures[0]


@contextmanager
def running_simulator(
    scenario: Scenario | Mapping[str, Any] | None = None, *, port: int = 0
) -> Iterator[SimulatorHandle]:
    """A simulator in a background thread (own event loop) on 127.0.0.1; port 0 = a free one.

    Waits until it accepts connections; stops it (and cancels its pending callbacks) on exit.
    """
    resolved = _as_scenario(scenario)
    with serving_in_thread(make_server(resolved), port) as running, _inspector() as http:
        yield SimulatorHandle(resolved, running.root_url + "/a1", http, stopper=running.stop)


class CallbackReceiver:
    """A tiny web app that records delivery reports (form fields) POSTed to it.

    ``answers`` are the HTTP statuses to give, one per request, in order; after they run
    out every request gets 204. ``url`` is where to point ``whendelivered``.
    """

    def __init__(self, answers: Sequence[int] = ()) -> None:
        self.url = ""
        self._answers = list(answers)
        self._lock = threading.Lock()
        self._received: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        with self._lock:
            self._received.append(dict(parse_qsl(body, keep_blank_values=True)))
            status = self._answers.pop(0) if self._answers else 204
        return Response(status_code=status)

    def received(self) -> list[dict[str, str]]:
        """Every POST so far, including the ones answered with an error, in arrival order."""
        with self._lock:
            return list(self._received)


@contextmanager
def running_callback_receiver(answers: Sequence[int] = ()) -> Iterator[CallbackReceiver]:
    """A :class:`CallbackReceiver` served on 127.0.0.1 in a background thread."""
    receiver = CallbackReceiver(answers)
    config = uvicorn.Config(receiver.app, log_level="warning", log_config=None, lifespan="off")
    with serving_in_thread(uvicorn.Server(config)) as running:
        receiver.url = running.root_url + "/dlr"
        yield receiver


@contextmanager
def running_simulator_process(
    scenario: Scenario | Mapping[str, Any] | None = None, *, port: int = 0
) -> Iterator[SimulatorHandle]:
    """``python -m elksxl.simulator`` as a child process; ``handle.process`` is the Popen.

    Waits until it accepts connections; terminates it (if still alive) on exit.
    """
    resolved = _as_scenario(scenario)
    with tempfile.TemporaryDirectory(prefix="elksxl-sim-") as tmp:
        folder = Path(tmp)
        scenario_file, ready_file = folder / "scenario.json", folder / "ready"
        scenario_file.write_text(json.dumps(resolved.to_dict()), encoding="utf-8")
        command = [sys.executable, "-m", "elksxl.simulator", "--port", str(port)]
        command += ["--scenario", str(scenario_file), "--ready-file", str(ready_file)]
        with (folder / "log").open("wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            url = _wait_for_ready(process, ready_file, folder / "log")
            with _inspector() as http:
                yield SimulatorHandle(resolved, url, http, process)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_for_ready(process: subprocess.Popen[bytes], ready_file: Path, log: Path) -> str:
    deadline = time.monotonic() + _START_TIMEOUT
    while not (ready_file.exists() and ready_file.read_text(encoding="utf-8").strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            output = log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"the simulator process did not start:\n{output}")
        time.sleep(0.01)
    return ready_file.read_text(encoding="utf-8").strip()
