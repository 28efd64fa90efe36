"""The preview's figures are `elksxl plan --json`'s on the same data (the same Session.prepare)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from .conftest import number, selection

MESSAGE = "Hej {{ Namn }}, välkommen!"


def test_preview_figures_equal_elksxl_plan_on_an_xlsx_with_the_same_values(
    api: httpx.Client, tmp_path: Path
) -> None:
    values: list[list[Any]] = [["Namn", "Telefon", "Stad"]]
    values += [[f"Namn{i}", number(i), "Malmö"] for i in range(12)]
    values += [
        ["Ogiltig", "12345", "Lund"],
        ["Tom", None, "Ystad"],
        ["Dubblett", number(3), "Lund"],
    ]
    values += [["Float", 46701239999.0, "Umeå"], ["<img src=x onerror=alert(1)>", number(40), ""]]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Kontakter"
    for row in values:
        sheet.append(row)
    path = tmp_path / "Kunder.xlsx"
    book.save(path)
    env = os.environ | {"ELKSXL_JOURNAL": str(tmp_path / "cli-journal.sqlite3")}
    plan = json.loads(
        subprocess.run(
            [sys.executable, "-m", "elksxl", "plan", str(path), "--message", MESSAGE, "--json"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
    )

    answer = api.post("/api/preview", json=selection(values) | {"message": MESSAGE, "options": {}})
    assert answer.status_code == 200, answer.text
    preview = answer.json()

    for key in (
        "rows",
        "recipients",
        "parts",
        "already_sent",
        "estimated_cost",
        "currency",
        "unpriced",
        "phone_column",
    ):
        assert preview[key] == plan[key], key
    assert preview["recipients"] == 14
    assert [m["to"] for m in preview["messages"]] == [m["to"] for m in plan["messages"][:5]]
    assert [p["row"] for p in preview["problems"]] == [p["row"] for p in plan["problems"]]
    assert [(d["row"], d["first_row"]) for d in preview["duplicates"]] == [
        (d["row"], d["first_row"]) for d in plan["duplicates"]
    ]
    assert preview["problems"][0] == {
        "row": 14,
        "cell": "Kontakter!B14",
        "reason": plan["problems"][0]["reason"],
    }
    assert preview["duplicates"][0]["cell"] == "Kontakter!B16"
    assert preview["send_label"] == "Send 14 messages"


def test_preview_counts_hidden_rows_left_out_and_keeps_hostile_text_as_text(
    api: httpx.Client,
) -> None:
    values = [["Namn", "Telefon"], ["<img src=x onerror=alert(1)>", number(1)], ["B", number(2)]]
    body = selection(values, hidden_rows=[3]) | {"message": "Hej {{ Namn }}"}
    preview = api.post("/api/preview", json=body).json()
    assert preview["hidden_left_out"] == 1
    assert preview["recipients"] == 1
    assert preview["messages"][0]["text"] == "Hej <img src=x onerror=alert(1)>"


def test_text_counter_and_custom_functions_use_the_core(api: httpx.Client) -> None:
    text = api.post("/api/text", json={"text": "Hej ’du’"}).json()
    assert (text["encoding"], text["parts"], text["ucs2_chars"]) == ("ucs2", 1, ["’"])
    assert text["smart_text"] == "Hej 'du'"
    calls = [
        {"name": "E164", "args": ["070-123 45 67"]},
        {"name": "E164", "args": [[[46701234567.0]]]},
        {"name": "E164", "args": ["12"]},
        {"name": "VALID", "args": ["91 234 56 78", "NO"]},
        {"name": "PARTS", "args": ["x" * 161]},
        {"name": "ENCODING", "args": ["Hej 😀"]},
        {"name": "NOPE", "args": [1]},
        {"name": "E164", "args": ["0701234567", "XX"]},
    ]
    results = api.post("/api/functions", json={"calls": calls}).json()["results"]
    assert results[:2] == ["+46701234567", "+46701234567"]
    assert "error" in results[2]
    assert results[3:6] == [False, 2, "ucs2"]
    assert "error" in results[6]
    assert "error" in results[7]
