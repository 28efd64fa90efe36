"""CSV contact lists on real files: every encoding, delimiter and line end, results written
back byte for byte, the campaign column, fallbacks and every bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from elksxl.errors import WorkbookError
from elksxl.sheets.csvfile import load_csv, read_csv, stream_csv
from elksxl.sheets.csvwriter import CsvResultWriter
from elksxl.table import RESULT_COLUMNS, RowResult

ENCODINGS = {
    "utf-8": (b"", "utf-8"),
    "utf-8-bom": (b"\xef\xbb\xbf", "utf-8"),
    "cp1252": (b"", "cp1252"),
    "utf-16": (b"\xff\xfe", "utf-16-le"),
}
CONTACTS = [
    ["Telefon", "Förnamn", "Ort"],
    ["0701234567", "Åsa", "Göteborg"],
    ["+46707654321", "Örjan", "Malmö"],
    ["0702222222", "Ängel €", "Luleå"],
]


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    encoding: str = "cp1252",
    delimiter: str = ";",
    newline: str = "\r\n",
    final_newline: bool = True,
) -> Path:
    bom, codec = ENCODINGS[encoding]
    text = newline.join(delimiter.join(row) for row in rows) + (newline if final_newline else "")
    path.write_bytes(bom + text.encode(codec))
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# Reading


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_every_encoding_delimiter_and_line_end_reads_the_same_table(
    tmp_path: Path, encoding: str, delimiter: str, newline: str
) -> None:
    path = write_csv(
        tmp_path / "kunder.csv", CONTACTS, encoding=encoding, delimiter=delimiter, newline=newline
    )

    table = read_csv(path)

    assert table.header == ("Telefon", "Förnamn", "Ort")
    assert [(r.number, r.values) for r in table.rows] == [
        (2, ("0701234567", "Åsa", "Göteborg")),
        (3, ("+46707654321", "Örjan", "Malmö")),
        (4, ("0702222222", "Ängel €", "Luleå")),
    ]
    assert (table.sheet, table.source, table.header_row, table.campaign_id) == (
        "kunder",
        str(path),
        1,
        None,
    )
    fmt = load_csv(path).format
    assert (fmt.delimiter, fmt.newline, fmt.bom) == (delimiter, newline, ENCODINGS[encoding][0])


def test_values_stay_text_exactly_as_written_and_empty_fields_are_none(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "a.csv",
        "Telefon;Belopp;Datum;Namn;Tom\n0701234567;12,50;2026-05-01; Anna ;\n",
    )

    (row,) = read_csv(path).rows

    assert row.values == ("0701234567", "12,50", "2026-05-01", " Anna ", None)


def test_quoted_fields_hold_delimiters_quotes_and_line_breaks_in_one_row(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "a.csv",
        'Telefon,Adress,Not\r\n0701234567,"Storgatan 1, Stockholm","Sa ""hej""\r\n'
        'rad två"\r\n0707654321,"",x\r\n',
    )

    table = read_csv(path)

    assert [(r.number, r.values) for r in table.rows] == [
        (2, ("0701234567", "Storgatan 1, Stockholm", 'Sa "hej"\r\nrad två')),
        (3, ("0707654321", None, "x")),
    ]


def test_semicolon_file_with_decimal_commas_is_split_on_semicolons(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "a.csv", "Namn;Telefon;Belopp\nAnna;0701234567;12,50\nBo;0707654321;3,00\n"
    )

    assert read_csv(path).rows[0].values == ("Anna", "0701234567", "12,50")


def test_comma_file_with_quoted_semicolons_is_split_on_commas(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "a.csv", 'Namn,Telefon,Not\nAnna,0701234567,"a;b;c"\nBo,0707654321,"d;e"\n'
    )

    assert read_csv(path).rows[1].values == ("Bo", "0707654321", "d;e")


def test_blank_lines_are_skipped_but_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "\nTelefon;Namn\n0701234567;A\n\n;\n0707654321;B")

    table = read_csv(path)

    assert table.header_row == 2
    assert [r.number for r in table.rows] == [3, 6]


def test_excel_sep_line_chooses_the_delimiter(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "sep=,\r\nNamn,Telefon;nr\r\nAnna,0701234567;1\r\n")

    table = read_csv(path)

    assert table.header == ("Namn", "Telefon;nr")
    assert [(r.number, r.values) for r in table.rows] == [(3, ("Anna", "0701234567;1"))]


def test_short_line_is_padded_with_empty_cells(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;Namn;Ort\n0701234567\n")

    assert read_csv(path).rows[0].values == ("0701234567", None, None)


def test_stream_gives_the_same_rows_one_at_a_time(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS)

    with stream_csv(path) as (table, rows):
        assert table.rows == ()
        streamed = list(rows)

    assert streamed == list(read_csv(path).rows)


def test_hundred_thousand_rows_are_read_with_their_numbers(tmp_path: Path) -> None:
    lines = ["Telefon;Förnamn;Ort"]
    lines += [f"07{i:08d};Namn {i % 50};Ort {i % 7}" for i in range(100_000)]
    path = write_text(tmp_path / "stor.csv", "\r\n".join(lines) + "\r\n", "cp1252")

    table = read_csv(path)

    assert len(table.rows) == 100_000
    assert table.rows[-1].number == 100_001
    assert table.rows[-1].values == ("0700099999", "Namn 49", "Ort 4")


# Bad input


def test_byte_neither_utf8_nor_windows_1252_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"Telefon;Namn\r\n0701234567;A\r\n0707654321;\x81\r\n")

    with pytest.raises(WorkbookError, match=r"byte 0x81 on line 3 .*CSV UTF-8") as e:
        read_csv(path)
    assert e.value.file == str(path)


def test_file_mixing_utf8_and_windows_1252_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("Telefon;Namn\n0701;Åsa\n".encode() + "0702;Örjan\n".encode("cp1252"))

    with pytest.raises(WorkbookError, match="line 3 is not UTF-8 but other lines are"):
        read_csv(path)


def test_unclosed_quote_names_the_line(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", 'Telefon;Namn\n0701234567;A\n0707654321;"B\n')

    with pytest.raises(WorkbookError, match="line 3: a quoted value is never closed"):
        read_csv(path)


def test_line_with_more_values_than_the_header_is_an_error_naming_the_row(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;Namn\n0701234567;A\n0707654321;B;extra\n")

    with pytest.raises(WorkbookError, match="3 values but the header has 2") as e:
        read_csv(path)
    assert e.value.row == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\r\n\r\n", "the file is empty"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 100, r"old Excel \(.xls\)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    ],
)
def test_file_that_is_not_csv_says_what_it_is(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(content)

    with pytest.raises(WorkbookError, match=message):
        read_csv(path)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match="file not found"):
        read_csv(tmp_path / "saknas.csv")


def test_duplicate_headers_are_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;Namn;Namn\n0701234567;A;B\n")

    with pytest.raises(WorkbookError, match="two columns have the header 'Namn'"):
        read_csv(path)


def test_first_line_holding_a_phone_number_is_not_taken_as_header(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "0701234567;Anna\n0707654321;Bo\n")

    with pytest.raises(WorkbookError, match="looks like data, not a header"):
        read_csv(path)


def test_sheet_name_other_than_the_file_stem_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kunder.csv", CONTACTS)

    assert read_csv(path, "Kunder").sheet == "kunder"
    with pytest.raises(WorkbookError, match="one sheet, named after the file"):
        read_csv(path, "Blad1")


# Writing results


def test_semicolon_windows_1252_file_round_trips_byte_for_byte_except_new_columns(
    tmp_path: Path,
) -> None:
    original = [
        b"Telefon;F\xf6rnamn;Belopp;Not",
        b'0701234567;\xc5sa;12,50;"Storgatan 1; 3 tr"',
        b'"0707654321";"Per ""P"" \xd6";\x805;"tv\xe5\r\nrader"',
        b"0702222222;;;",
    ]
    path = tmp_path / "kunder.csv"
    path.write_bytes(b"\r\n".join(original) + b"\r\n")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent", sms_id="s1", parts=1, cost=0.35))
    writer.set(3, RowResult(status="failed", error="ogiltig mottagare: \xe5"))
    writer.set(4, RowResult(status="sent", sent_at=datetime(2026, 5, 1, 13, 45, 10, 999)))
    assert writer.save() == path

    header = ";".join(RESULT_COLUMNS).encode("cp1252")
    assert path.read_bytes() == (
        original[0] + b";" + header + b"\r\n"
        + original[1] + b";sent;s1;1;0,35;;;\r\n"
        + original[2] + b";failed;;;;ogiltig mottagare: \xe5;;\r\n"
        + original[3] + b";sent;;;;;2026-05-01 13:45:10;\r\n"
    )  # fmt: skip
    assert writer.warnings == ()


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_results_keep_encoding_delimiter_and_line_ends_of_every_format(
    tmp_path: Path, encoding: str, delimiter: str, newline: str
) -> None:
    path = write_csv(
        tmp_path / "a.csv", CONTACTS, encoding=encoding, delimiter=delimiter, newline=newline
    )
    before = path.read_bytes()
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(3, RowResult(status="sent", sms_id="s-ö"))
    writer.save()

    bom, codec = ENCODINGS[encoding]
    after = path.read_bytes()
    assert after.startswith(bom)
    old_lines = before[len(bom) :].decode(codec).split(newline)
    new_lines = after[len(bom) :].decode(codec).split(newline)
    assert len(new_lines) == len(old_lines)
    for old, new in zip(old_lines[:-1], new_lines[:-1], strict=True):
        assert new.startswith(old + delimiter)
    extra = delimiter * (len(RESULT_COLUMNS) - 2)
    assert new_lines[2] == old_lines[2] + delimiter + "sent" + delimiter + "s-ö" + extra
    assert read_csv(path).rows[1].values[3:5] == ("sent", "s-ö")


def test_file_without_final_line_end_gets_none_added(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS[:2], final_newline=False)
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent"))
    writer.save()

    assert path.read_bytes().endswith(b"G\xf6teborg;sent;;;;;;")


def test_second_run_reuses_result_columns_and_none_leaves_fields(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS)
    first = CsvResultWriter(path, read_csv(path))
    first.set(2, RowResult(status="sent", sms_id="s1", parts=2))
    first.save()

    second = CsvResultWriter(path, read_csv(path))
    second.set(2, RowResult(status="delivered", delivered_at=datetime(2026, 5, 2, 8, 0)))
    second.save()

    table = read_csv(path)
    assert table.header == (*CONTACTS[0], *RESULT_COLUMNS)
    assert table.rows[0].values[3:] == (
        "delivered",
        "s1",
        "2",
        None,
        None,
        None,
        "2026-05-02 08:00:00",
    )


def test_result_column_moved_between_user_columns_is_filled_in_place(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "a.csv", 'SMS Status;Telefon;"Namn"\r\n;0701234567;"Anna"\r\nold;0707;B\r\n'
    )
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent"))
    writer.save()

    rest = ";".join(RESULT_COLUMNS[1:])
    assert path.read_bytes().decode() == (
        f'SMS Status;Telefon;"Namn";{rest}\r\n'
        f'sent;0701234567;"Anna"{";" * 6}\r\n'
        f"old;0707;B{';' * 6}\r\n"
    )


def test_short_line_is_padded_before_its_results(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;Namn;Ort\n0701234567\n")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent"))
    writer.save()

    assert path.read_text().splitlines()[1] == "0701234567;;;sent;;;;;;"


def test_file_quoting_every_field_gets_quoted_results(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", '"Telefon","Namn"\n"0701234567","Anna"\n')
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent", parts=1))
    writer.save()

    lines = path.read_text().splitlines()
    assert lines[0] == '"Telefon","Namn",' + ",".join(f'"{c}"' for c in RESULT_COLUMNS)
    assert lines[1] == '"0701234567","Anna","sent","","1","","","",""'


def test_results_with_delimiters_quotes_and_line_breaks_are_quoted(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS, delimiter=",")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="failed", error='bad "to", see\ndocs', cost=1.5))
    writer.save()

    row = read_csv(path).rows[0]
    assert row.values[3:8] == ("failed", None, None, "1.50", 'bad "to", see\ndocs')


@pytest.mark.parametrize(
    "error", ['=HYPERLINK("http://x")', "+46 invalid", "-1 credits", "@SUM(A1)", "\tx"]
)
def test_result_text_that_looks_like_a_formula_gets_an_apostrophe(
    tmp_path: Path, error: str
) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS)
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="failed", error=error))
    writer.save()

    assert read_csv(path).rows[0].values[7] == "'" + error


def test_control_characters_in_result_text_are_dropped(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS)
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="failed", error="bad\x00 body\x1b"))
    writer.save()

    assert read_csv(path).rows[0].values[7] == "bad body"


def test_character_the_encoding_cannot_hold_is_replaced_with_a_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS, encoding="cp1252")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="failed", error="Błędny numer ✓"))
    writer.save()

    assert read_csv(path).rows[0].values[7] == "B??dny numer ?"
    (warning,) = writer.warnings
    assert "Windows-1252" in warning
    assert "łę✓" in warning


def test_utf8_file_keeps_every_character_without_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS, encoding="utf-8")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="failed", error="Błędny numer ✓"))
    writer.save()

    assert read_csv(path).rows[0].values[7] == "Błędny numer ✓"
    assert writer.warnings == ()


def test_cost_uses_a_point_in_comma_files(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS, delimiter=",")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(cost=0.1234))
    writer.set(3, RowResult(cost=2))
    writer.save()

    assert [r.values[6] for r in read_csv(path).rows[:2]] == ["0.1234", "2.00"]


def test_header_changed_since_reading_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS)
    table = read_csv(path)
    write_csv(path, [["Namn", "Telefon", "Ort"], *CONTACTS[1:]])

    with pytest.raises(WorkbookError, match="header row changed"):
        CsvResultWriter(path, table)


# Campaign identity


def test_campaign_id_is_written_into_every_data_row_before_any_result(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;Namn\r\n0701;A\r\n\r\n0702;B\r\n", "cp1252")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set_campaign_id("c-2026-05")
    writer.save()

    blanks = ";" * (len(RESULT_COLUMNS) - 1)
    assert path.read_bytes().decode("cp1252") == (
        f"Telefon;Namn;{';'.join(RESULT_COLUMNS)};SMS campaign\r\n"
        f"0701;A;{blanks};c-2026-05\r\n"
        "\r\n"
        f"0702;B;{blanks};c-2026-05\r\n"
    )
    assert read_csv(path).campaign_id == "c-2026-05"
    with stream_csv(path) as (table, _):
        assert table.campaign_id == "c-2026-05"


def test_sorted_split_and_moved_file_still_names_its_campaign(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS)
    writer = CsvResultWriter(path, read_csv(path))
    writer.set_campaign_id("c-1")
    writer.save()
    header, *rows = path.read_bytes().split(b"\r\n")[:-1]

    moved = tmp_path / "annan" / "kopia.csv"
    moved.parent.mkdir()
    moved.write_bytes(b"\r\n".join([header, *sorted(rows, reverse=True)[:2]]) + b"\r\n")

    assert read_csv(moved).campaign_id == "c-1"


def test_rows_added_later_join_the_campaign(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;SMS campaign\n0701;c-1\n0702;\n")

    assert read_csv(path).campaign_id == "c-1"


def test_fresh_export_has_no_campaign(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CONTACTS)

    assert read_csv(path).campaign_id is None


def test_file_mixing_two_campaigns_is_an_error_saying_what_to_do(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;SMS campaign\n0701;c-1\n0702;c-2\n")

    with pytest.raises(WorkbookError, match=r"mixes rows of different campaigns.*'c-1' in row 2"):
        read_csv(path)


def test_clearing_the_campaign_empties_the_column(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.csv", "Telefon;SMS campaign\n0701;c-1\n")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set_campaign_id(None)
    writer.save()

    assert read_csv(path).campaign_id is None
    assert path.read_text().splitlines()[1] == "0701;;;;;;;;"


# Where results go


@pytest.mark.parametrize("lock_name", ["~$kunder.csv", ".~lock.kunder.csv#"])
def test_file_open_in_excel_gets_a_results_file_beside_it(tmp_path: Path, lock_name: str) -> None:
    path = write_csv(tmp_path / "kunder.csv", CONTACTS)
    before = path.read_bytes()
    (tmp_path / lock_name).write_bytes(b"user")
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent"))
    target = writer.save()

    assert target == tmp_path / "kunder.results.csv" == writer.target
    assert lock_name in (writer.fallback_reason or "")
    assert path.read_bytes() == before
    assert read_csv(target).rows[0].values[3] == "sent"


def test_read_only_file_gets_a_results_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kunder.csv", CONTACTS)
    path.chmod(0o444)
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent"))

    assert writer.save() == tmp_path / "kunder.results.csv"
    assert writer.fallback_reason == "it is read-only"
    assert os.access(writer.target, os.W_OK)


def test_file_changed_on_disk_since_reading_gets_a_results_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kunder.csv", CONTACTS)
    writer = CsvResultWriter(path, read_csv(path))
    with path.open("ab") as f:
        f.write(b"0703333333;Ny;Kiruna\r\n")

    writer.set(2, RowResult(status="sent"))

    assert writer.save() == tmp_path / "kunder.results.csv"
    assert "changed" in (writer.fallback_reason or "")
    assert path.read_bytes().endswith(b"Kiruna\r\n")


def test_repeated_saves_replace_the_file_each_time(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kunder.csv", CONTACTS)
    writer = CsvResultWriter(path, read_csv(path))

    writer.set(2, RowResult(status="sent"))
    writer.save()
    writer.set(3, RowResult(status="sent"))
    writer.save()

    assert writer.target == path
    assert [r.values[3] for r in read_csv(path).rows] == ["sent", "sent", None]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kunder.csv"]


# LibreOffice


soffice = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(soffice is None, reason="LibreOffice (soffice) not installed")


def _soffice(tmp_path: Path, *args: str) -> None:
    assert soffice is not None
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", *args],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
    )


@needs_soffice
def test_csv_saved_by_libreoffice_in_windows_1252_with_semicolons_is_read(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [["Telefon", "Förnamn", "Not"], ["0701234567", "Åsa", "a;b"], ["46707", "Ö", "€"]]:
        sheet.append(row)
    book.save(tmp_path / "lo.xlsx")

    # 59 = ';', 34 = '"', 1 = Windows-1252 (LibreOffice's CSV filter options).
    _soffice(tmp_path, "--convert-to", "csv:Text - txt - csv (StarCalc):59,34,1", "lo.xlsx")

    path = tmp_path / "lo.csv"
    assert load_csv(path).format.encoding == "cp1252"
    table = read_csv(path)
    assert table.header == ("Telefon", "Förnamn", "Not")
    assert [r.values for r in table.rows] == [("0701234567", "Åsa", "a;b"), ("46707", "Ö", "€")]


@needs_soffice
def test_results_open_in_libreoffice_in_their_columns_as_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "res.csv", CONTACTS, encoding="utf-8-bom", delimiter=",")
    writer = CsvResultWriter(path, read_csv(path))
    writer.set(2, RowResult(status="failed", error='=1+1, "quoted"\nnext'))
    writer.set_campaign_id("c-1")
    writer.save()

    # 44 = ',', 34 = '"', 76 = UTF-8.
    _soffice(
        tmp_path, "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
        "res.csv",
    )  # fmt: skip

    sheet = load_workbook(tmp_path / "res.xlsx").active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == [*CONTACTS[0], *RESULT_COLUMNS, "SMS campaign"]
    assert rows[1][3] == "failed"
    assert rows[1][7] == '\'=1+1, "quoted"\nnext'
    assert rows[1][10] == "c-1"
