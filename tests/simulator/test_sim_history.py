"""The simulator's SMS history pages like 46elks: newest first, ``next`` until the end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from elksxl.simulator.testing import SimulatorHandle, running_simulator

ALICE = "+46701111111"
BOB = "+46702222222"
TOTAL = 230  # more than two full pages of 100

Page = dict[str, Any]


@pytest.fixture(scope="module")
def busy() -> Iterator[tuple[SimulatorHandle, list[dict[str, Any]]]]:
    """A simulator holding TOTAL messages, every third one to ALICE, the rest to BOB."""
    with running_simulator({"rate_per_minute": 0}) as handle, client(handle) as http:
        for n in range(TOTAL):
            to = ALICE if n % 3 == 0 else BOB
            data = {"from": "ElksXL", "to": to, "message": f"message {n}"}
            http.post("/sms", data=data).raise_for_status()
        yield handle, handle.messages()


def client(handle: SimulatorHandle) -> httpx.Client:
    return httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False, timeout=10)


def all_pages(handle: SimulatorHandle, **params: str) -> list[Page]:
    """The official loop: ask, then ask again with start=next until next is absent."""
    pages: list[Page] = []
    with client(handle) as http:
        while True:
            page = http.get("/sms", params=params).raise_for_status().json()
            pages.append(page)
            if "next" not in page:
                return pages
            params = params | {"start": page["next"]}


def ids(pages: list[Page]) -> list[str]:
    return [item["id"] for page in pages for item in page["data"]]


def test_paging_returns_every_message_once_newest_first(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]],
) -> None:
    handle, stored = busy
    pages = all_pages(handle)

    assert [len(page["data"]) for page in pages] == [100, 100, 30]
    assert ids(pages) == [m["id"] for m in reversed(stored)]
    assert pages[0]["next"] == pages[0]["data"][-1]["created"]


def test_history_items_carry_the_documented_fields(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]],
) -> None:
    handle, _ = busy
    with client(handle) as http:
        item = http.get("/sms", params={"limit": "1"}).json()["data"][0]

    required = {"id", "from", "to", "message", "created", "status", "cost", "parts", "direction"}
    assert required <= set(item)
    assert item["direction"] == "outgoing"


def test_created_timestamps_are_unique_and_strictly_increasing(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]],
) -> None:
    _, stored = busy
    created = [m["created"] for m in stored]

    assert created == sorted(created)
    assert len(set(created)) == len(created)


def test_to_filter_pages_through_one_recipient_only(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]],
) -> None:
    handle, stored = busy
    pages = all_pages(handle, to=ALICE)

    expected = [m["id"] for m in reversed(stored) if m["to"] == ALICE]
    assert len(expected) == 77
    assert ids(pages) == expected


def test_start_is_exclusive_and_end_inclusive(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]],
) -> None:
    handle, stored = busy
    params = {"start": stored[20]["created"], "end": stored[10]["created"]}
    with client(handle) as http:
        page = http.get("/sms", params=params).json()

    assert [item["id"] for item in page["data"]] == [m["id"] for m in reversed(stored[10:20])]
    assert "next" not in page


def test_end_stops_paging_at_the_oldest_wanted_message(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]],
) -> None:
    handle, stored = busy
    pages = all_pages(handle, end=stored[5]["created"], limit="50")

    assert ids(pages) == [m["id"] for m in reversed(stored[5:])]


@pytest.mark.parametrize(("limit", "size"), [("7", 7), ("1000", 100)])
def test_limit_sets_the_page_size_up_to_100(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]], limit: str, size: int
) -> None:
    handle, _ = busy
    with client(handle) as http:
        page = http.get("/sms", params={"limit": limit}).json()

    assert len(page["data"]) == size
    assert "next" in page


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"limit": "0"}, "Invalid limit"),
        ({"limit": "ten"}, "Invalid limit"),
        ({"start": "yesterday"}, "Invalid start"),
        ({"end": "2024-13-01"}, "Invalid end"),
    ],
)
def test_bad_history_parameters_are_403(
    simulator: SimulatorHandle, params: dict[str, str], error: str
) -> None:
    with client(simulator) as http:
        response = http.get("/sms", params=params)

    assert (response.status_code, response.text) == (403, error)


def test_zone_suffixed_timestamps_are_read_as_utc(
    busy: tuple[SimulatorHandle, list[dict[str, Any]]],
) -> None:
    handle, stored = busy
    with client(handle) as http:
        page = http.get("/sms", params={"start": stored[3]["created"] + "+00:00"}).json()

    assert [item["id"] for item in page["data"]] == [m["id"] for m in reversed(stored[:3])]


def test_empty_history_has_no_next(simulator: SimulatorHandle) -> None:
    with client(simulator) as http:
        assert http.get("/sms").json() == {"data": []}
