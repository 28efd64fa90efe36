"""Regenerates templates/campaign.xlsx, the example campaign used by `make demo` and the tests.

Run: .venv/bin/python templates/make_campaign.py
The rows are a deliberate mix: valid numbers in many national and international formats, numbers
Excel has damaged, invalid cells, duplicates after normalization, and text that needs UCS-2.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

HEADER = ["Förnamn", "Efternamn", "Telefon", "Datum", "Tid", "Klinik", "Belopp", "Förfallodag",
          "Evenemang", "Plats"]  # fmt: skip

ROWS = [
    ["Anna", "Andersson", "070-123 45 67", date(2026, 12, 1), time(9, 30), "Vårdcentralen Väst",
     1250, date(2026, 12, 15), "Julkonsert", "Stadshuset"],
    ["Björn", "Berg", "+46 (0)70 234 56 78", date(2026, 12, 1), time(10, 0), "Vårdcentralen Väst",
     499.5, date(2026, 12, 15), "Julkonsert", "Stadshuset"],
    ["Cecilia", "Ek", 703456789, date(2026, 12, 2), time(11, 15), "Tandläkarhuset",
     320, date(2026, 12, 20), "Julkonsert", "Stadshuset"],
    ["David", "Öberg", 46704567890.0, date(2026, 12, 2), time(13, 45), "Tandläkarhuset",
     2100, date(2026, 12, 20), "Julkonsert", "Stadshuset"],
    ["Eva", "Lind", "4.67012E+10", date(2026, 12, 3), time(8, 0), "Vårdcentralen Väst",
     150, date(2026, 12, 22), "Julkonsert", "Stadshuset"],
    ["Filip", "Nyström", "0046 70 123 45 67", date(2026, 12, 3), time(9, 0), "Vårdcentralen Väst",
     800, date(2026, 12, 22), "Julkonsert", "Stadshuset"],
    ["Greta", "Holm", "08-123 456 78", date(2026, 12, 4), time(14, 30), "Tandläkarhuset",
     640, date(2026, 12, 23), "Julkonsert", "Stadshuset"],
    ["Hanna", "Sjöberg", "abc", date(2026, 12, 4), time(15, 0), "Tandläkarhuset",
     90, date(2026, 12, 23), "Julkonsert", "Stadshuset"],
    ["Ingrid", "Svensson", None, date(2026, 12, 5), time(16, 0), "Vårdcentralen Väst",
     1100, date(2026, 12, 28), "Julkonsert", "Stadshuset"],
    ["Jonas", "O’Neill", "0736 78 90 12", date(2026, 12, 5), time(8, 45), "Vårdcentralen Väst",
     375, date(2026, 12, 28), "Julkonsert", "Stadshuset"],
    ["Łukasz", "Wiśniewski", "+48 512 345 678", date(2026, 12, 6), time(12, 0), "Tandläkarhuset",
     990, date(2026, 12, 30), "Koncert kolęd", "Dom Kultury"],
    ["Kari", "Nordmann", "+47 412 34 567", date(2026, 12, 6), time(12, 30), "Tandläkarhuset",
     450, date(2026, 12, 30), "Julekonsert", "Rådhuset"],
    ["Liam", "Smith", "+44 7911 123456", date(2026, 12, 7), time(10, 30), "Vårdcentralen Väst",
     275, date(2027, 1, 5), "Christmas concert", "Town Hall"],
    ["Maja", "Karlsson", "070-876 54 32 / 08-765 432 10", date(2026, 12, 7), time(11, 0),
     "Vårdcentralen Väst", 1500, date(2027, 1, 5), "Julkonsert", "Stadshuset"],
    ["Nils", "Dahl", "072-345 67 89", date(2026, 12, 8), time(9, 15), "Tandläkarhuset",
     None, date(2027, 1, 8), "Julkonsert 🎄", "Stadshuset"],
]  # fmt: skip


def build(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Kontakter"
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="2F5597")
    for row in ROWS:
        ws.append(row)
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    for row in ws.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    for row in ws.iter_rows(min_row=2, min_col=8, max_col=8):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    for row in ws.iter_rows(min_row=2, min_col=5, max_col=5):
        for cell in row:
            cell.number_format = "hh:mm"
    widths = {"A": 12, "B": 14, "C": 30, "D": 12, "E": 8, "F": 22, "G": 10, "H": 13, "I": 20}
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    notes = wb.create_sheet("Anteckningar")
    notes["A1"] = "Exempelkampanj för elksxl. Bladet Kontakter används för utskicket."
    notes["A3"] = "Antal kontakter"
    notes["B3"] = "=COUNTA(Kontakter!A2:A100)"
    wb.save(path)


if __name__ == "__main__":
    build(Path(__file__).with_name("campaign.xlsx"))
