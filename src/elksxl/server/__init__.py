"""``elksxl serve``: the Excel add-in's backend (the pane's files, its API, delivery reports).

A surface like the CLI: it goes through :class:`elksxl.campaign.Session` and never wires the
sending layer itself. See ADDIN_API.md for the HTTP contract.
"""

from __future__ import annotations

from .app import create_app
from .runner import serve

__all__ = ["create_app", "serve"]
