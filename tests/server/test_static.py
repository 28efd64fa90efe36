"""The pane's files, the manifest rendered for the public URL, and HTTPS with a certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from elksxl.config import Secret, Settings
from elksxl.errors import ConfigError
from elksxl.server.runner import make_server

from .conftest import StartBackend

MANIFEST = """<?xml version="1.0"?>
<OfficeApp><SourceLocation DefaultValue="{{PUBLIC_URL}}/taskpane.html"/>
<IconUrl DefaultValue="{{PUBLIC_URL}}/assets/icon-32.png"/></OfficeApp>
"""


@pytest.fixture
def addin(tmp_path: Path) -> Path:
    folder = tmp_path / "repo" / "addin"
    (folder / "assets").mkdir(parents=True)
    (folder / "taskpane.html").write_text("<!doctype html><title>SMS</title>", encoding="utf-8")
    (folder / "assets" / "icon-32.png").write_bytes(b"\x89PNG")
    (tmp_path / "repo" / "manifest.xml").write_text(MANIFEST, encoding="utf-8")
    return folder


def test_the_pane_and_the_manifest_are_served_for_the_public_url(
    backend_factory: StartBackend, settings: Settings, addin: Path
) -> None:
    backend = backend_factory(settings, addin_dir=addin, public_url="https://sms.example.com")
    get = lambda path: httpx.get(backend.base_url + path, trust_env=False)  # noqa: E731
    assert "<title>SMS</title>" in get("/taskpane.html").text
    assert get("/assets/icon-32.png").content == b"\x89PNG"
    manifest = get("/manifest.xml")
    assert manifest.headers["content-type"].startswith("application/xml")
    assert 'DefaultValue="https://sms.example.com/taskpane.html"' in manifest.text
    assert "{{" not in manifest.text
    assert get("/../journal.sqlite3").status_code == 404


def test_https_with_a_certificate_and_key(
    backend_factory: StartBackend, settings: Settings, addin: Path, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    backend = backend_factory(settings, addin_dir=addin, cert=cert, key=key)
    assert backend.base_url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(cert))
    answer = httpx.get(backend.base_url + "/health", verify=context, trust_env=False)
    assert answer.json() == {"ok": True}
    with pytest.raises(httpx.HTTPError):
        httpx.get(backend.base_url.replace("https", "http") + "/health", trust_env=False)


def test_a_certificate_without_its_key_is_a_config_error(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="--key"):
        make_server(settings.with_changes(token=Secret("x" * 20)), cert=tmp_path / "cert.pem")
