"""Where the add-in's files are, and the manifest rendered for the public URL.

The pane's files live in the repository's ``addin/`` folder and the manifest template at the
repository's top (``manifest.xml``, with ``{{PUBLIC_URL}}`` placeholders). An installed
package carries them as ``elksxl/addin/`` (package data, manifest included); a checkout finds
them beside ``src/``.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

__all__ = [
    "PLACEHOLDER",
    "find_addin_dir",
    "find_manifest",
    "find_templates_dir",
    "render_manifest",
]

PLACEHOLDER = "{{PUBLIC_URL}}"
_PACKAGE = Path(__file__).resolve().parent.parent  # src/elksxl or site-packages/elksxl
_CHECKOUT = _PACKAGE.parent.parent  # the repository, when running from a checkout


def find_addin_dir(explicit: Path | None = None) -> Path | None:
    """The folder of the pane's files: given, packaged, or the checkout's ``addin/``."""
    for candidate in (explicit, _PACKAGE / "addin", _CHECKOUT / "addin"):
        if candidate is not None and candidate.is_dir():
            return candidate
    return None


def find_manifest(addin_dir: Path | None) -> Path | None:
    """The manifest template: beside the add-in folder (the repository's top) or inside it."""
    folders = [addin_dir.parent, addin_dir] if addin_dir is not None else []
    for folder in (*folders, _CHECKOUT):
        if (folder / "manifest.xml").is_file():
            return folder / "manifest.xml"
    return None


def find_templates_dir() -> Path | None:
    for candidate in (_PACKAGE / "templates", _CHECKOUT / "templates"):
        if candidate.is_dir():
            return candidate
    return None


def render_manifest(template: str, public_url: str) -> str:
    """The manifest with every ``{{PUBLIC_URL}}`` replaced by the origin (XML-escaped)."""
    return template.replace(PLACEHOLDER, escape(public_url.rstrip("/"), {'"': "&quot;"}))
