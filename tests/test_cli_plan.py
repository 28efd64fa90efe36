"""`elksxl plan` as a user runs it: a real subprocess on real workbooks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "templates" / "campaign.xlsx"
REMINDER = ROOT / "templates" / "appointment-reminder.sv.txt"


def elksxl(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "elksxl", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_plan_json_of_the_example_campaign() -> None:
    result = elksxl("plan", EXAMPLE, "--template", REMINDER, "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["rows"] == 15
    assert plan["phone_column"] == "Telefon"
    assert plan["currency"] == "SEK"
    by_row = {m["row"]: m for m in plan["messages"]}
    assert by_row[2]["to"] == "+46701234567"
    assert by_row[2]["text"].startswith("Hej Anna!")
    assert by_row[4]["to"] == "+46703456789"  # int: Excel dropped the 0
    assert by_row[5]["to"] == "+46704567890"  # float in disguise
    problems = {p["row"]: p for p in plan["problems"]}
    assert "Text" in problems[6]["reason"]  # 4.67012E+10
    assert {9, 10, 15} <= problems.keys()  # abc, empty, two numbers in one cell
    assert "landline" in problems[8]["reason"]  # 08-123 456 78: refused by default
    # Filip (row 7) has Anna's number: another text, so it is sent and the number is listed.
    assert plan["duplicates"] == []
    assert plan["shared_numbers"] == [{"to": "+46701234567", "rows": [2, 7]}]
    assert plan["recipients"] == len(plan["messages"])
    assert plan["parts"] == sum(m["parts"] for m in plan["messages"])


def test_plan_lists_the_characters_that_force_ucs2() -> None:
    result = elksxl("plan", EXAMPLE, "--message", "Hej {{ Efternamn }}!", "--json")
    plan = json.loads(result.stdout)
    by_row = {m["row"]: m for m in plan["messages"]}
    assert by_row[11]["ucs2_chars"] == ["’"]  # O’Neill
    assert by_row[2]["encoding"] == "gsm7"
    smart = json.loads(
        elksxl(
            "plan", EXAMPLE, "--message", "Hej {{ Efternamn }}!", "--json", "--smart-encoding"
        ).stdout
    )
    assert {m["row"]: m for m in smart["messages"]}[11]["text"] == "Hej O'Neill!"


def test_plan_without_json_prints_a_readable_summary() -> None:
    result = elksxl("plan", EXAMPLE, "--template", REMINDER)
    assert result.returncode == 0, result.stderr
    assert re.search(r"recipients\s+\d+", result.stdout)
    assert "Hej Anna!" in result.stdout
    assert "4.67012E+10" in result.stdout


def _bad(tmp_path: Path) -> dict[str, tuple[list[str | Path], str]]:
    text = tmp_path / "contacts.csv"
    text.write_text("Telefon\n0701234567\n")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    return {
        "missing file": (["plan", tmp_path / "nope.xlsx", "--message", "x"], "nope.xlsx"),
        "not a workbook": (["plan", text, "--message", "x"], "contacts.csv"),
        "old xls": (["plan", old, "--message", "x"], ".xlsx"),
        "unknown sheet": (["plan", EXAMPLE, "--sheet", "Nope", "--message", "x"], "Kontakter"),
        "unknown column": (
            ["plan", EXAMPLE, "--phone-column", "Mobil", "--message", "x"],
            "'Telefon'",
        ),
        "unknown placeholder": (["plan", EXAMPLE, "--message", "Hej {{ Namn }}"], "Förnamn"),
        "template syntax": (["plan", EXAMPLE, "--message", "Hej {{ Förnamn "], "line 1"),
        "missing template": (["plan", EXAMPLE, "--template", tmp_path / "t.txt"], "t.txt"),
        "no message": (["plan", EXAMPLE], "--template"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "not a workbook",
        "old xls",
        "unknown sheet",
        "unknown column",
        "unknown placeholder",
        "template syntax",
        "missing template",
        "no message",
    ],
)
def test_bad_input_exits_2_with_a_message_naming_it_and_no_traceback(
    case: str, tmp_path: Path
) -> None:
    args, expected = _bad(tmp_path)[case]
    result = elksxl(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_leaves_the_workbook_untouched(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Namn", "Telefon"])
    ws.append(["Anna", "0701234567"])
    wb.save(book)
    before = book.read_bytes()
    assert elksxl("plan", book, "--message", "Hej {{ Namn }}").returncode == 0
    assert book.read_bytes() == before


def test_every_command_is_documented_in_the_readme() -> None:
    from elksxl.cli import cli

    readme = (ROOT / "README.md").read_text("utf-8")
    for name in cli.commands:
        assert f"elksxl {name}" in readme, f"README does not document `elksxl {name}`"
