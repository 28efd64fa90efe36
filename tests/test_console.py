"""The command line's output: the streamed `plan --json` is the plan's one JSON form."""

from __future__ import annotations

import io
import json
from pathlib import Path

from elksxl.campaign import Session
from elksxl.config import Settings
from elksxl.console import write_plan_json
from elksxl.table import Row, Table

ROWS = [
    ("Anna", "0701234567"),
    ("Bo", "abc"),
    ("Anna", "+46701234567"),  # the same number and text: a duplicate
    ("Cecilia", "0701234567"),  # the same number, another text: sent, and listed as shared
    ("O’Neill", "+47 412 34 567"),
    ("Dan", "08-123 456 78"),  # a landline
]


def test_streamed_plan_json_equals_the_plans_own_json_form(tmp_path: Path) -> None:
    table = Table(("Namn", "Telefon"), [Row(i + 2, row) for i, row in enumerate(ROWS)])
    with Session(Settings(journal_path=tmp_path / "j.sqlite3")) as session:
        prepared = session.prepare(table, "Hej {{ Namn }}")
        streamed = session.stream_plan(table, iter(table.rows), "Hej {{ Namn }}")
        written = io.StringIO()
        write_plan_json(streamed, written)

    assert json.loads(written.getvalue()) == json.loads(json.dumps(prepared.plan.to_dict()))
    assert not (tmp_path / "j.sqlite3").exists()  # planning never creates a journal
