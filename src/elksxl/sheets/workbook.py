"""The headless workbook API under the module name the team contract gives it.

Reading lives in :mod:`elksxl.sheets.reader`, writing in :mod:`elksxl.sheets.writer`; this module
only re-exports them so ``from elksxl.sheets.workbook import read_table`` keeps working.
"""

from __future__ import annotations

from .reader import read_table
from .writer import ResultWriter, RowResult

__all__ = ["ResultWriter", "RowResult", "read_table"]
