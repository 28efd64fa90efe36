"""The backend answers over real HTTP: health without a token, the API only with it."""

from __future__ import annotations

import httpx

from elksxl.server.testing import BackendHandle

from .conftest import contacts, selection


def test_health_needs_no_token_and_says_nothing_else(backend: BackendHandle) -> None:
    response = httpx.get(backend.base_url + "/health", trust_env=False)
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_preview_over_http_counts_the_recipients(api: httpx.Client) -> None:
    body = selection(contacts(3)) | {"message": "Hej {{ Namn }}", "options": {}}
    response = api.post("/api/preview", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["recipients"] == 3
    assert response.json()["send_label"] == "Send 3 messages"
