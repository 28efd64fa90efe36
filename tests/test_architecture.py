"""The layout rules of DESIGN.md section 3, checked on the source itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "elksxl"
PURE = (
    "phone",
    "encoding",
    "templating",
    "placeholders",
    "pricing",
    "plan",
    "recipients",
    "items",
    "totals",
    "table",
    "values",
)
IO_LIBRARIES = {
    "httpx",
    "openpyxl",
    "python_calamine",
    "xlwings",
    "sqlite3",
    "asyncio",
    "socket",
    "http.client",
    "urllib.request",
    "uvicorn",
    "starlette",
    "subprocess",
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
    return names


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io_library(module: str) -> None:
    imports = imported_modules(SRC / f"{module}.py")
    bad = {n for n in imports if n in IO_LIBRARIES or n.split(".")[0] in IO_LIBRARIES}
    assert not bad, f"{module}.py imports {bad}"


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_only_pure_siblings(module: str) -> None:
    allowed = {f".{name}" for name in PURE} | {".errors"}
    relative = {name for name in imported_modules(SRC / f"{module}.py") if name.startswith(".")}
    assert relative <= allowed, f"{module}.py imports shell modules {relative - allowed}"


def test_pure_modules_load_no_io_library_at_run_time() -> None:
    code = (
        "import sys\n"
        + "".join(f"import elksxl.{m}\n" for m in PURE)
        + f"print(sorted(m for m in sys.modules if m in {sorted(IO_LIBRARIES)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_xlwings_is_imported_only_by_the_sheet_adapters_the_server_and_the_excel_layer() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in ("sheets", "server", "excel.py")
        and any(name.split(".")[0] == "xlwings" for name in imported_modules(path))
    ]
    assert offenders == []


def test_no_product_code_uses_xlwings_pro() -> None:
    """xlwings' pro folder and its server engine need a paid key for commercial use."""
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        for name in imported_modules(path)
        if name.startswith(("xlwings.pro", "xlwings.server"))
        or "Book(json=" in path.read_text("utf-8")
    ]
    assert offenders == []


SENDING_LAYER = ("client", "journal", "sender", "ratelimit", "dryrun", "results", "deliveries")


def surfaces() -> list[Path]:
    found = [SRC / name for name in ("cli.py", "cli_support.py", "cli_services.py", "console.py")]
    found.append(SRC / "excel.py")
    found += sorted((SRC / "server").rglob("*.py"))
    return [path for path in found if path.exists()]


@pytest.mark.parametrize("path", surfaces(), ids=lambda p: str(p.relative_to(SRC)))
def test_surfaces_go_through_the_session_not_the_sending_layer(path: Path) -> None:
    depth = len(path.relative_to(SRC).parts) - 1
    prefix = "." * (depth + 1)
    forbidden = {f"{prefix}{name}" for name in SENDING_LAYER} | {
        f"elksxl.{name}" for name in SENDING_LAYER
    }
    imports = {name for name in imported_modules(path) if name.split(".")[0] in ("", "elksxl")}
    bad = {
        name for name in imports if any(name == f or name.startswith(f + ".") for f in forbidden)
    }
    assert not bad, f"{path.name} wires the sending layer itself: {bad}"


def test_only_the_cli_prints() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name in ("cli.py", "cli_support.py", "cli_services.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []
