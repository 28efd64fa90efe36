"""The 46elks client against the simulator over real HTTP on 127.0.0.1.

A few wire details the simulator cannot produce (an HTTP-date Retry-After, a 402, a 2xx that
is not JSON, every httpx exception class) go through ``httpx.MockTransport``, httpx's own seam.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest

from elksxl.client import DEFAULT_RETRY_AFTER, Account, ElksClient, Sms
from elksxl.config import Secret, Settings
from elksxl.errors import (
    AuthenticationError,
    ConfigError,
    ConnectionLostError,
    ElksxlError,
    NotReachedError,
    OutOfCreditsError,
    RateLimitedError,
    RejectedError,
    ServerError,
    UnknownOutcomeError,
)
from elksxl.simulator import TEST_NUMBER, Scenario, create_app
from elksxl.simulator.testing import SimulatorHandle, wait_until

T = TypeVar("T")
StartSimulator = Callable[..., SimulatorHandle]

TO = "+46701234567"
OTHER = "+46709876543"
SENDER = "ElksTest"
LEAKY_USER = "leaky"
LEAKY_PASSWORD = "Hunter2-Tr0ub4dor-LEAKME"
LEAKY_TOKEN = base64.b64encode(f"{LEAKY_USER}:{LEAKY_PASSWORD}".encode()).decode()


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run one async scenario to completion (pytest-asyncio is not a dependency)."""

    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def dead_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/a1"


def settings(*urls: str, password: str = "sim", user: str = "sim", timeout: float = 10) -> Settings:
    return Settings(username=user, password=Secret(password), api_urls=urls, timeout=timeout)


def client_for(sim: SimulatorHandle, **changes: Any) -> ElksClient:
    return ElksClient(sim.settings(**changes))


async def collect(items: AsyncIterator[Sms]) -> list[Sms]:
    return [sms async for sms in items]


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response], *, password: str = "pw-for-mock"
) -> ElksClient:
    return ElksClient(
        settings("https://elks.example/a1", "https://elks2.example/a1", password=password),
        transport=httpx.MockTransport(handler),
    )


# --- sending -------------------------------------------------------------------------------


def test_send_returns_the_accepted_sms_and_the_simulator_stores_and_charges_it(
    simulator: SimulatorHandle,
) -> None:
    before = simulator.balance()

    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.send(to=TO, message="Hej Anna!", sender=SENDER)

    sms = run(scenario)
    assert sms.id is not None
    assert sms.id.startswith("s")
    assert (sms.to, sms.sender, sms.message, sms.status) == (TO, SENDER, "Hej Anna!", "created")
    assert sms.parts == 1
    assert sms.cost == 3500
    assert sms.direction == "outgoing"
    assert sms.created is not None
    assert sms.created.tzinfo is UTC
    assert abs(datetime.now(UTC) - sms.created) < timedelta(minutes=1)
    stored = simulator.messages()
    assert [(m["id"], m["to"], m["message"]) for m in stored] == [(sms.id, TO, "Hej Anna!")]
    assert simulator.balance() == before - 3500


def test_send_passes_flash_dontlog_and_whendelivered_to_the_api(
    simulator: SimulatorHandle,
) -> None:
    async def scenario() -> tuple[Sms, Sms]:
        async with client_for(simulator) as client:
            sent = await client.send(
                to=TO,
                message="secret code 1234",
                sender=SENDER,
                flash=True,
                dontlog=True,
                whendelivered="http://127.0.0.1:9/dlr?row=7",
            )
            assert sent.id is not None
            return sent, await client.get(sent.id)

    sent, fetched = run(scenario)
    assert sent.message is None  # dontlog=message: 46elks does not echo the text
    assert fetched.message is None
    (stored,) = simulator.messages()
    assert stored["flashsms"] is True
    assert stored["dontlog"] is True
    assert stored["whendelivered"] == "http://127.0.0.1:9/dlr?row=7"
    assert stored["message"] == "secret code 1234"


def test_plain_send_asks_for_neither_flash_nor_dontlog(simulator: SimulatorHandle) -> None:
    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.send(to=TO, message="plain", sender=SENDER)

    assert run(scenario).message == "plain"
    (stored,) = simulator.messages()
    assert (stored["flashsms"], stored["dontlog"], stored["whendelivered"]) == (False, False, None)


def test_long_unicode_message_reports_its_parts_and_cost(simulator: SimulatorHandle) -> None:
    text = "Hälsningar 🙂 " * 10  # emoji force UCS-2: 140 units -> 3 parts of 67

    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.send(to=TO, message=text, sender=SENDER)

    sms = run(scenario)
    assert sms.parts == 3
    assert sms.cost == 3 * 3500
    assert sms.message == text


def test_dry_run_returns_estimate_and_parts_without_storing_or_charging(
    simulator: SimulatorHandle,
) -> None:
    before = simulator.balance()

    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.dry_run(to=TO, message="x" * 200, sender=SENDER)

    estimate = run(scenario)
    assert estimate.estimated_cost == 2 * 3500
    assert estimate.parts == 2
    assert estimate.cost is None
    assert estimate.to == TO
    assert simulator.messages() == []
    assert simulator.balance() == before


def test_send_to_the_test_number_is_logged_but_free(simulator: SimulatorHandle) -> None:
    before = simulator.balance()

    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.send(to=TEST_NUMBER, message="test", sender=SENDER)

    sms = run(scenario)
    assert sms.cost == 0
    assert [m["id"] for m in simulator.messages()] == [sms.id]
    assert simulator.balance() == before


def test_get_returns_the_message_as_it_moves_to_delivered(
    simulator_factory: StartSimulator,
) -> None:
    sim = simulator_factory({"delivery": {"delivered_after_ms": 0}})

    async def scenario() -> tuple[Sms, Sms]:
        async with client_for(sim) as client:
            sent = await client.send(to=TO, message="Hej", sender=SENDER)
            assert sent.id is not None
            for _ in range(200):
                fetched = await client.get(sent.id)
                if fetched.status == "delivered":
                    break
                await asyncio.sleep(0.02)
            return sent, fetched

    sent, fetched = run(scenario)
    assert fetched.id == sent.id
    assert (fetched.to, fetched.message, fetched.cost, fetched.parts) == (TO, "Hej", 3500, 1)
    assert fetched.status == "delivered"
    assert fetched.created == sent.created
    assert fetched.delivered is not None
    assert fetched.delivered.tzinfo is UTC
    assert fetched.delivered >= sent.created  # type: ignore[operator]


def test_get_of_an_unknown_id_is_rejected_with_the_body(simulator: SimulatorHandle) -> None:
    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.get("s" + "0" * 32)

    with pytest.raises(RejectedError) as caught:
        run(scenario)
    assert caught.value.status_code == 404
    assert caught.value.body == "Not found"


def test_me_returns_the_account_with_balance_in_units(simulator: SimulatorHandle) -> None:
    simulator.set_balance("sim", 1234567)

    async def scenario() -> Account:
        async with client_for(simulator) as client:
            return await client.me()

    account = run(scenario)
    assert account.balance == 1234567
    assert account.currency == "SEK"
    assert account.name == "Simulated account"
    assert account.id.startswith("u")
    assert account.mobilenumber == "+46700000001"
    assert account.email == "sim@example.invalid"


def test_client_works_in_process_over_asgi_transport() -> None:
    app = create_app(Scenario.default())

    async def scenario() -> tuple[Sms, Account]:
        transport = httpx.ASGITransport(app=app)
        async with ElksClient(settings("http://sim.test/a1"), transport=transport) as client:
            return await client.send(to=TO, message="in process", sender=SENDER), await client.me()

    sms, account = run(scenario)
    assert sms.id is not None
    assert sms.cost == 3500
    assert account.balance == Scenario.default().accounts[0].balance - 3500


# --- delivery reports ----------------------------------------------------------------------


@contextmanager
def report_receiver() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A tiny HTTP server on 127.0.0.1 that records every form POSTed to it."""
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            received.append({k: v[0] for k, v in parse_qs(body).items()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dlr", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_whendelivered_url_receives_the_delivery_reports(
    simulator_factory: StartSimulator,
) -> None:
    sim = simulator_factory({"delivery": {"delivered_after_ms": 10}})
    with report_receiver() as (url, received):

        async def scenario() -> Sms:
            async with client_for(sim) as client:
                return await client.send(to=TO, message="Hej", sender=SENDER, whendelivered=url)

        sms = run(scenario)
        wait_until(lambda: any(r.get("status") == "delivered" for r in received))
    assert {r["id"] for r in received} == {sms.id}
    assert [r["status"] for r in received] == ["sent", "delivered"]


# --- errors --------------------------------------------------------------------------------


def test_wrong_password_raises_authentication_error(simulator: SimulatorHandle) -> None:
    async def scenario() -> Sms:
        async with ElksClient(settings(simulator.base_url, password="nope-nope")) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(AuthenticationError) as caught:
        run(scenario)
    assert caught.value.status_code == 401
    assert "API username 'sim'" in str(caught.value)
    assert simulator.messages() == []


@pytest.mark.parametrize(
    ("to", "sender", "body"),
    [("0701234567", SENDER, "Invalid to number"), (TO, "1nvalid sender!", "Invalid from")],
)
def test_refused_parameters_raise_rejected_error_with_the_body(
    simulator: SimulatorHandle, to: str, sender: str, body: str
) -> None:
    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.send(to=to, message="Hej", sender=sender)

    with pytest.raises(RejectedError) as caught:
        run(scenario)
    assert caught.value.status_code == 403
    assert caught.value.body == body
    assert str(caught.value) == f"46elks refused the message: {body} (HTTP 403)"
    assert simulator.messages() == []


def test_empty_balance_raises_out_of_credits(simulator: SimulatorHandle) -> None:
    simulator.set_balance("sim", 3499)  # one part costs 3500

    async def scenario() -> Sms:
        async with client_for(simulator) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(OutOfCreditsError) as caught:
        run(scenario)
    assert caught.value.body == "Not enough credits"
    assert "top up" in str(caught.value)
    assert simulator.messages() == []


def test_over_rate_429_raises_rate_limited_with_retry_after(
    simulator_factory: StartSimulator,
) -> None:
    sim = simulator_factory({"rate_per_minute": 2, "burst": 1, "over_rate": "429"})

    async def scenario() -> Sms:
        async with client_for(sim) as client:
            await client.send(to=TO, message="first", sender=SENDER)
            return await client.send(to=TO, message="second", sender=SENDER)

    with pytest.raises(RateLimitedError) as caught:
        run(scenario)
    assert caught.value.status_code == 429
    assert 1 <= caught.value.retry_after <= 30  # one token per 30 s
    assert [m["message"] for m in sim.messages()] == ["first"]


def test_server_error_raises_server_error_with_unknown_outcome(
    simulator_factory: StartSimulator,
) -> None:
    sim = simulator_factory({"faults": {"error_5xx": 1.0}})

    async def scenario() -> Sms:
        async with client_for(sim) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(ServerError) as caught:
        run(scenario)
    assert caught.value.status_code in (500, 502, 503)
    assert isinstance(caught.value, UnknownOutcomeError)
    assert "may or may not have been sent" in str(caught.value)


def test_drop_after_processing_raises_connection_lost_and_the_message_exists(
    simulator_factory: StartSimulator,
) -> None:
    sim = simulator_factory({"faults": {"drop_after": 1.0}})

    async def scenario() -> Sms:
        async with client_for(sim) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(ConnectionLostError) as caught:
        run(scenario)
    assert isinstance(caught.value, UnknownOutcomeError)
    assert caught.value.url == sim.base_url
    assert "check the history before resending" in str(caught.value)
    assert [m["message"] for m in sim.messages()] == ["Hej"]


def test_drop_before_processing_also_raises_connection_lost(
    simulator_factory: StartSimulator,
) -> None:
    # The request was written before the drop, so the client cannot know it was not processed.
    sim = simulator_factory({"faults": {"drop_before": 1.0}})

    async def scenario() -> Sms:
        async with client_for(sim) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(ConnectionLostError):
        run(scenario)
    assert sim.messages() == []


def test_no_answer_within_the_timeout_raises_connection_lost(
    simulator_factory: StartSimulator,
) -> None:
    sim = simulator_factory({"faults": {"latency": {"min_ms": 1500, "max_ms": 1500}}})

    async def scenario() -> Sms:
        async with client_for(sim, timeout=0.2) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(ConnectionLostError) as caught:
        run(scenario)
    assert "did not answer within 0.2 s" in str(caught.value)


# --- failover ------------------------------------------------------------------------------


def test_dead_first_url_fails_over_to_the_second_for_every_call(
    simulator: SimulatorHandle,
) -> None:
    async def scenario() -> tuple[Sms, Sms, Account, list[Sms]]:
        async with ElksClient(settings(dead_url(), simulator.base_url)) as client:
            sent = await client.send(to=TO, message="Hej", sender=SENDER)
            assert sent.id is not None
            return (
                sent,
                await client.get(sent.id),
                await client.me(),
                await collect(client.history()),
            )

    sent, fetched, account, history = run(scenario)
    assert fetched.id == sent.id
    assert account.currency == "SEK"
    assert [sms.id for sms in history] == [sent.id]
    assert len(simulator.messages()) == 1


def test_failover_sticks_to_the_url_that_last_answered(
    simulator_factory: StartSimulator,
) -> None:
    live = simulator_factory()
    first = dead_url()

    async def scenario() -> None:
        async with ElksClient(settings(first, live.base_url)) as client:
            await client.send(to=TO, message="one", sender=SENDER)
            # The first URL comes back to life; the client stays where it succeeded.
            revived = simulator_factory(port=httpx.URL(first).port)
            await client.send(to=TO, message="two", sender=SENDER)
            assert revived.stats()["requests"] == 0

    run(scenario)
    assert [m["message"] for m in live.messages()] == ["one", "two"]


def test_every_url_dead_raises_not_reached_naming_how_many_were_tried() -> None:
    urls = (dead_url(), dead_url(), "http://nothing.invalid/a1")

    async def scenario() -> Account:
        async with ElksClient(settings(*urls)) as client:
            return await client.me()

    with pytest.raises(NotReachedError) as caught:
        run(scenario)
    assert "tried 3 API URLs" in str(caught.value)
    assert caught.value.url in urls


def test_lost_connection_does_not_fail_over(simulator_factory: StartSimulator) -> None:
    dropping = simulator_factory({"faults": {"drop_after": 1.0}})
    spare = simulator_factory()

    async def scenario() -> Sms:
        async with ElksClient(settings(dropping.base_url, spare.base_url)) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(ConnectionLostError):
        run(scenario)
    assert len(dropping.messages()) == 1
    assert spare.messages() == []


def test_server_error_does_not_fail_over(simulator_factory: StartSimulator) -> None:
    failing = simulator_factory({"faults": {"error_5xx": 1.0}})
    spare = simulator_factory()

    async def scenario() -> Sms:
        async with ElksClient(settings(failing.base_url, spare.base_url)) as client:
            return await client.send(to=TO, message="Hej", sender=SENDER)

    with pytest.raises(ServerError):
        run(scenario)
    assert spare.messages() == []


# --- history -------------------------------------------------------------------------------


def test_history_pages_past_100_newest_first_without_duplicates(
    simulator_factory: StartSimulator,
) -> None:
    sim = simulator_factory({"rate_per_minute": 0})

    async def scenario() -> tuple[list[str], list[Sms], list[Sms], list[Sms]]:
        async with client_for(sim) as client:
            sent: list[str] = []
            for i in range(140):
                to = OTHER if i % 14 == 13 else TO
                sms = await client.send(to=to, message=f"message {i}", sender=SENDER)
                assert sms.id is not None
                sent.append(sms.id)
            return (
                sent,
                await collect(client.history(to=TO)),
                await collect(client.history(to=OTHER)),
                await collect(client.history()),
            )

    sent, to_main, to_other, everything = run(scenario)
    assert [s.id for s in everything] == sent[::-1]
    assert len(to_main) == 130
    assert all(s.to == TO for s in to_main)
    assert len({s.id for s in to_main}) == 130
    assert [s.id for s in to_main] == [s.id for s in everything if s.to == TO]
    assert [s.message for s in to_other] == [f"message {i}" for i in range(139, 0, -14)]
    created = [s.created for s in everything]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]


def test_history_window_start_is_exclusive_and_end_inclusive(simulator: SimulatorHandle) -> None:
    async def scenario() -> tuple[list[Sms], list[list[Sms]]]:
        async with client_for(simulator) as client:
            sent = [await client.send(to=TO, message=str(i), sender=SENDER) for i in range(3)]
            times = [s.created for s in sent]
            assert all(t is not None for t in times)
            t0, t1, t2 = times[0], times[1], times[2]
            assert t0 is not None
            assert t1 is not None
            assert t2 is not None
            stockholm = timezone(timedelta(hours=2))
            windows = [
                await collect(client.history(end=t1)),
                await collect(client.history(start=t1)),
                await collect(client.history(start=t2.astimezone(stockholm), end=t0)),
                await collect(client.history(start=t0.replace(tzinfo=None))),
            ]
            return sent, windows

    sent, windows = run(scenario)
    ids = [s.id for s in sent]
    assert [[s.id for s in window] for window in windows] == [
        [ids[2], ids[1]],
        [ids[0]],
        [ids[1], ids[0]],
        [],
    ]


def test_history_follows_next_keeping_to_and_end_and_formats_timestamps() -> None:
    seen: list[dict[str, str]] = []
    item = {"id": "s1", "to": TO, "from": SENDER, "created": "2024-05-01T10:00:00.000001"}

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        if "start" not in params or params["start"] == "2024-06-01T08:00:00.000000":
            return httpx.Response(
                200, json={"data": [item | {"id": f"s{len(seen)}"}], "next": "2024-05-01T10:00"}
            )
        return httpx.Response(200, json={"data": [item | {"id": "s9"}]})

    async def scenario() -> list[Sms]:
        async with mock_client(handler) as client:
            start = datetime(2024, 6, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
            end = datetime(2024, 1, 1, 0, 0)
            return await collect(client.history(to=TO, start=start, end=end))

    result = run(scenario)
    assert seen == [
        {"to": TO, "end": "2024-01-01T00:00:00.000000", "start": "2024-06-01T08:00:00.000000"},
        {"to": TO, "end": "2024-01-01T00:00:00.000000", "start": "2024-05-01T10:00"},
    ]
    assert [s.id for s in result] == ["s1", "s9"]
    assert result[0].created == datetime(2024, 5, 1, 10, 0, 0, 1, tzinfo=UTC)


def test_history_skips_an_item_repeated_across_a_page_boundary() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "start" not in request.url.params:
            page = [{"id": "s3", "to": TO}, {"id": "s2", "to": TO}]
            return httpx.Response(200, json={"data": page, "next": "2024-01-01T00:00:00.000000"})
        return httpx.Response(200, json={"data": [{"id": "s2", "to": TO}, {"id": "s1"}]})

    async def scenario() -> list[Sms]:
        async with mock_client(handler) as client:
            return await collect(client.history())

    assert [s.id for s in run(scenario)] == ["s3", "s2", "s1"]


def test_history_whose_next_does_not_advance_raises_instead_of_looping() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = {"data": [{"id": "s1"}], "next": "2024-01-01T00:00:00.000000"}
        return httpx.Response(200, json=page)

    async def scenario() -> list[Sms]:
        async with mock_client(handler) as client:
            return await collect(client.history())

    with pytest.raises(ServerError, match="paging did not advance"):
        run(scenario)


# --- the wire, through httpx's MockTransport --------------------------------------------------


def test_send_posts_the_documented_form_with_auth_and_user_agent() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"id": "s1", "to": TO, "from": SENDER, "status": "created"})

    async def scenario() -> None:
        async with mock_client(handler, password="pw") as client:
            await client.send(
                to=TO,
                message="Hå & hej=1",
                sender=SENDER,
                whendelivered="https://example.org/dlr?a=1&b=2",
                flash=True,
                dontlog=True,
            )
            await client.dry_run(to=TO, message="x", sender=SENDER)

    with pytest.raises(ServerError):  # the dry run answer has no estimated_cost
        run(scenario)
    send, dry = requests
    assert send.method == "POST"
    assert str(send.url) == "https://elks.example/a1/sms"
    assert send.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert send.headers["Authorization"] == "Basic " + base64.b64encode(b"sim:pw").decode()
    assert send.headers["User-Agent"].startswith("elksxl/")
    assert parse_qs(send.content.decode()) == {
        "from": [SENDER],
        "to": [TO],
        "message": ["Hå & hej=1"],
        "whendelivered": ["https://example.org/dlr?a=1&b=2"],
        "flashsms": ["yes"],
        "dontlog": ["message"],
    }
    assert parse_qs(dry.content.decode())["dryrun"] == ["yes"]


def test_unknown_fields_and_statuses_are_tolerated() -> None:
    body = {
        "id": "s1",
        "status": "recieved",
        "from": SENDER,
        "to": TO,
        "created": "2016-10-11T13:36:13.081000",
        "delivered": "not a time",
        "cost": "3500",
        "parts": 1.0,
        "shortlinks": {"x": 1},
        "direction": "outgoing-reply",
    }

    async def scenario() -> Sms:
        async with mock_client(lambda request: httpx.Response(200, json=body)) as client:
            return await client.get("s1")

    sms = run(scenario)
    assert sms.status == "recieved"
    assert sms.created == datetime(2016, 10, 11, 13, 36, 13, 81000, tzinfo=UTC)
    assert sms.delivered is None
    assert (sms.cost, sms.parts, sms.direction) == (3500, 1, "outgoing-reply")


def test_get_quotes_the_id_into_one_path_segment() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"id": "x"})

    async def scenario() -> Sms:
        async with mock_client(handler) as client:
            return await client.get("../me?x=1")

    run(scenario)
    assert paths == ["/a1/sms/..%2Fme%3Fx%3D1"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        (None, DEFAULT_RETRY_AFTER),
        ("soon", DEFAULT_RETRY_AFTER),
        ("-3", 0.0),
    ],
)
def test_retry_after_seconds_or_default(header: str | None, expected: float) -> None:
    headers = {"Retry-After": header} if header is not None else {}

    async def scenario() -> Sms:
        async with mock_client(lambda r: httpx.Response(429, headers=headers)) as client:
            return await client.send(to=TO, message="x", sender=SENDER)

    with pytest.raises(RateLimitedError) as caught:
        run(scenario)
    assert caught.value.retry_after == expected


def test_retry_after_as_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)

    async def scenario() -> Sms:
        respond = lambda r: httpx.Response(429, headers={"Retry-After": when})  # noqa: E731
        async with mock_client(respond) as client:
            return await client.send(to=TO, message="x", sender=SENDER)

    with pytest.raises(RateLimitedError) as caught:
        run(scenario)
    assert 100 < caught.value.retry_after <= 120


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (402, "Payment required", OutOfCreditsError),
        (403, '{"error": "Not enough credits"}', OutOfCreditsError),
        (403, "Insufficient balance", OutOfCreditsError),
        (400, "Missing key message", RejectedError),
        (404, "Not found", RejectedError),
        (401, "API access require proper Basic HTTP authentication.", AuthenticationError),
        (500, "", ServerError),
        (503, "<html>busy</html>", ServerError),
        (302, "", ServerError),
    ],
)
def test_status_codes_map_to_the_error_tree(
    status: int, body: str, expected: type[ElksxlError]
) -> None:
    async def scenario() -> Sms:
        async with mock_client(lambda r: httpx.Response(status, text=body)) as client:
            return await client.send(to=TO, message="x", sender=SENDER)

    with pytest.raises(expected) as caught:
        run(scenario)
    assert type(caught.value) is expected


def test_json_error_body_is_shown_as_its_sentence() -> None:
    async def scenario() -> Sms:
        respond = lambda r: httpx.Response(403, text='{"error": "Invalid to number"}')  # noqa: E731
        async with mock_client(respond) as client:
            return await client.send(to=TO, message="x", sender=SENDER)

    with pytest.raises(RejectedError) as caught:
        run(scenario)
    assert str(caught.value) == "46elks refused the message: Invalid to number (HTTP 403)"
    assert caught.value.body == '{"error": "Invalid to number"}'


def test_long_error_body_is_trimmed_and_capped() -> None:
    async def scenario() -> Sms:
        respond = lambda r: httpx.Response(403, text="\n  " + "x" * 5000 + "  \n")  # noqa: E731
        async with mock_client(respond) as client:
            return await client.send(to=TO, message="x", sender=SENDER)

    with pytest.raises(RejectedError) as caught:
        run(scenario)
    assert len(caught.value.body) == 500
    assert caught.value.body.startswith("xxx")
    assert caught.value.body.endswith("…")
    assert len(str(caught.value)) < 600


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="OK"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"status": "created", "to": TO}),
        httpx.Response(202, content=b"\xff\xfe"),
    ],
)
def test_a_success_status_without_a_usable_answer_is_an_unknown_outcome(
    response: httpx.Response,
) -> None:
    async def scenario() -> Sms:
        async with mock_client(lambda r: response) as client:
            return await client.send(to=TO, message="x", sender=SENDER)

    with pytest.raises(ServerError, match="unexpected answer") as caught:
        run(scenario)
    assert isinstance(caught.value, UnknownOutcomeError)
    assert "may or may not have been sent" in str(caught.value)


def test_account_without_balance_is_an_unexpected_answer() -> None:
    async def scenario() -> Account:
        respond = lambda r: httpx.Response(200, json={"id": "u1", "currency": "SEK"})  # noqa: E731
        async with mock_client(respond) as client:
            return await client.me()

    with pytest.raises(ServerError, match="no 'balance'"):
        run(scenario)


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (httpx.ConnectError("refused"), NotReachedError),
        (httpx.ConnectTimeout("slow"), NotReachedError),
        (httpx.PoolTimeout("busy"), NotReachedError),
        (httpx.ProxyError("tunnel"), NotReachedError),
        (httpx.ReadTimeout("slow"), ConnectionLostError),
        (httpx.ReadError("reset"), ConnectionLostError),
        (httpx.WriteTimeout("slow"), ConnectionLostError),
        (httpx.WriteError("broken pipe"), ConnectionLostError),
        (httpx.RemoteProtocolError("dropped"), ConnectionLostError),
        (httpx.LocalProtocolError("odd"), ConnectionLostError),
        (httpx.CloseError("close"), ConnectionLostError),
        (httpx.DecodingError("gzip"), ServerError),
    ],
)
def test_httpx_exceptions_map_to_reached_or_not(
    exception: httpx.HTTPError, expected: type[ElksxlError]
) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        raise exception

    async def scenario() -> Sms:
        async with mock_client(handler) as client:
            return await client.send(to=TO, message="x", sender=SENDER)

    with pytest.raises(expected) as caught:
        run(scenario)
    assert type(caught.value) is expected
    # Only a request that provably never left is tried again, at the next URL.
    if expected is NotReachedError:
        assert hosts == ["elks.example", "elks2.example"]
        assert "tried 2 API URLs" in str(caught.value)
    else:
        assert hosts == ["elks.example"]


# --- configuration and secrets -------------------------------------------------------------


def test_credentials_in_an_api_url_are_refused_without_showing_them() -> None:
    with pytest.raises(ConfigError) as caught:
        ElksClient(settings(f"https://{LEAKY_USER}:{LEAKY_PASSWORD}@api.46elks.com/a1"))
    assert LEAKY_PASSWORD not in str(caught.value)
    assert "api.46elks.com" in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://api.46elks.com/a1", "api.46elks.com/a1", "http://"])
def test_unusable_api_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        ElksClient(settings(url))


def everything_said(error: BaseException) -> str:
    """Every text an error carries: message, repr, body, url, and its whole chain."""
    texts: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), str(seen.args)]
        texts += [str(getattr(seen, name, "")) for name in ("body", "url", "request")]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(texts)


def leaky_scenario(**extra: Any) -> dict[str, Any]:
    return {"accounts": [{"username": LEAKY_USER, "password": LEAKY_PASSWORD}], **extra}


def test_password_never_appears_in_repr_logs_or_any_error(
    simulator_factory: StartSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    normal = simulator_factory(leaky_scenario())
    limited = simulator_factory(leaky_scenario(rate_per_minute=1, burst=1, over_rate="429"))
    failing = simulator_factory(leaky_scenario(faults={"error_5xx": 1.0}))
    dropping = simulator_factory(leaky_scenario(faults={"drop_after": 1.0}))
    errors: list[ElksxlError] = []
    reprs: list[str] = []

    def echo(request: httpx.Request) -> httpx.Response:
        # A hostile or broken server that echoes our credentials back in its error body.
        said = f"{request.headers['Authorization']} {LEAKY_PASSWORD}"
        return httpx.Response(403 if request.method == "POST" else 200, text=said)

    async def attempt(client: ElksClient, call: Callable[[ElksClient], Awaitable[object]]) -> None:
        reprs.append(repr(client))
        try:
            await call(client)
        except ElksxlError as exc:
            errors.append(exc)

    async def send(client: ElksClient) -> Sms:
        return await client.send(to=TO, message="Hej", sender=SENDER)

    async def scenario() -> None:
        leaky = settings(normal.base_url, user=LEAKY_USER, password=LEAKY_PASSWORD)
        async with ElksClient(leaky) as client:
            await send(client)  # a success, for the logs
            await attempt(client, lambda c: c.send(to="123", message="x", sender=SENDER))
            normal.set_balance(LEAKY_USER, 0)
            await attempt(client, send)
        wrong = settings(normal.base_url, user=LEAKY_USER, password=LEAKY_PASSWORD + "x")
        for config in (
            wrong,
            settings(limited.base_url, user=LEAKY_USER, password=LEAKY_PASSWORD),
            settings(failing.base_url, user=LEAKY_USER, password=LEAKY_PASSWORD),
            settings(dropping.base_url, user=LEAKY_USER, password=LEAKY_PASSWORD),
            settings(dead_url(), dead_url(), user=LEAKY_USER, password=LEAKY_PASSWORD),
        ):
            async with ElksClient(config) as client:
                await attempt(client, send)
                await attempt(client, send)
        echoing = ElksClient(
            settings("https://echo.example/a1", user=LEAKY_USER, password=LEAKY_PASSWORD),
            transport=httpx.MockTransport(echo),
        )
        async with echoing as client:
            await attempt(client, send)
            await attempt(client, lambda c: c.me())

    run(scenario)
    kinds = {type(e) for e in errors}
    assert kinds == {
        RejectedError,
        OutOfCreditsError,
        AuthenticationError,
        RateLimitedError,
        ServerError,
        ConnectionLostError,
        NotReachedError,
    }
    texts = [everything_said(e) for e in errors] + reprs + [r.getMessage() for r in caplog.records]
    assert any("HTTP Request" in t for t in texts)  # httpx did log, and we looked at it
    for text in texts:
        assert LEAKY_PASSWORD not in text
        assert LEAKY_TOKEN not in text
