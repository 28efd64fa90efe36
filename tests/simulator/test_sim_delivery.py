"""Status progression and delivery-report callbacks, received by a real little web server."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from elksxl.simulator.testing import (
    CallbackReceiver,
    SimulatorHandle,
    running_callback_receiver,
    wait_until,
)

Start = Callable[..., SimulatorHandle]
FAST = {"delivered_after_ms": 50, "callback_retry_ms": 20, "callback_timeout_ms": 2000}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}")


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with running_callback_receiver() as running:
        yield running


def send(handle: SimulatorHandle, to: str = "+46701234567", **params: str) -> dict[str, Any]:
    data = {"from": "ElksXL", "to": to, "message": "Hej"} | params
    response = handle.http.post(handle.base_url + "/sms", data=data, auth=handle.auth)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def status_of(handle: SimulatorHandle, sms_id: str) -> dict[str, Any]:
    response = handle.http.get(f"{handle.base_url}/sms/{sms_id}", auth=handle.auth)
    body: dict[str, Any] = response.raise_for_status().json()
    return body


def test_delivery_reports_post_sent_then_delivered(
    simulator_factory: Start, receiver: CallbackReceiver
) -> None:
    handle = simulator_factory({"delivery": FAST})
    sms = send(handle, whendelivered=receiver.url)

    wait_until(lambda: len(receiver.received()) == 2)
    sent, delivered = receiver.received()
    assert sent == {"id": sms["id"], "status": "sent"}
    assert (delivered["id"], delivered["status"]) == (sms["id"], "delivered")
    assert TIMESTAMP.fullmatch(delivered["delivered"])
    final = status_of(handle, sms["id"])
    assert (final["status"], final["delivered"]) == ("delivered", delivered["delivered"])


def test_status_moves_from_created_to_sent_to_delivered_without_a_callback(
    simulator_factory: Start,
) -> None:
    handle = simulator_factory({"delivery": {"sent_after_ms": 500, "delivered_after_ms": 300}})
    sms = send(handle)

    assert status_of(handle, sms["id"])["status"] == "created"
    wait_until(lambda: status_of(handle, sms["id"])["status"] == "sent")
    assert "delivered" not in status_of(handle, sms["id"])
    wait_until(lambda: status_of(handle, sms["id"])["status"] == "delivered")


def test_failing_numbers_end_failed_without_a_delivered_time(
    simulator_factory: Start, receiver: CallbackReceiver
) -> None:
    handle = simulator_factory({"delivery": FAST | {"failing_numbers": ["+46709999999"]}})
    sms = send(handle, to="+46709999999", whendelivered=receiver.url)

    wait_until(lambda: len(receiver.received()) == 2)
    assert receiver.received()[1] == {"id": sms["id"], "status": "failed"}
    assert "delivered" not in status_of(handle, sms["id"])


def test_a_failed_callback_is_retried_until_it_succeeds(simulator_factory: Start) -> None:
    handle = simulator_factory({"delivery": FAST | {"delivered_after_ms": 800}})
    with running_callback_receiver(answers=[500, 503]) as receiver:
        sms = send(handle, whendelivered=receiver.url)
        wait_until(lambda: len(receiver.received()) == 4)
        statuses = [r["status"] for r in receiver.received()]

    assert statuses == ["sent", "sent", "sent", "delivered"]
    assert {r["id"] for r in receiver.received()} == {sms["id"]}
    stats = handle.stats()
    assert (stats["callbacks_tried"], stats["callbacks_failed"]) == (4, 2)
    assert stats["callbacks_succeeded"] == 2
    assert [c["outcome"] for c in handle.callbacks()] == ["500", "503", "ok", "ok"]


def test_callbacks_give_up_after_max_tries(simulator_factory: Start) -> None:
    handle = simulator_factory({"delivery": FAST | {"callback_max_tries": 3}})
    with running_callback_receiver(answers=[500] * 10) as receiver:
        send(handle, whendelivered=receiver.url)
        wait_until(lambda: handle.stats()["callbacks_abandoned"] == 2)

    assert len(receiver.received()) == 6
    assert handle.stats()["callbacks_tried"] == 6


def test_an_unreachable_callback_url_counts_as_failed_tries(simulator_factory: Start) -> None:
    with running_callback_receiver() as gone:
        url = gone.url  # this port is closed once the receiver stops
    handle = simulator_factory({"delivery": FAST | {"callback_max_tries": 2}})
    send(handle, whendelivered=url)

    wait_until(lambda: handle.stats()["callbacks_abandoned"] == 2)
    assert {c["outcome"] for c in handle.callbacks()} == {"ConnectError"}


def test_callback_failure_loses_reports_but_status_still_moves(
    simulator_factory: Start, receiver: CallbackReceiver
) -> None:
    handle = simulator_factory({"delivery": FAST, "faults": {"callback_failure": 1.0}})
    sms = send(handle, whendelivered=receiver.url)

    wait_until(lambda: status_of(handle, sms["id"])["status"] == "delivered")
    wait_until(lambda: handle.stats()["callbacks_lost"] == 2)
    assert receiver.received() == []


def test_failure_rate_is_seeded(simulator_factory: Start) -> None:
    def outcomes(seed: int) -> list[str]:
        handle = simulator_factory(
            {
                "rate_per_minute": 0,
                "delivery": FAST | {"failure_rate": 0.5},
                "faults": {"seed": seed},
            }
        )
        for n in range(16):
            send(handle, message=f"message {n}")
        settled = ("delivered", "failed")
        wait_until(lambda: all(m["status"] in settled for m in handle.messages()))
        return [m["status"] for m in handle.messages()]

    first, again = outcomes(5), outcomes(5)
    assert first == again
    assert set(first) == {"delivered", "failed"}


def test_stopping_with_pending_reports_is_clean(simulator_factory: Start) -> None:
    handle = simulator_factory({"delivery": {"delivered_after_ms": 60_000}})
    send(handle, whendelivered="http://127.0.0.1:9/never")
    # Teardown cancels the pending status change; warnings would fail the test.
