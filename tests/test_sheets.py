"""The sheets coordinators send and get back (storage/sheets.py), without a database.

What a coordinator notices: which rows come in with which values, and the problem list the import
report shows them (row as Excel numbers it, column, Swedish message). Written against the
survivors bench/mutation.py listed for storage/sheets.py.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

import storage.sheets
from storage.sheets import (
    MAX_ROWS,
    Column,
    Problem,
    Row,
    SheetError,
    _cell_text,
    header_of,
    normalise_header,
    read_sheet,
    read_sheet_bytes,
    split_list,
    write_sheet,
)


def _no_digits(cell: str) -> str | None:
    return "får inte innehålla siffror" if any(c.isdigit() for c in cell) else None


COLUMNS = (
    Column("titel", ("namn", "rubrik"), required=True, max_length=10),
    Column("länk", ("url",)),
    Column("ämnen", is_list=True),
    Column("ort", check=_no_digits),
)


def problems(data: bytes, filename: str = "kurser.csv") -> list[str]:
    with pytest.raises(SheetError) as caught:
        read_sheet_bytes(data, filename, COLUMNS)
    assert str(caught.value) == "; ".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


def xlsx(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- what the import report says ----------------------------------------------------------
def test_problems_read_as_the_report_shows_them() -> None:
    assert str(Problem(3, "länk", "saknar värde")) == "Rad 3, kolumn ”länk”: saknar värde"
    assert str(Problem(4, None, "är tom")) == "Rad 4: är tom"
    assert str(Problem(0, "länk", "saknas")) == "Kolumn ”länk”: saknas"
    assert str(Problem(0, None, "filen är tom")) == "filen är tom"


def test_every_bad_cell_is_reported_with_its_row_and_column() -> None:
    sheet = "\r\n".join(
        [
            "Titel;Länk;Ämnen;Ort",
            "Demens;https://a;demens;Borås",
            ";https://b;;",  # row 3: no title
            "Elva tecken;https://c;;",  # row 4: 11 > 10
            "Sår;;;Ort 2",  # row 5: the check says no
            "Tio tecken;;;",  # row 6: exactly 10 is fine
        ]
    ).encode()
    assert problems(sheet) == [
        "Rad 3, kolumn ”titel”: saknar värde",
        "Rad 4, kolumn ”titel”: är längre än 10 tecken",
        "Rad 5, kolumn ”ort”: får inte innehålla siffror",
    ]


def test_a_missing_or_doubled_column_is_reported_on_the_header_row() -> None:
    assert problems(b"\r\nL\xc3\xa4nk;Ort\r\nhttps://a;Bor\xc3\xa5s") == [
        "Rad 2, kolumn ”titel”: kolumnen saknas"
    ]
    assert problems("Titel;Rubrik;Länk;URL\r\nA;B;c;d".encode()) == [
        "Rad 1, kolumn ”titel”: kolumnen finns flera gånger",
        "Rad 1, kolumn ”länk”: kolumnen finns flera gånger",
    ]


def test_an_empty_file_an_unknown_kind_or_a_broken_xlsx_say_so() -> None:
    assert problems(b"") == ["filen är tom"]
    assert problems(b";;\r\n  ;\r\n") == ["filen är tom"]
    assert problems(b"titel\r\nA", "kurser.pdf") == ["filen ska vara en .csv eller .xlsx"]
    assert problems(b"not a zip", "kurser.xlsx") == ["filen gick inte att öppna som .xlsx"]


def test_a_file_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    with pytest.raises(SheetError) as caught:
        read_sheet(tmp_path / "finns-inte.csv", COLUMNS)
    assert str(caught.value).startswith("filen gick inte att läsa (")


def test_more_rows_than_allowed_are_refused_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_ROWS == 20_000
    monkeypatch.setattr(storage.sheets, "MAX_ROWS", 3)  # the same rule, without 20,000 rows
    assert len(read_sheet_bytes(b"titel\r\nA\r\nB\r\n\r\nC\r\n", "k.csv", COLUMNS)) == 3
    assert problems(b"titel\r\nA\r\nB\r\nC\r\nD\r\n") == ["filen har fler än 3 rader"]


# --- what comes in ------------------------------------------------------------------------
def test_rows_keep_excel_numbers_and_skip_blank_lines() -> None:
    sheet = "\r\n".join(
        [";;;", ";;", "Titel;Länk;Ämnen;Ort", "A;https://a;;", "", ";;;", "  B  ;https://b;x;y"]
    )
    rows = read_sheet_bytes(sheet.encode(), "kurser.csv", COLUMNS)
    assert [(r.number, r.text("titel"), r.text("länk")) for r in rows] == [
        (4, "A", "https://a"),
        (7, "B", "https://b"),
    ]
    assert rows[1].values == {"titel": "B", "länk": "https://b", "ämnen": ["x"], "ort": "y"}


def test_cells_lose_extra_spaces_and_list_cells_split_on_commas_and_semicolons() -> None:
    sheet = 'titel,länk,ämnen\r\nSår,"Sår   och\nläkning ","sår; bensår ,, trycksår"\r\n'
    [row] = read_sheet_bytes(sheet.encode(), "kurser.csv", COLUMNS)
    assert (row.text("titel"), row.text("länk")) == ("Sår", "Sår och läkning")
    assert row.values["ämnen"] == ["sår", "bensår", "trycksår"]
    assert row.items("ämnen") == ["sår", "bensår", "trycksår"]
    assert row.text("ämnen") == "sår, bensår, trycksår"


def test_a_short_row_leaves_the_missing_cells_empty() -> None:
    [row] = read_sheet_bytes("ort;länk;titel\r\nBorås".encode(), "k.csv", [COLUMNS[1], COLUMNS[3]])
    assert row.values == {"länk": "", "ort": "Borås"}


def test_headers_match_whatever_their_case_spacing_diacritics_or_bom() -> None:
    assert normalise_header("\ufeff  Länk ") == "lank"
    assert normalise_header("Namn_på   PERSON") == "namn pa person"
    sheet = "\ufeffTITEL;  Lank ;ÄMNEN\r\nA;https://a;x".encode()
    [row] = read_sheet_bytes(sheet, "kurser.csv", COLUMNS)
    assert row.values == {"titel": "A", "länk": "https://a", "ämnen": ["x"], "ort": ""}


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_the_delimiter_is_read_from_the_header_line(delimiter: str) -> None:
    sheet = delimiter.join(["titel", "länk"]) + "\r\n" + delimiter.join(["A", "https://a"])
    [row] = read_sheet_bytes(sheet.encode(), "kurser.txt", COLUMNS)
    assert (row.text("titel"), row.text("länk")) == ("A", "https://a")


def test_a_comma_in_a_cell_does_not_make_a_semicolon_sheet_comma_separated() -> None:
    [row] = read_sheet_bytes("titel;ort\r\nA, B;Borås, Mark".encode(), "k", COLUMNS)
    assert (row.text("titel"), row.text("ort")) == ("A, B", "Borås, Mark")


def test_what_excel_writes_as_csv_is_read_right() -> None:
    # "CSV (semikolon)" from a Swedish Excel is Windows-1252; UTF-8 may come with a BOM.
    for data in ("titel\r\nÅsa ö".encode("cp1252"), "\ufefftitel\r\nÅsa ö".encode()):
        [row] = read_sheet_bytes(data, "kurser.CSV", COLUMNS)
        assert row.text("titel") == "Åsa ö"


def test_xlsx_cells_come_as_the_text_excel_shows() -> None:
    data = xlsx(
        ["Länk", "Titel", "Ort"],
        [45, 4.5, None],
        [datetime(2026, 11, 23, 9, 30), "Sår", "Borås"],
    )
    rows = read_sheet_bytes(data, "kurser.XLSX", COLUMNS)
    assert [r.values for r in rows] == [
        {"länk": "45", "titel": "4.5", "ämnen": [], "ort": ""},
        {"länk": "2026-11-23T09:30:00", "titel": "Sår", "ämnen": [], "ort": "Borås"},
    ]
    assert read_sheet_bytes(data, "kurser.xlsm", COLUMNS) == rows


def test_the_header_of_a_sheet_is_read_without_validating_it() -> None:
    assert header_of("\ufeffTitel;Länk,Ort\tKommun\r\nA;b\r\nC;d".encode(), "x.csv") == {
        "titel",
        "lank",
        "ort",
        "kommun",
    }
    # Windows-1252 from Excel: still read (the ä is lost), never an error
    assert "titel" in header_of("Titel;Länk\r\nA;b".encode("cp1252"), "x.csv")  # type: ignore[operator]
    assert header_of(xlsx(), "x.xlsx") == set()  # an empty workbook: no columns
    assert header_of(xlsx(["Titel", None, "LÄNK"], ["A", "b", "c"]), "x.XLSX") == {"titel", "lank"}
    assert header_of(b"not a zip", "x.xlsx") is None


def test_split_list_and_rows_without_a_value() -> None:
    assert split_list(" a ;b,, c ") == ["a", "b", "c"]
    assert split_list("") == []
    assert Row(2).text("titel") == ""
    assert Row(2).items("ämnen") == []
    assert Row(2, {"ämnen": "a; b"}).items("ämnen") == ["a", "b"]


# --- what goes out, and back in -----------------------------------------------------------
def test_csv_is_what_a_swedish_excel_opens_right(tmp_path: Path) -> None:
    path = tmp_path / "kurser.csv"
    write_sheet(path, COLUMNS, [{"titel": "A", "ämnen": ["x", "y"]}])
    assert path.read_bytes() == "\ufefftitel;länk;ämnen;ort\r\nA;;x, y;\r\n".encode()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".XLSX"])
def test_awkward_values_come_back_as_they_went_out(tmp_path: Path, suffix: str) -> None:
    rows = [
        {"titel": 'A;"B"', "länk": "=HYPERLINK(1)", "ämnen": ["sår", "kol"], "ort": "Borås"},
        {"titel": "=1+1", "länk": "+46 70", "ämnen": [], "ort": "-"},
    ]
    path = tmp_path / f"kurser{suffix}"
    write_sheet(path, COLUMNS, rows)
    back = read_sheet(path, COLUMNS)
    assert [r.values for r in back] == rows
    assert [r.number for r in back] == [2, 3]


def test_xlsx_has_a_bold_header_and_no_formulas(tmp_path: Path) -> None:
    path = tmp_path / "kurser.xlsx"
    write_sheet(path, COLUMNS, [{"titel": "=1+1"}])
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == ["titel", "länk", "ämnen", "ort"]
    assert all(c.font.bold for c in sheet[1])
    assert not any(c.font.bold for c in sheet[2])
    assert sheet["A2"].data_type == "s"


def test_a_formula_comes_in_as_the_value_excel_computed_never_as_its_text() -> None:
    # openpyxl stores no computed value: such a cell is empty, as if Excel had never opened it
    data = xlsx(["titel", "länk", "ort"], ["=1+1", "=HYPERLINK(1)", "Borås"])
    assert problems(data, "kurser.xlsx") == ["Rad 2, kolumn ”titel”: saknar värde"]


def test_numbers_from_other_programs_come_as_excel_shows_them() -> None:
    # openpyxl reads Excel's 45 as an int; LibreOffice and others may store 45.0
    assert (_cell_text(45.0), _cell_text(4.5), _cell_text(None), _cell_text(7)) == (
        "45",
        "4.5",
        "",
        "7",
    )


def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text(tmp_path: Path) -> None:
    path = tmp_path / "kurser.csv"
    write_sheet(path, COLUMNS, [{"titel": "=1+1", "länk": "'x", "ort": "Borås"}])
    assert path.read_bytes() == "\ufefftitel;länk;ämnen;ort\r\n'=1+1;''x;;Borås\r\n".encode()
    assert [r.values for r in read_sheet(path, COLUMNS)] == [
        {"titel": "=1+1", "länk": "'x", "ämnen": [], "ort": "Borås"}
    ]
