"""Who may do what: the token, the origin, the body limit, headers, and the error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from elksxl.config import Secret, Settings
from elksxl.errors import ConfigError
from elksxl.server.app import create_app
from elksxl.server.testing import BackendHandle, running_backend
from elksxl.simulator.testing import SimulatorHandle

from .conftest import SENDER, contacts, selection

TOKEN = "a-long-enough-test-token"
PASSWORD = "s3cret-46elks-password"


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[httpx.Client]:
    """The backend with 46elks unreachable (a closed port); a client with the token."""
    settings = Settings(
        username="u",
        password=Secret(PASSWORD),
        api_urls=("http://127.0.0.1:9/a1",),
        token=Secret(TOKEN),
        journal_path=tmp_path / "journal.sqlite3",
        timeout=2,
    )
    with running_backend(settings) as backend, client_for(backend) as client:
        yield client


def client_for(backend: BackendHandle) -> httpx.Client:
    return httpx.Client(
        base_url=backend.base_url, headers=backend.headers, trust_env=False, timeout=20
    )


@pytest.mark.parametrize("token", ["", "short"])
def test_the_app_refuses_to_start_without_a_real_token(tmp_path: Path, token: str) -> None:
    settings = Settings(token=Secret(token), journal_path=tmp_path / "j.sqlite3")
    with pytest.raises(ConfigError, match="ELKSXL_TOKEN"):
        create_app(settings)


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-of-some-length", f"Basic {TOKEN}"])
def test_no_token_or_a_wrong_one_is_401_and_nothing_is_sent(
    backend: BackendHandle, sim: SimulatorHandle, header: str | None
) -> None:
    body = selection(contacts(2)) | {"message": "Hej", "sender": SENDER}
    headers = {"Authorization": header} if header else {}
    answer = httpx.post(backend.base_url + "/api/send", json=body, headers=headers, trust_env=False)
    assert answer.status_code == 401
    assert "access token" in answer.json()["error"]
    assert sim.messages() == []


def test_guessing_the_token_is_stopped_after_20_wrong_tries(offline: httpx.Client) -> None:
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    answers = [
        offline.post("/api/text", json={"text": "Hej"}, headers=wrong).status_code
        for _ in range(21)
    ]
    assert answers == [401] * 20 + [429]
    again = offline.post("/api/text", json={"text": "Hej"})  # even the right token, for now
    assert again.status_code == 429
    assert "wait a minute" in again.json()["error"]


def test_another_origin_is_refused_and_gets_no_cors_header(offline: httpx.Client) -> None:
    answer = offline.post(
        "/api/text", json={"text": "Hej"}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    same = offline.post(
        "/api/text", json={"text": "Hej"}, headers={"Origin": str(offline.base_url).rstrip("/")}
    )
    assert same.status_code == 200


def test_a_body_over_8_mib_is_413(offline: httpx.Client) -> None:
    big = b'{"text": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    answer = offline.post("/api/text", content=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"text": "'
        for _ in range(9):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    streamed = offline.post("/api/text", content=chunks())
    assert streamed.status_code == 413


def test_every_answer_carries_the_security_headers(offline: httpx.Client) -> None:
    for answer in (offline.get("/health"), offline.get("/api/nothing")):
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self' https://appsforoffice.microsoft.com;" in csp
        assert "frame-ancestors 'self' https://*.office.com" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert offline.get("/api/nothing").status_code == 404


def test_bad_input_is_400_naming_the_cell(offline: httpx.Client) -> None:
    values = [["Telefon", "Namn", "Telefon"], ["0701234567", "A", "0701234568"]]
    answer = offline.post("/api/preview", json=selection(values) | {"message": "Hej"})
    assert answer.status_code == 400
    assert answer.json()["where"] == "Kontakter!C1"
    assert offline.post("/api/text", content=b"{nope").status_code == 400


def test_46elks_unreachable_is_502_and_the_credentials_never_show(offline: httpx.Client) -> None:
    answer = offline.get("/api/account")
    assert answer.status_code == 502
    assert answer.json()["error"]
    assert PASSWORD not in answer.text
    body = selection(contacts(1)) | {"message": "Hej", "sender": SENDER}
    preview = offline.post("/api/preview", json=body).json()
    assert preview["balance_check"].startswith("balance not checked")


def test_a_journal_that_cannot_be_opened_is_503(tmp_path: Path) -> None:
    (tmp_path / "journal.sqlite3").mkdir()  # a folder where the journal file should be
    settings = Settings(
        username="u",
        password=Secret("p"),
        token=Secret(TOKEN),
        journal_path=tmp_path / "journal.sqlite3",
        sender=SENDER,
    )
    with running_backend(settings) as backend, client_for(backend) as client:
        answer = client.post(
            "/api/preview", json=selection(contacts(1), campaign_id="c1") | {"message": "Hej"}
        )
    assert answer.status_code == 503
