"""The simulator's account rate: queue beyond it (46elks' documented way) or answer 429."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from elksxl.simulator.testing import SimulatorHandle, wait_until
from elksxl.simulator.throttle import Throttle

Start = Callable[..., SimulatorHandle]


def post(handle: SimulatorHandle, client: httpx.Client, n: int) -> httpx.Response:
    data = {"from": "ElksXL", "to": "+46701234567", "message": f"message {n}"}
    return client.post(handle.base_url + "/sms", data=data, auth=handle.auth)


def test_over_rate_429_rejects_beyond_the_burst_with_retry_after(
    simulator_factory: Start,
) -> None:
    handle = simulator_factory({"rate_per_minute": 60, "burst": 2, "over_rate": "429"})
    with httpx.Client(trust_env=False) as client:
        answers = [post(handle, client, n) for n in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "1"
    assert len(handle.messages()) == 2
    assert handle.stats()["rate_limited"] == 1


def test_after_retry_after_the_send_is_accepted(simulator_factory: Start) -> None:
    handle = simulator_factory({"rate_per_minute": 120, "burst": 1, "over_rate": "429"})
    with httpx.Client(trust_env=False) as client:
        assert post(handle, client, 1).status_code == 200
        assert post(handle, client, 2).status_code == 429
        wait_until(lambda: post(handle, client, 3).status_code == 200, timeout=2)

    assert [m["message"] for m in handle.messages()] == ["message 1", "message 3"]


def test_over_rate_queue_accepts_all_and_holds_the_excess_as_created(
    simulator_factory: Start,
) -> None:
    handle = simulator_factory(
        {"rate_per_minute": 120, "burst": 2, "delivery": {"delivered_after_ms": 0}}
    )
    with httpx.Client(trust_env=False) as client:
        answers = [post(handle, client, n) for n in range(4)]
    statuses = [m["status"] for m in handle.messages()]

    assert [a.status_code for a in answers] == [200] * 4
    assert statuses[2:] == ["created", "created"]  # due 0.5 s and 1 s later
    assert handle.stats()["queued"] == 2
    wait_until(lambda: all(m["status"] == "delivered" for m in handle.messages()), timeout=5)


def test_rate_zero_is_unlimited(simulator_factory: Start) -> None:
    handle = simulator_factory({"rate_per_minute": 0, "burst": 1, "over_rate": "429"})
    with httpx.Client(trust_env=False) as client:
        assert all(post(handle, client, n).status_code == 200 for n in range(30))
    assert handle.stats()["rate_limited"] == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttle_refills_at_the_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    throttle = Throttle(60, 3, clock=clock)

    assert [throttle.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert throttle.try_take() == pytest.approx(1.0)
    clock.now = 10.0  # would be 10 tokens, but the bucket holds 3
    assert [throttle.try_take() for _ in range(4)][-1] == pytest.approx(1.0)


def test_throttle_reserve_queues_in_order_at_the_rate() -> None:
    throttle = Throttle(120, 1, clock=FakeClock())

    assert [throttle.reserve() for _ in range(4)] == pytest.approx([0.0, 0.5, 1.0, 1.5])
