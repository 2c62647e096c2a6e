"""Opening a landed file as a table of text: CSV (with or without a UTF-8 BOM, CRLF or LF, gzip),
XLSX (first sheet, header in row 1) and Parquet, with the folder's settings (encoding, delimiter).

What real exports do and how it is taken:
- an encoding other than the folder's: refused at its line and byte ("save as UTF-8 or declare the
  encoding in _format.toml");
- another delimiter than the folder's: refused naming the delimiter the header uses;
- trailing delimiters (Excel's `a,b,,,`): columns without a name are dropped when they hold nothing,
  refused when they hold values; blank lines (trailing or not) are no rows;
- a footer such as `Total,,,1234`: refused by name (it is not a row of data);
- a last line without a line end: refused, the file may still be being written or was cut short.

Rows are numbered as an operator finds them: CSV lines and spreadsheet rows with the header as 1,
Parquet rows from 1 (`TextTable.where`).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.utils.exceptions import InvalidFileException

from pipeline.landed_files.folders import (
    SETTINGS_FILE,
    FolderSettings,
    LandedFileError,
    listing,
    require_complete_parquet,
    require_nonempty,
)

CSV_SUFFIXES = (".csv", ".csv.gz")
XLSX_SUFFIXES = (".xlsx",)
PARQUET_SUFFIXES = (".parquet",)
# The column a table numbers its rows in, as `where` shows them.
LINE = "__line"
BLANK_COLUMN = "__unnamed_"
FOOTER_WORDS = frozenset({"total", "totals", "grand total", "subtotal", "sum", "count", "end of report"})
_BLOCK = 1 << 20
_OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}


def file_kind(path: Path) -> str:
    name = Path(path).name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(XLSX_SUFFIXES):
        return "xlsx"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise LandedFileError(path, f"not a CSV, CSV.gz, XLSX or Parquet file (by its name): {Path(path).name}")


def where(kind: str, line: int) -> str:
    return f"row {line}" if kind in ("parquet", "xlsx") else f"line {line}"


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _encoding_fix(settings: FolderSettings) -> str:
    declared = f"the folder declares {settings.encoding}" if settings.source else "the project reads UTF-8"
    return (
        f"{declared}: save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet), or declare its encoding in the "
        f'folder\'s {SETTINGS_FILE} (encoding = "cp1252")'
    )


def _encoding_name(settings: FolderSettings) -> str:
    return "UTF-8" if settings.encoding == "utf-8" else settings.encoding


def check_text(path: Path, settings: FolderSettings) -> None:
    """Decode the whole file as the folder says (streamed, block by block) and refuse it at the first
    byte that is not in that encoding, naming the line; refuse a last line without a line end."""
    decoder = codecs.getincrementaldecoder(settings.encoding)()
    line, offset, last = 1, 0, ""
    try:
        with _open_bytes(path) as handle:
            while block := handle.read(_BLOCK):
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as error:
                    done = block[: error.start].decode(settings.encoding, errors="replace")
                    at = line + done.count("\n")
                    utf16 = " (it looks like UTF-16)" if offset == 0 and block[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
                    raise LandedFileError(
                        path,
                        f"line {at}: byte {offset + error.start:,} of the file is "
                        f"{block[error.start : error.start + 1]!r}: not {_encoding_name(settings)}{utf16}; "
                        + _encoding_fix(settings),
                    ) from error
                line += text.count("\n")
                offset += len(block)
                last = text[-1:] or last
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise LandedFileError(path, f"the file ends inside a character: {_encoding_fix(settings)}") from error
    except (OSError, EOFError, zlib.error) as error:
        raise LandedFileError(
            path, f"not a complete gzip file ({error}): cut short or not gzip; compress it again with gzip"
        ) from error
    if last not in ("\n", "\r", ""):
        raise LandedFileError(
            path,
            f"the last line (line {line}) has no line end: the file may still be being written or was cut short. "
            "Wait until it is complete, or copy it again (an export ends every line, the last one too)",
        )


def _first_line(path: Path, settings: FolderSettings) -> str:
    with _open_bytes(path) as handle:
        first = handle.readline(_BLOCK)
    encoding = "utf-8-sig" if settings.encoding == "utf-8" else settings.encoding
    return first.decode(encoding, errors="replace").rstrip("\r\n")


def csv_header(path: Path, settings: FolderSettings) -> list[str]:
    """The header's names (trimmed; a blank one becomes BLANK_COLUMN + its position), refused when
    empty, when it names a column twice or when it is written with another delimiter."""
    text = _first_line(path, settings)
    if "\r" in text:
        raise LandedFileError(
            path,
            "line 1: a carriage return inside the line (line ends of an old Mac, CR only): save it with LF or CRLF",
        )
    try:
        names = [n.strip() for n in next(csv.reader([text], delimiter=settings.delimiter), [])]
    except csv.Error as error:
        raise LandedFileError(path, f"line 1: the header is not readable as CSV ({error})") from error
    if not any(names):
        raise LandedFileError(path, "the first line is empty: the first line must be the header row")
    if len(names) == 1:
        other = next((d for d in _OTHER_DELIMITERS if d in text), None)
        if other is not None:
            raise LandedFileError(
                path,
                f"this file uses {_OTHER_DELIMITERS[other]} as its delimiter, the folder {settings.delimiter!r}: "
                f"export it with {settings.delimiter!r}, or declare delimiter = {other!r} in the folder's "
                f"{SETTINGS_FILE}",
            )
    named = [n for n in names if n]
    doubled = sorted({n for n in named if named.count(n) > 1})
    if doubled:
        raise LandedFileError(path, f"the header names {listing(doubled)} more than once: keep one of each")
    return [n or f"{BLANK_COLUMN}{i + 1}" for i, n in enumerate(names)]


def scan_csv(path: Path, header: list[str], settings: FolderSettings) -> pl.LazyFrame:
    """The CSV's rows as text under `header`'s names (check_text first: it refuses what Polars
    would misread). A folder in another encoding than UTF-8 is transcoded in memory."""
    options = dict(has_header=True, new_columns=header, separator=settings.delimiter, infer_schema=False)
    if settings.encoding == "utf-8":
        return pl.scan_csv(path, encoding="utf8", **options)
    with _open_bytes(path) as handle:
        content = handle.read().decode(settings.encoding).encode("utf-8")
    return pl.read_csv(io.BytesIO(content), **options).lazy()


def _cell_text(value) -> str | None:
    """A spreadsheet cell as the text of exactly its value: numbers in their shortest exact decimal
    (a whole number without '.0'), dates ISO, a date-time at midnight as its date."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_WHOLE_LIMIT:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# A spreadsheet number is a double: from 2**53 on, not every whole number is one (15 digits are kept).
_EXACT_WHOLE_LIMIT = float(2**53)


def workbook_rows(path: Path, first_sheet_only: bool = False) -> list[list[tuple]]:
    """Every sheet's rows of cell values as stored (openpyxl: a number is the double the file holds,
    not a display rounding of it); a file that is no workbook is refused."""
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheets = workbook.worksheets[:1] if first_sheet_only else workbook.worksheets
        rows = [list(sheet.iter_rows(values_only=True)) for sheet in sheets]
        workbook.close()
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise LandedFileError(path, f"not a readable XLSX workbook ({error}): save it again as .xlsx") from error
    return rows


def cell_texts(rows: list[tuple]) -> list[list[str]]:
    """Rows of cells as their exact texts, a blank cell as ''."""
    return [[_cell_text(value) or "" for value in row] for row in rows]


def read_xlsx(path: Path) -> tuple[list[str], pl.DataFrame]:
    """The first sheet of a workbook: header row 1, every cell as the text of exactly its value (a
    number cell too large to be exact is refused)."""
    [rows] = workbook_rows(path, first_sheet_only=True)
    if not rows:
        raise LandedFileError(path, "the first sheet is empty: the first row must be the header row")
    names = [("" if v is None else str(v)).strip() for v in rows[0]]
    named = [n for n in names if n]
    doubled = sorted({n for n in named if named.count(n) > 1})
    if doubled:
        raise LandedFileError(path, f"the header names {listing(doubled)} more than once: keep one of each")
    header = [n or f"{BLANK_COLUMN}{i + 1}" for i, n in enumerate(names)]
    rounded = [
        f"row {line} ({value:.0f}) in column {header[i]!r}"
        for line, row in enumerate(rows[1:], start=2)
        for i, value in enumerate(row[: len(header)])
        if isinstance(value, float) and abs(value) >= _EXACT_WHOLE_LIMIT
    ]
    if rounded:
        raise LandedFileError(
            path,
            f"{listing(rounded, 3)}: numbers of more than 15 significant digits, which a spreadsheet keeps rounded: "
            "export the column as text (ids as text cells)",
        )
    columns = {
        name: [_cell_text(row[i]) if i < len(row) else None for row in rows[1:]] for i, name in enumerate(header)
    }
    return header, pl.DataFrame(columns, schema=dict.fromkeys(header, pl.String))


def blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == "")


def without_blank_rows(frame: pl.LazyFrame | pl.DataFrame, columns: list[str]):
    """Drop the rows in which every column is blank (blank lines, Excel's rows of commas)."""
    if not columns:
        return frame
    return frame.filter(~pl.all_horizontal([blank(c) for c in columns]))


def layout_problems(frame: pl.LazyFrame | pl.DataFrame, header: list[str], kind: str) -> list[str]:
    """Columns without a name that hold values, and footer rows ('Total'): refused by name."""
    lazy = frame.lazy()
    problems = []
    unnamed = [c for c in header if c.startswith(BLANK_COLUMN)]
    if unnamed:
        filled = lazy.select([(~blank(c)).sum().alias(c) for c in unnamed]).collect().row(0)
        for column, count in zip(unnamed, filled):
            if count:
                problems.append(
                    f"column {column.removeprefix(BLANK_COLUMN)} has no name in the header but holds {count:,} "
                    "value(s): name it, or delete the column"
                )
    named = [c for c in header if not c.startswith(BLANK_COLUMN)]
    if named:
        first = pl.col(named[0]).cast(pl.String).str.strip_chars().str.strip_suffix(":").str.to_lowercase()
        footers = lazy.filter(first.is_in(list(FOOTER_WORDS))).select(LINE, named[0]).head(3).collect()
        for line, value in footers.rows():
            problems.append(
                f"{where(kind, line)}: {value!r} looks like a footer (a total), not a row of data: remove footer "
                "lines from the export"
            )
    return problems


@dataclass(frozen=True)
class TextTable:
    """A landed file read whole as text: its rows (every column a String, blank rows dropped, unnamed
    empty columns dropped) with each row's LINE."""

    path: Path
    kind: str
    frame: pl.DataFrame
    # A Parquet file's own typed columns, row for row with `frame` and named as it (None for CSV and
    # XLSX, or when blank rows were dropped): a reader may take a column already of its type from here
    # instead of parsing its text, where both give the same values.
    typed: pl.DataFrame | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != LINE]

    def where(self, line: int) -> str:
        return where(self.kind, line)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Typed Parquet columns as the text their values are exactly (dates ISO, floats shortest)."""
    return frame.with_columns(
        [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t != pl.String and c != LINE]
    )


def read_table(path: Path, settings: FolderSettings | None = None, *, lower_case: bool = False) -> TextTable:
    """Read a CSV, CSV.gz, XLSX or Parquet file whole as text (for the small reference files and
    feeds; trade files stream). `lower_case`: header names compared case-insensitively."""
    path = Path(path)
    settings = FolderSettings() if settings is None else settings
    kind = file_kind(path)
    never_blank = False  # True when a row cannot be blank: the blank-row filter is skipped
    raw = None
    require_nonempty(path, "write a header row and one row per record")
    if kind == "csv":
        check_text(path, settings)
        header = csv_header(path, settings)
        frame = scan_csv(path, header, settings).with_row_index(LINE, offset=2)
    elif kind == "xlsx":
        header, sheet = read_xlsx(path)
        frame = sheet.lazy().with_row_index(LINE, offset=2)
    else:
        require_complete_parquet(path)
        try:
            raw = pl.read_parquet(path)
        except Exception as error:  # noqa: BLE001 - any unreadable file is refused, never raised raw
            raise LandedFileError(path, f"not a readable Parquet file ({error}): write it again") from error
        header = list(raw.columns)
        # A typed column (number, date, flag) without nulls holds text in every row: no row is blank.
        never_blank = any(
            (dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean) and raw[column].null_count() == 0
            for column, dtype in raw.schema.items() if not column.startswith(BLANK_COLUMN)
        )
        frame = _as_text(raw).lazy().with_row_index(LINE, offset=1)
    try:
        problems = layout_problems(frame, header, kind)
        if problems:
            raise LandedFileError(path, problems)
        named = [c for c in header if not c.startswith(BLANK_COLUMN)]
        rows = (frame if never_blank else without_blank_rows(frame, named)).select(LINE, *named).collect()
    except pl.exceptions.PolarsError as error:
        raise LandedFileError(path, f"not a readable {kind.upper()} file: {error}") from error
    rows = rows.with_columns(pl.col(LINE).cast(pl.UInt32))
    typed = raw.select(named) if raw is not None and never_blank else None
    if lower_case:
        lowered = [c.lower() for c in named]
        doubled = sorted({c for c in lowered if lowered.count(c) > 1})
        if doubled:
            raise LandedFileError(path, f"the header names {listing(doubled)} more than once (in any case): keep one")
        rows = rows.rename(dict(zip(named, lowered)))
        typed = typed.rename(dict(zip(named, lowered))) if typed is not None else None
    return TextTable(path, kind, rows, typed)
