"""Reading and writing the sheets coordinators keep: semicolon CSV and .xlsx.

Generic over columns, so the course catalogue and the competence bank share it. Reading is all or
nothing: ``read_sheet`` returns every row or raises ``SheetError`` listing every problem with its
row number (as Excel numbers rows: the header is row 1) and column. Headers match whatever their
case, spacing, order or diacritics; unknown columns are ignored.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from storage.language import fold

CellValue = str | list[str]
Check = Callable[[str], str | None]  # a problem in Swedish, or None when the cell is fine

MAX_ROWS = 20_000
# A cell that Excel or LibreOffice would run as a formula ("=HYPERLINK(...)", "+46 ...", "-1",
# "@SUM"): written with a leading apostrophe in CSV (and as a text cell in .xlsx), and the
# apostrophe is taken off again on import, so export then import changes nothing.
FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPE = "'"
# Characters no sheet cell or database text may hold (C0 controls but tab and line breaks).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    name: str  # the header we write, Swedish (e.g. "länk")
    aliases: tuple[str, ...] = ()  # other headers people use ("url", "webbadress")
    required: bool = False  # the header must be there and every cell filled
    is_list: bool = False  # comma-separated values
    max_length: int = 2000
    check: Check | None = None


@dataclass(frozen=True)
class Problem:
    row: int  # 1 = the header row; 0 = the file as a whole
    column: str | None
    message: str  # Swedish

    def __str__(self) -> str:
        where = []
        if self.row:
            where.append(f"rad {self.row}")
        if self.column:
            where.append(f"kolumn ”{self.column}”")
        prefix = ", ".join(where)
        return f"{prefix[:1].upper()}{prefix[1:]}: {self.message}" if prefix else self.message


class SheetError(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Row:
    number: int  # as Excel shows it
    values: Mapping[str, CellValue] = field(default_factory=dict)

    def text(self, column: str) -> str:
        value = self.values.get(column, "")
        return ", ".join(value) if isinstance(value, list) else value

    def items(self, column: str) -> list[str]:
        value = self.values.get(column, [])
        return value if isinstance(value, list) else split_list(value)


def normalise_header(text: str) -> str:
    """'  Länk ' → 'lank': compared without case, spacing, BOM or diacritics."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", "")).strip().lower()
    return fold(" ".join(text.replace("_", " ").split()))


def split_list(cell: str) -> list[str]:
    return [item.strip() for item in cell.replace(";", ",").split(",") if item.strip()]


# --- reading ---------------------------------------------------------------------------


def read_sheet(path: Path | str, columns: Sequence[Column]) -> list[Row]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SheetError(
            [Problem(0, None, f"filen gick inte att läsa ({error.strerror})")]
        ) from error
    return read_sheet_bytes(data, path.name, columns)


def read_sheet_bytes(data: bytes, filename: str, columns: Sequence[Column]) -> list[Row]:
    """Rows of a CSV or .xlsx file (chosen by the file name), validated against ``columns``."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _xlsx_table(data)
    elif suffix in (".csv", ".txt", ""):
        table = _csv_table(data)
    else:
        raise SheetError([Problem(0, None, "filen ska vara en .csv eller .xlsx")])
    return _validate(table, columns)


def _csv_table(data: bytes) -> list[list[str]]:
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="strict")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")  # what Excel writes as "CSV (semikolon)"
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first else ("\t" if "\t" in first else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[unescape(cell) for cell in row] for row in reader]
    except csv.Error as error:  # a cell beyond the csv module's limit (128 KB), for one
        raise SheetError(
            [Problem(reader.line_num, None, "raden kunde inte läsas (en cell är för lång)")]
        ) from error


def header_of(data: bytes, filename: str) -> set[str] | None:
    """The normalised column names of a sheet's first row; None when it cannot be read."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook  # import/export only: keeps 0.2 s off every start

        try:
            book = load_workbook(io.BytesIO(data), read_only=True)
            first = next(book.worksheets[0].iter_rows(values_only=True), ())
            book.close()
        except Exception:  # openpyxl raises many kinds for a broken or non-xlsx file
            return None
        return {normalise_header(str(c)) for c in first if c is not None}
    head = data[:2000].decode("utf-8", errors="replace").lstrip("\ufeff").split("\n", 1)[0]
    return {normalise_header(c) for c in re.split(r"[;,\t]", head)}


def _xlsx_table(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # import/export only: keeps 0.2 s off every start

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken or non-xlsx file
        raise SheetError([Problem(0, None, "filen gick inte att öppna som .xlsx")]) from error
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _validate(table: list[list[str]], columns: Sequence[Column]) -> list[Row]:
    problems: list[Problem] = []
    header_index = next((i for i, row in enumerate(table) if any(c.strip() for c in row)), None)
    if header_index is None:
        raise SheetError([Problem(0, None, "filen är tom")])
    header = [normalise_header(cell) for cell in table[header_index]]
    positions: dict[str, int] = {}
    for column in columns:
        names = {normalise_header(n) for n in (column.name, *column.aliases)}
        found = [i for i, cell in enumerate(header) if cell in names]
        if len(found) > 1:
            problems.append(Problem(header_index + 1, column.name, "kolumnen finns flera gånger"))
        if found:
            positions[column.name] = found[0]
        elif column.required:
            problems.append(Problem(header_index + 1, column.name, "kolumnen saknas"))
    if problems:
        raise SheetError(problems)
    rows: list[Row] = []
    for index in range(header_index + 1, len(table)):
        cells = table[index]
        number = index + 1
        if not any(c.strip() for c in cells):
            continue
        values: dict[str, CellValue] = {}
        for column in columns:
            position = positions.get(column.name)
            raw = cells[position] if position is not None and position < len(cells) else ""
            if _CONTROL.search(raw):
                problems.append(
                    Problem(
                        number, column.name, "innehåller ett otillåtet tecken (t.ex. nolltecken)"
                    )
                )
                continue
            cell = " ".join(raw.split())
            if column.required and not cell:
                problems.append(Problem(number, column.name, "saknar värde"))
                continue
            if len(cell) > column.max_length:
                problems.append(
                    Problem(number, column.name, f"är längre än {column.max_length} tecken")
                )
                continue
            if cell and column.check and (message := column.check(cell)):
                problems.append(Problem(number, column.name, message))
                continue
            values[column.name] = split_list(cell) if column.is_list else cell
        rows.append(Row(number, values))
    if len(rows) > MAX_ROWS:
        problems.append(Problem(0, None, f"filen har fler än {MAX_ROWS} rader"))
    if problems:
        raise SheetError(problems)
    return rows


# --- writing ---------------------------------------------------------------------------


def write_sheet(
    path: Path | str, columns: Sequence[Column], rows: Iterable[Mapping[str, CellValue]]
) -> None:
    """CSV (UTF-8 with BOM, semicolons: Excel opens it right) or .xlsx, by the file name."""
    path = Path(path)
    names = [column.name for column in columns]
    table = [[_cell_out(row.get(name, "")) for name in names] for row in rows]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        sheet = book.active
        sheet.append(names)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for values in table:
            sheet.append([_CONTROL.sub("", value) for value in values])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    # A text cell, never a formula; quotePrefix keeps it text when edited.
                    cell.data_type = "s"
                    cell.quotePrefix = True
        book.save(path)
        return
    buffer = io.StringIO(newline="")
    # Cells with ; " or line breaks are quoted (QUOTE_MINIMAL), formula starts escaped.
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    writer.writerows([[escape(value) for value in values] for values in table])
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


def escape(cell: str) -> str:
    """A CSV cell a spreadsheet program will show as text, never run as a formula."""
    return ESCAPE + cell if cell.startswith((*FORMULA_STARTS, ESCAPE)) else cell


def unescape(cell: str) -> str:
    """What `escape` wrote, as it was."""
    if cell.startswith(ESCAPE) and cell[1:2] and cell[1:].startswith((*FORMULA_STARTS, ESCAPE)):
        return cell[1:]
    return cell


def _cell_out(value: CellValue) -> str:
    return ", ".join(value) if isinstance(value, list) else value
