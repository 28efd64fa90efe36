"""The simulator's send, get and account endpoints answer as 46elks does, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from elksxl.simulator import TEST_NUMBER
from elksxl.simulator.app import AUTH_FAILED
from elksxl.simulator.testing import SimulatorHandle

SWEDISH = "+46701234567"
NORWEGIAN = "+4791234567"
CREATED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}")


def api(handle: SimulatorHandle) -> httpx.Client:
    return httpx.Client(base_url=handle.base_url, auth=handle.auth, trust_env=False, timeout=10)


def send(handle: SimulatorHandle, **params: str) -> httpx.Response:
    data = {"from": "ElksXL", "to": SWEDISH, "message": "Hej!"} | params
    with api(handle) as client:
        return client.post("/sms", data=data)


def test_send_answers_created_with_id_cost_and_parts(simulator: SimulatorHandle) -> None:
    response = send(simulator, message="Hej Anna, välkommen!")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert re.fullmatch(r"s[0-9a-f]{32}", body["id"])
    assert body["status"] == "created"
    assert body["direction"] == "outgoing"
    assert (body["from"], body["to"]) == ("ElksXL", SWEDISH)
    assert body["message"] == "Hej Anna, välkommen!"
    assert CREATED.fullmatch(body["created"])
    assert (body["parts"], body["cost"]) == (1, 3500)
    assert "estimated_cost" not in body


def test_send_stores_and_charges_the_account(simulator: SimulatorHandle) -> None:
    before = simulator.balance()
    body = send(simulator, to=NORWEGIAN).json()

    assert simulator.balance() == before - 5200
    [stored] = simulator.messages()
    assert stored["id"] == body["id"]
    assert (stored["account"], stored["to"], stored["cost"]) == ("sim", NORWEGIAN, 5200)


def test_dry_run_estimates_cost_but_stores_and_charges_nothing(
    simulator: SimulatorHandle,
) -> None:
    before = simulator.balance()
    body = send(simulator, dryrun="yes", message="x" * 161).json()

    assert "id" not in body
    assert "cost" not in body
    assert (body["estimated_cost"], body["parts"], body["status"]) == (7000, 2, "created")
    assert simulator.messages() == []
    assert simulator.balance() == before
    assert simulator.stats()["dry_runs"] == 1


def test_test_number_is_accepted_logged_and_free(simulator: SimulatorHandle) -> None:
    before = simulator.balance()
    body = send(simulator, to=TEST_NUMBER).json()

    assert body["cost"] == 0
    assert simulator.balance() == before
    with api(simulator) as client:
        history = client.get("/sms", params={"to": TEST_NUMBER}).json()
    assert [item["id"] for item in history["data"]] == [body["id"]]


def test_unicode_message_costs_more_parts_than_gsm(simulator: SimulatorHandle) -> None:
    gsm = send(simulator, message="a" * 100).json()
    ucs2 = send(simulator, message="😀" + "a" * 99).json()

    assert (gsm["parts"], gsm["cost"]) == (1, 3500)
    assert (ucs2["parts"], ucs2["cost"]) == (2, 7000)


def test_long_gsm_message_is_counted_in_153_septet_parts(simulator: SimulatorHandle) -> None:
    assert send(simulator, message="a" * 160).json()["parts"] == 1
    assert send(simulator, message="a" * 307).json()["parts"] == 3


def test_dontlog_hides_the_message_text(simulator: SimulatorHandle) -> None:
    body = send(simulator, dontlog="message").json()

    assert "message" not in body
    with api(simulator) as client:
        assert "message" not in client.get(f"/sms/{body['id']}").json()
    assert simulator.messages()[0]["message"] == "Hej!"


def test_get_by_id_returns_the_message(simulator: SimulatorHandle) -> None:
    sent = send(simulator).json()
    with api(simulator) as client:
        response = client.get(f"/SMS/{sent['id']}")

    assert response.status_code == 200
    got = response.json()
    assert {k: got[k] for k in ("id", "from", "to", "message", "created", "cost", "parts")} == {
        k: sent[k] for k in ("id", "from", "to", "message", "created", "cost", "parts")
    }
    assert got["status"] in ("created", "sent", "delivered")


def test_get_of_another_accounts_message_is_not_found(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    handle = simulator_factory(
        {"accounts": [{"username": "a", "password": "pa"}, {"username": "b", "password": "pb"}]}
    )
    sent = send(handle).json()
    with httpx.Client(base_url=handle.base_url, auth=("b", "pb"), trust_env=False) as other:
        assert other.get(f"/sms/{sent['id']}").status_code == 404
        assert other.get("/sms").json() == {"data": []}


def test_get_sms_post_sends_with_query_parameters(simulator: SimulatorHandle) -> None:
    params = {"from": "ElksXL", "to": SWEDISH, "message": "via GET"}
    with api(simulator) as client:
        response = client.get("/SMS/POST", params=params)

    assert response.status_code == 200
    assert response.json()["message"] == "via GET"
    assert [m["message"] for m in simulator.messages()] == ["via GET"]


def test_me_describes_the_account_with_its_balance(simulator: SimulatorHandle) -> None:
    send(simulator)
    with api(simulator) as client:
        me = client.get("/me").json()

    assert set(me) == {"id", "displayname", "mobilenumber", "email", "currency", "balance"}
    assert me["currency"] == "SEK"
    assert me["balance"] == simulator.scenario.accounts[0].balance - 3500


def test_set_balance_changes_what_me_reports(simulator: SimulatorHandle) -> None:
    simulator.set_balance("sim", 12345)
    with api(simulator) as client:
        assert client.get("/Me").json()["balance"] == 12345


@pytest.mark.parametrize(
    "auth",
    [None, ("sim", "wrong"), ("nobody", "sim")],
    ids=["no credentials", "wrong password", "unknown user"],
)
def test_bad_credentials_get_401_with_basic_challenge(
    simulator: SimulatorHandle, auth: tuple[str, str] | None
) -> None:
    with httpx.Client(base_url=simulator.base_url, auth=auth, trust_env=False) as client:
        response = client.post("/sms", data={"from": "ElksXL", "to": SWEDISH, "message": "x"})

    assert response.status_code == 401
    assert response.text == AUTH_FAILED
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["www-authenticate"] == 'Basic realm="46elks API"'
    assert simulator.messages() == []


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"to": "0701234567"}, "Invalid to number"),
        ({"to": "+0701234567"}, "Invalid to number"),
        ({"to": "+46 70 123"}, "Invalid to number"),
        ({"to": "+4612345678901234"}, "Invalid to number"),
        ({"from": "1Shop"}, "Invalid from"),
        ({"from": "AB"}, "Invalid from"),
        ({"from": "TwelveLetter"}, "Invalid from"),
        ({"from": "My Shop"}, "Invalid from"),
        ({"message": ""}, "Missing key message"),
        ({"to": ""}, "Missing key to"),
        ({"dryrun": "maybe"}, "Invalid dryrun"),
        ({"whendelivered": "ftp://example.invalid"}, "Invalid whendelivered"),
    ],
)
def test_rejected_parameters_get_403_with_a_text_reason(
    simulator: SimulatorHandle, params: dict[str, str], error: str
) -> None:
    response = send(simulator, **params)

    assert response.status_code == 403
    assert response.text == error
    assert response.headers["content-type"].startswith("text/plain")
    assert simulator.messages() == []


def test_number_sender_and_eleven_letter_sender_are_accepted(simulator: SimulatorHandle) -> None:
    assert send(simulator, **{"from": "+46766861004"}).status_code == 200
    assert send(simulator, **{"from": "ElevenChars"}).status_code == 200


def test_not_enough_credits_is_403_and_nothing_is_stored(simulator: SimulatorHandle) -> None:
    simulator.set_balance("sim", 3499)
    response = send(simulator)

    assert (response.status_code, response.text) == (403, "Not enough credits")
    assert simulator.messages() == []
    assert simulator.balance() == 3499
    assert send(simulator, to=TEST_NUMBER).status_code == 200  # free, so still allowed


def test_unknown_routes_and_ids_are_404_not_found(simulator: SimulatorHandle) -> None:
    with api(simulator) as client:
        for path in ("/nothing", "/sms/s00000000000000000000000000000000"):
            response = client.get(path)
            assert (response.status_code, response.text) == (404, "Not found")
