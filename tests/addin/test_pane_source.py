"""Rules for the pane's JavaScript that a browser run would not catch: it never parses HTML
or evaluates strings, and it calls only Excel JavaScript API members of ExcelApi <= 1.7 (so
Excel 2019 can run it). A new Excel call must be added to EXCEL_API with its requirement set,
checked against Microsoft's reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ADDIN = Path(__file__).resolve().parents[2] / "addin"
SCRIPTS = sorted(ADDIN.rglob("*.js"))

# Excel JavaScript API members the pane calls, with the requirement set that introduced them.
EXCEL_API = {
    "run": "1.1",
    "sync": "1.1",
    "load": "1.1",
    "getSelectedRange": "1.1",
    "getUsedRange": "1.1",
    "getRange": "1.1",
    "getItem": "1.1",
    "getActiveWorksheet": "1.1",
    "getHeaderRowRange": "1.1",
    "getDataBodyRange": "1.1",
    "select": "1.1",
    "activate": "1.1",
    "getItemOrNullObject": "1.4",
    "getRangeByIndexes": "1.7",
    "add": "1.7",  # workbook.properties.custom.add
}
# Office (not Excel API) calls: Office.onReady, Office.actions.associate (SharedRuntime 1.1),
# Office.addin.showAsTaskpane (SharedRuntime 1.1), CustomFunctions.associate and .Error,
# event.completed.
OFFICE_API = {"onReady", "associate", "showAsTaskpane", "completed", "Error"}
# Methods of JavaScript itself, the DOM, and our own modules.
NOT_EXCEL = {
    "addEventListener", "all", "appendChild", "apply", "assign", "catch", "createElement",
    "createTextNode", "every", "filter", "find", "floor", "focus", "forEach", "fromCharCode",
    "getElementById", "getElementsByTagName", "getTimezoneOffset", "getItem", "setItem",
    "join", "json", "lastIndexOf", "map", "max", "pop", "push", "reject", "remove",
    "removeAttribute", "removeChild", "replace", "resolve", "round", "setAttribute", "slice",
    "splice", "test", "then", "toFixed", "toUpperCase", "charAt", "trim", "call", "indexOf",
    "includes", "stringify", "get", "post", "request", "getToken", "setToken", "plural",
    "money", "counter", "preview", "progress", "applyActions", "selectCell", "readSelection",
    "readCampaignId", "checkNumbers", "isArray", "keys", "fill", "repeat", "el", "clear",
    "now",
}  # fmt: skip


def source(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    # Comments may mention anything; only code counts.
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$|\s//\s.*$", "", text)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_the_pane_never_parses_html_or_evaluates_strings(path: Path) -> None:
    code = source(path)
    for dangerous in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setTimeout("',
    ):
        assert dangerous not in code, f"{path.name} uses {dangerous}"


def test_the_pane_calls_only_excel_api_members_of_requirement_sets_up_to_1_7() -> None:
    called: set[str] = set()
    for path in SCRIPTS:
        called |= set(re.findall(r"\.([A-Za-z_]\w*)\(", source(path)))
    unknown = called - set(EXCEL_API) - OFFICE_API - NOT_EXCEL
    assert unknown == set(), f"calls of unknown API level (add them to EXCEL_API): {unknown}"
    too_new = {name for name, level in EXCEL_API.items() if float(level) > 1.7}
    assert too_new == set()


def test_the_pane_uses_no_property_newer_than_excelapi_1_7() -> None:
    # Properties (not calls) the pane reads or writes that came after 1.1, for the record:
    # rowHidden 1.2, Workbook.name 1.7, Workbook.properties.custom 1.7. These came later and
    # must not appear: getVisibleView is fine (1.3) but unused; the rest are 1.8 or newer.
    newer = ["getTables", "getSpecialCells", "getMergedAreas", "getCellProperties", "autoFilter",
             "getSpillingToRange", "linkedDataTypes", "getRanges", "onFormulaChanged",
             "getDirectPrecedents", "getColumnsAfter", "getRowsBelow"]  # fmt: skip
    code = "\n".join(source(p) for p in SCRIPTS)
    assert [name for name in newer if name in code] == []
