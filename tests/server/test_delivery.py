"""46elks' delivery reports, sent for real by the simulator to the running backend, reach the
sheet through the pane's poll; spoofed, repeated and late reports change nothing."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from elksxl.config import Secret, Settings
from elksxl.server.app import create_app
from elksxl.server.testing import BackendHandle
from elksxl.simulator.testing import SimulatorHandle, wait_until

from .conftest import SENDER, Grid, StartBackend, contacts, e164, poll_until, selection

STATUS, DELIVERED_AT = 3, 9
SECRET = "callback-secret-for-tests"
FAILING = e164(2)


@pytest.fixture
def sim(simulator_factory: Any) -> SimulatorHandle:
    delivery = {"delivered_after_ms": 50, "callback_retry_ms": 20, "failing_numbers": [FAILING]}
    handle: SimulatorHandle = simulator_factory({"delivery": delivery})
    return handle


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(backend_factory: StartBackend, settings: Settings, **changes: Any) -> BackendHandle:
    port = free_port()
    return backend_factory(
        settings.with_changes(callback_secret=Secret(SECRET)),
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        **changes,
    )


def client(backend: BackendHandle) -> httpx.Client:
    return httpx.Client(base_url=backend.base_url, headers=backend.headers, trust_env=False)


def body(count: int) -> dict[str, Any]:
    return selection(contacts(count), utc_offset_minutes=0) | {
        "message": "Hej {{ Namn }}",
        "sender": SENDER,
    }


def test_delivered_and_failed_reach_the_sheet_on_the_next_poll(
    backend_factory: StartBackend, settings: Settings, sim: SimulatorHandle
) -> None:
    backend = start(backend_factory, settings, callback_allow=("127.0.0.1",))
    grid: Grid = {}
    with client(backend) as api:
        started = api.post("/api/send", json=body(4)).raise_for_status().json()

        def settled(poll: dict[str, Any]) -> bool:
            words = [grid.get((row, STATUS)) for row in range(2, 6)]
            return words == ["delivered", "delivered", "failed", "delivered"]

        poll_until(api, started["run"], grid, {}, done=settled)

    whendelivered = {m["whendelivered"] for m in sim.messages()}
    assert whendelivered == {f"{backend.settings.public_url}/elks/delivery/{SECRET}"}
    assert all(grid[(row, DELIVERED_AT)] for row in (2, 3, 4, 5))  # failed: when it failed


def test_without_a_public_url_the_server_asks_46elks_and_the_poll_shows_it(
    backend_factory: StartBackend, settings: Settings, sim: SimulatorHandle
) -> None:
    backend = backend_factory(settings, delivery_poll=0.2)
    grid: Grid = {}
    with client(backend) as api:
        started = api.post("/api/send", json=body(4)).raise_for_status().json()

        def settled(poll: dict[str, Any]) -> bool:
            words = [grid.get((row, STATUS)) for row in range(2, 6)]
            return words == ["delivered", "delivered", "failed", "delivered"]

        poll_until(api, started["run"], grid, {}, done=settled)

    assert {m["whendelivered"] for m in sim.messages()} == {None}
    assert sim.callbacks() == []


def test_repeated_and_late_reports_change_nothing_and_unknown_ids_get_204(
    backend_factory: StartBackend, settings: Settings, sim: SimulatorHandle
) -> None:
    backend = start(backend_factory, settings, callback_allow=("127.0.0.1",))
    grid: Grid = {}
    hook = f"{backend.base_url}/elks/delivery/{SECRET}"
    with client(backend) as api:
        started = api.post("/api/send", json=body(1)).raise_for_status().json()
        poll_until(
            api, started["run"], grid, {}, done=lambda _: grid.get((2, STATUS)) == "delivered"
        )
        when = grid[(2, DELIVERED_AT)]
        sms = sim.messages()[0]["id"]
        late = [
            {"id": sms, "status": "sent"},
            {"id": sms, "status": "failed"},
            {"id": sms, "status": "delivered", "delivered": "2030-01-01T00:00:00.000000"},
            {"id": "s-nobody-knows", "status": "delivered"},
        ]
        answers = [httpx.post(hook, data=report, trust_env=False).status_code for report in late]
        poll_until(api, started["run"], grid, {})

    assert answers == [204, 204, 204, 204]
    assert (grid[(2, STATUS)], grid[(2, DELIVERED_AT)]) == ("delivered", when)


def test_a_caller_not_allowed_is_refused_and_nothing_changes(
    backend_factory: StartBackend, settings: Settings, sim: SimulatorHandle
) -> None:
    backend = start(backend_factory, settings, callback_allow=("10.0.0.0/8", "2001:db8::/32"))
    grid: Grid = {}
    with client(backend) as api:
        started = api.post("/api/send", json=body(2)).raise_for_status().json()
        poll_until(api, started["run"], grid, {})
        wait_until(lambda: sim.stats()["callbacks_failed"] >= 4)  # two reports each, refused
        poll_until(api, started["run"], grid, {})

    assert {c["outcome"] for c in sim.callbacks()} == {"403"}
    assert [grid[(row, STATUS)] for row in (2, 3)] == ["sent", "sent"]


def test_a_wrong_secret_is_404_and_the_token_is_not_the_secret(
    backend_factory: StartBackend, settings: Settings
) -> None:
    backend = start(backend_factory, settings, callback_allow=("127.0.0.1",))
    for path in (f"/elks/delivery/{backend.token}", "/elks/delivery/guess"):
        answer = httpx.post(backend.base_url + path, data={"id": "s1", "status": "delivered"})
        assert answer.status_code == 404


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(
    backend_factory: StartBackend, settings: Settings
) -> None:
    allow = ("176.10.154.199",)
    report = {"id": "s-unknown", "status": "delivered"}
    forwarded = {"X-Forwarded-For": "176.10.154.199"}
    untrusted = start(backend_factory, settings, callback_allow=allow)
    trusted = start(backend_factory, settings, callback_allow=allow, trusted_proxies=("127.0.0.1",))

    def post(backend: BackendHandle, headers: dict[str, str]) -> int:
        url = f"{backend.base_url}/elks/delivery/{SECRET}"
        return httpx.post(url, data=report, headers=headers, trust_env=False).status_code

    assert post(untrusted, forwarded) == 403
    assert post(trusted, {}) == 403
    assert post(trusted, forwarded) == 204
    assert post(trusted, {"X-Forwarded-For": "176.10.154.199, 8.8.8.8"}) == 403


def test_the_generated_secret_is_kept_beside_the_journal_readable_only_by_its_owner(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.with_changes(token=Secret("t" * 24), journal_path=tmp_path / "j.sqlite3")
    first = create_app(settings).state.backend.secret
    second = create_app(settings).state.backend.secret
    path = tmp_path / "callback-secret"
    assert first == second == path.read_text().strip()
    assert len(first) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_reports_46elks_retries_while_the_backend_is_down_arrive_after_a_restart(
    backend_factory: StartBackend, simulator_factory: Any, tmp_path: Path
) -> None:
    delivery = {
        "delivered_after_ms": 1500,
        "callback_retry_ms": 200,
        "callback_max_tries": 40,
        "failing_numbers": [FAILING],
    }
    sim = simulator_factory({"rate_per_minute": 0, "delivery": delivery})
    settings = sim.settings(
        journal_path=tmp_path / "journal.sqlite3", rate_per_minute=0, sender=SENDER
    ).with_changes(callback_secret=Secret(SECRET))
    port = free_port()
    keywords = {"port": port, "public_url": f"http://127.0.0.1:{port}"}
    first = backend_factory(settings, callback_allow=("127.0.0.1",), **keywords)
    with client(first) as api:
        started = api.post("/api/send", json=body(4)).raise_for_status().json()
        poll_until(api, started["run"], {}, {})
    first.stop()  # killed before any report came
    wait_until(lambda: any(c["outcome"] != "ok" for c in sim.callbacks()), timeout=10)

    second = backend_factory(settings, callback_allow=("127.0.0.1",), **keywords)
    grid: Grid = {}
    with client(second) as api:

        def settled(poll: dict[str, Any]) -> bool:
            words = [grid.get((row, STATUS)) for row in range(2, 6)]
            return words == ["delivered", "delivered", "failed", "delivered"]

        poll_until(api, started["run"], grid, {}, done=settled, timeout=20)

    refused = [c for c in sim.callbacks() if c["outcome"] != "ok"]
    assert refused, "no report was retried: the test did not cover a backend that was down"
