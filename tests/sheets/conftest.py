"""Builders for real workbook files under tmp_path: openpyxl workbooks, patched zips, OLE2 files."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbooks import Books


@pytest.fixture
def books(tmp_path: Path) -> Books:
    return Books(tmp_path)
