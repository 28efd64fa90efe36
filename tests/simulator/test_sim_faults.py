"""Seeded faults: 5xx without processing, real connection drops before and after, latency."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from elksxl.simulator import Scenario, create_app
from elksxl.simulator.faults import decide
from elksxl.simulator.testing import SimulatorHandle, wait_until

Start = Callable[..., SimulatorHandle]
DATA = {"from": "ElksXL", "to": "+46701234567", "message": "Hej"}


def faulty(**faults: Any) -> dict[str, Any]:
    return {"rate_per_minute": 0, "faults": faults}


def test_5xx_answers_empty_and_processes_nothing(simulator_factory: Start) -> None:
    handle = simulator_factory(faulty(error_5xx=1.0))
    with httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client:
        answers = [client.post("/sms", data=DATA) for _ in range(6)]
        me = client.get("/me")

    assert {a.status_code for a in answers} <= {500, 502, 503}
    assert all(a.content == b"" for a in answers)
    assert handle.messages() == []
    assert handle.stats()["errors_5xx"] == 6
    assert me.status_code == 200  # targets "send": other calls are untouched


def test_targets_all_puts_faults_on_every_api_call(simulator_factory: Start) -> None:
    handle = simulator_factory(faulty(error_5xx=1.0, targets="all"))
    with httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client:
        assert client.get("/me").status_code >= 500
        assert client.get("/sms").status_code >= 500
    assert httpx.get(handle.root_url + "/__sim/stats", trust_env=False).status_code == 200


def test_drop_before_is_a_transport_error_and_nothing_is_stored(simulator_factory: Start) -> None:
    handle = simulator_factory(faulty(drop_before=1.0))
    with (
        httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post("/sms", data=DATA)

    assert handle.messages() == []
    assert handle.balance() == handle.scenario.accounts[0].balance
    assert handle.stats()["drops_before"] == 1


def test_drop_after_stores_and_charges_but_the_client_never_hears(
    simulator_factory: Start,
) -> None:
    handle = simulator_factory(faulty(drop_after=1.0))
    with (
        httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post("/sms", data=DATA)

    [stored] = handle.messages()
    assert stored["message"] == "Hej"
    assert handle.balance() == handle.scenario.accounts[0].balance - 3500
    assert handle.stats()["drops_after"] == 1


def test_the_same_connection_pool_recovers_after_a_drop(simulator_factory: Start) -> None:
    handle = simulator_factory(faulty(drop_after=0.5, seed=3))
    outcomes = []
    with httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client:
        for _ in range(20):
            try:
                outcomes.append(client.post("/sms", data=DATA).status_code)
            except httpx.TransportError:
                outcomes.append(0)

    assert 0 in outcomes
    assert 200 in outcomes
    assert len(handle.messages()) == 20  # every request was processed, heard or not


def run_sequence(handle: SimulatorHandle, count: int) -> list[str]:
    """What the client saw per send, and whether the simulator stored it."""
    seen = []
    with httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client:
        for _ in range(count):
            before = len(handle.messages())
            try:
                outcome = str(client.post("/sms", data=DATA).status_code)
            except httpx.TransportError:
                outcome = "drop"
            seen.append(f"{outcome}/{len(handle.messages()) - before}")
    return seen


def test_same_seed_gives_the_same_fault_sequence(simulator_factory: Start) -> None:
    mix = {"error_5xx": 0.25, "drop_before": 0.25, "drop_after": 0.25}
    first = run_sequence(simulator_factory(faulty(seed=7, **mix)), 24)
    second = run_sequence(simulator_factory(faulty(seed=7, **mix)), 24)
    other = run_sequence(simulator_factory(faulty(seed=8, **mix)), 24)

    assert first == second
    assert first != other
    assert {"drop/0", "drop/1", "200/1"} <= set(first)
    assert any(s.startswith("5") and s.endswith("/0") for s in first)


def test_decide_draws_the_same_decisions_from_the_same_seed() -> None:
    faults = Scenario.from_dict(
        {"faults": {"error_5xx": 0.3, "drop_before": 0.2, "latency": {"max_ms": 50}}}
    ).faults
    one, two = random.Random(1), random.Random(1)

    assert [decide(faults, one) for _ in range(50)] == [decide(faults, two) for _ in range(50)]


def test_latency_delays_the_answer(simulator_factory: Start) -> None:
    handle = simulator_factory(
        faulty(latency={"min_ms": 150, "max_ms": 150, "spike_rate": 1.0, "spike_ms": 100})
    )
    with httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client:
        started = time.monotonic()
        assert client.post("/sms", data=DATA).status_code == 200
        assert time.monotonic() - started >= 0.25


def test_a_client_timing_out_during_latency_still_gets_the_sms_sent(
    simulator_factory: Start,
) -> None:
    handle = simulator_factory(faulty(latency={"min_ms": 300, "max_ms": 300}))
    with (
        httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post("/sms", data=DATA, timeout=0.1)

    wait_until(lambda: len(handle.messages()) == 1, timeout=5)


def test_in_process_drop_reaches_the_client_as_a_transport_error() -> None:
    app = create_app(Scenario.from_dict(faulty(drop_after=1.0)))

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://sim/a1") as client,
        ):
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/sms", data=DATA, auth=("sim", "sim"))

    asyncio.run(scenario())
    assert len(app.state.sim.messages) == 1
