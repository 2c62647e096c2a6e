"""Issuer holdings files (`compositions/`) read as an operator downloads them: the fund's preamble
and its holdings lines, every field as text, before any mapping (that is pipeline.pivot.landed.holdings).

Pure: no Dagster, no database. Two issuer formats, each found by its columns, never by line number:

- iShares holdings CSV (`<TICKER>_holdings.csv`): a preamble (the fund's name; `Fund Holdings
  as of,"Sep 04, 2026"`; optionally `Shares Outstanding,"272,100,000.00"` and more), a header
  row with at least Ticker, Name and Weight (%) (older files say Shares for Quantity; some omit
  columns), quoted numbers with thousands separators, `-` for empty, then a blank line and a
  legal footer. Read with Python's csv module.
- SPDR daily holdings XLSX (`holdings-daily-us-en-<ticker>.xlsx`): preamble rows (`Fund Name:`,
  `Ticker Symbol:`, `Holdings:` `As of 30-Apr-2024`, or `Date:` `4/30/2024`), the header
  Name, Ticker, Identifier, SEDOL, Weight, Sector, Shares Held, Local Currency (weights in
  percent; numbers possibly stored as text with thousands separators), then footer text. Read
  with Polars `read_excel` (fastexcel/calamine).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import LandedFileError, landed_files, require_nonempty
from pipeline.landed_files.tables import cell_texts, workbook_rows
from pipeline.landed_files.values import parse_number as exact_number
from pipeline.pivot.landing import LANDING_COLUMNS

ISHARES = "iShares"
SPDR = "SPDR"
TICKER_MAP_FILE = "ticker_map.csv"
# The header row is looked for in this many rows from the top (preambles are a dozen lines).
MAX_HEADER_SEARCH_ROWS = 60
EMPTY_MARKERS = {"", "-", "--", "n/a", "na", "none"}

# Each field, and the column names issuers give it (compared case- and space-insensitively); the
# first name present wins.
COLUMN_NAMES: dict[str, list[str]] = {
    "ticker": ["ticker", "ticker symbol", "symbol"],
    "name": ["name", "security name", "holding name"],
    "weight": ["weight (%)", "weight", "weight %", "% of net assets", "% weight"],
    "sector": ["sector"],
    "asset_class": ["asset class"],
    "quantity": ["quantity", "shares", "shares held", "par value"],
    "price": ["price"],
    "exchange": ["exchange"],
    "currency": ["currency", "local currency", "market currency"],
    "location": ["location", "country"],
    "cusip": ["identifier", "cusip"],
    "sedol": ["sedol"],
}
REQUIRED_FIELDS = ["ticker", "name", "weight"]
_DATE_FORMATS = ["%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d %b %Y", "%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]
_ISHARES_NAME = re.compile(r"^(?P<ticker>.+?)_holdings", re.IGNORECASE)
_SPDR_NAME = re.compile(r"^holdings-daily-[a-z]{2}-[a-z]{2}-(?P<ticker>[^.]+)\.xlsx$", re.IGNORECASE)


def normal_cell(cell) -> str:
    """A cell compared as a column or preamble key: lower case, one space between words (also
    non-breaking ones), no trailing colon."""
    return " ".join(str(cell or "").split()).lower().rstrip(":").strip()


def is_blank(cell) -> bool:
    return normal_cell(cell) in EMPTY_MARKERS


def parse_number(text) -> float | None:
    """A number as issuers write it: '1,234.50', '(12.00)' (negative), '5%' (5: weights are in percent),
    or None for '-' or empty. Raises ValueError saying why for anything else (the shared grammar,
    pipeline.landed_files.values: '182,81' is an ambiguous locale, never 18281)."""
    value = " ".join(str(text or "").split())
    if value.lower() in EMPTY_MARKERS:
        return None
    negative = value.startswith("(") and value.endswith(")")
    number = exact_number(value.removeprefix("(").removesuffix(")").removesuffix("%"))
    return -number if negative else number


def parse_as_of(text) -> date | None:
    """'Sep 04, 2026', 'As of 30-Apr-2024', '4/30/2024', '2024-04-30' (also an Excel date cell)."""
    value = " ".join(str(text or "").split())
    value = re.sub(r"^as of\s*", "", value, flags=re.IGNORECASE).strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


@dataclass
class HoldingsFile:
    """What an issuer file says, before any mapping: its preamble and its holdings lines
    (`lines`: one row per data line, every field as text, `where` naming the line)."""

    path: Path
    issuer: str
    fund_ticker: str | None
    fund_name: str | None
    as_of: date | None
    shares_outstanding: float | None
    lines: list[dict[str, str]]
    columns: list[str]


def _header_index(rows: Sequence[Sequence[str]]) -> int | None:
    for index, row in enumerate(rows[:MAX_HEADER_SEARCH_ROWS]):
        cells = {normal_cell(c) for c in row}
        if all(any(name in cells for name in COLUMN_NAMES[f]) for f in REQUIRED_FIELDS):
            return index
    return None


def _no_header(path: Path, rows_searched: int) -> LandedFileError:
    return LandedFileError(
        path,
        f"not a holdings file: no header row with Name, Ticker, Weight… found in the first "
        f"{min(rows_searched, MAX_HEADER_SEARCH_ROWS)} rows. Land the issuer's holdings download as it is "
        "(iShares <TICKER>_holdings.csv, SPDR holdings-daily-us-en-<ticker>.xlsx), or a five-column "
        f"composition file ({','.join(LANDING_COLUMNS)})",
    )


def _columns_of(header: Sequence[str]) -> dict[str, int]:
    cells = [normal_cell(c) for c in header]
    found = {}
    for name, aliases in COLUMN_NAMES.items():
        for alias in aliases:
            if alias in cells:
                found[name] = cells.index(alias)
                break
    return found


def _is_footer(row: Sequence[str], width: int) -> bool:
    """The end of the holdings: a blank row, or a row of one text cell (a disclaimer) in a wide table."""
    filled = [c for c in row if str(c or "").strip()]
    return not filled or (width > 2 and len(filled) == 1)


def _preamble(rows: list[list[str]]) -> tuple[dict[str, str], str | None]:
    """The key/value rows above the header (keys normalised), and the fund's name: the preamble's
    `Fund Name:` row, else its first single-cell row."""
    preamble: dict[str, str] = {}
    fund_name = None
    for row in rows:
        filled = [str(c).strip() for c in row if str(c or "").strip()]
        if len(filled) == 1 and fund_name is None and not filled[0].endswith(":"):
            fund_name = filled[0]
        elif len(filled) >= 2:
            preamble[normal_cell(filled[0])] = filled[1]
    return preamble, preamble.get("fund name", fund_name)


def _preamble_facts(
    preamble: dict[str, str], name_ticker: str | None, problems: list[str]
) -> tuple[str | None, date | None, float | None]:
    """The fund's ticker, as-of date and shares outstanding; what is missing or unreadable goes to `problems`."""
    ticker = preamble.get("ticker symbol") or preamble.get("ticker") or name_ticker
    as_of_text = next(
        (preamble[k] for k in ("fund holdings as of", "holdings", "as of", "date", "as of date") if k in preamble), None
    )
    as_of = parse_as_of(as_of_text) if as_of_text else None
    if as_of is None:
        problems.append(
            "no as-of date in the preamble (a row such as 'Fund Holdings as of,\"Sep 04, 2026\"', "
            "'Holdings: As of 30-Apr-2024' or 'Date: 4/30/2024')"
            + (f": {as_of_text!r} is not a date" if as_of_text else "")
        )
    shares_outstanding = None
    if "shares outstanding" in preamble:
        try:
            shares_outstanding = parse_number(preamble["shares outstanding"])
        except ValueError:
            problems.append(f"Shares Outstanding {preamble['shares outstanding']!r} is not a number")
    if not ticker:
        problems.append(
            "cannot tell the fund's ticker: no 'Ticker Symbol:' row, and the file name is not "
            "<TICKER>_holdings.csv or holdings-daily-us-en-<ticker>.xlsx"
        )
    return ticker, as_of, shares_outstanding


def _holdings_lines(
    header: list[str], rows: list[list[str]], where: list[str], problems: list[str]
) -> list[dict[str, str]]:
    """The data lines below the header up to the footer, each field as text plus `where`."""
    columns = _columns_of(header)
    lines = []
    width = len([c for c in header if str(c or "").strip()])
    for row, place in zip(rows, where):
        if _is_footer(row, width):
            break
        if len(row) > len(header) and any(str(c or "").strip() for c in row[len(header) :]):
            problems.append(f"{place}: {len(row)} fields, the header has {len(header)}: a field is split or shifted")
            continue
        padded = list(row) + [""] * (len(header) - len(row))
        line = {name: str(padded[i] if padded[i] is not None else "").strip() for name, i in columns.items()}
        line["where"] = place
        lines.append(line)
    return lines


def _read_table(
    path: Path, issuer: str, rows: list[list[str]], where: list[str], name_ticker: str | None
) -> HoldingsFile:
    header_at = _header_index(rows)
    if header_at is None:
        raise _no_header(path, len(rows))
    header = rows[header_at]
    preamble, fund_name = _preamble(rows[:header_at])
    problems: list[str] = []
    ticker, as_of, shares_outstanding = _preamble_facts(preamble, name_ticker, problems)
    lines = _holdings_lines(header, rows[header_at + 1 :], where[header_at + 1 :], problems)
    if problems:
        raise LandedFileError(path, problems)
    return HoldingsFile(
        path=path,
        issuer=issuer,
        fund_ticker=ticker.strip() if ticker else None,
        fund_name=fund_name,
        as_of=as_of,
        shares_outstanding=shares_outstanding,
        lines=lines,
        columns=[str(c) for c in header],
    )


def read_ishares_holdings(path: Path) -> HoldingsFile:
    """An iShares holdings CSV as the issuer publishes it (see the module docstring)."""
    path = Path(path)
    require_nonempty(path, "land the holdings file as downloaded from the issuer")
    content = path.read_bytes()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older downloads are Windows-1252; the reader keeps them readable rather than refusing.
        text = content.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, where = [], []
    try:
        for row in reader:
            rows.append(row)
            where.append(f"line {reader.line_num}")
    except csv.Error as error:
        raise LandedFileError(path, f"line {reader.line_num}: not readable as CSV ({error})") from error
    match = _ISHARES_NAME.match(path.name)
    return _read_table(path, ISHARES, rows, where, match.group("ticker").strip() if match else None)


def read_spdr_holdings(path: Path) -> HoldingsFile:
    """A SPDR (State Street) daily holdings XLSX as published (see the module docstring); every
    sheet is searched for the header row, the first one that has it is read."""
    path = Path(path)
    require_nonempty(path, "land the holdings workbook as downloaded from the issuer")
    sheets = workbook_rows(path)
    match = _SPDR_NAME.match(path.name)
    name_ticker = match.group("ticker").upper() if match else None
    searched = 0
    for sheet in sheets:
        rows = cell_texts(sheet)
        searched = max(searched, len(rows))
        if _header_index(rows) is not None:
            return _read_table(path, SPDR, rows, [f"row {i + 1}" for i in range(len(rows))], name_ticker)
    raise _no_header(path, searched)


def holdings_format(path: Path) -> str | None:
    """ISHARES or SPDR for an issuer holdings file, None for anything else (a five-column composition
    file, the ticker map). Any .xlsx counts as SPDR (reading it says whether it is a holdings file)."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".xlsx"):
        return SPDR
    if not name.endswith(".csv") or name == TICKER_MAP_FILE:
        return None
    if _ISHARES_NAME.match(path.name):
        return ISHARES
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            head = [next(csv.reader([line]), []) for _, line in zip(range(MAX_HEADER_SEARCH_ROWS), handle)]
    except OSError:
        return None
    if head and [normal_cell(c) for c in head[0]] == LANDING_COLUMNS:
        return None
    return ISHARES if _header_index(head) is not None else None


def holdings_files(directory: Path) -> list[Path]:
    """The issuer holdings files of a compositions folder, by name."""
    return [p for p in landed_files(directory, (".csv", ".xlsx")) if holdings_format(p) is not None]


def read_holdings_file(path: Path) -> HoldingsFile:
    issuer = holdings_format(path)
    if issuer == SPDR:
        return read_spdr_holdings(path)
    if issuer == ISHARES:
        return read_ishares_holdings(path)
    raise _no_header(Path(path), MAX_HEADER_SEARCH_ROWS)


def read_ticker_map(path: Path) -> dict[str, str]:
    """compositions/ticker_map.csv (issuer_ticker,symbol) as a dict; {} when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.PolarsError as error:
        raise LandedFileError(path, f"not a readable CSV file: {error}") from error
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})
    if sorted(frame.columns) != ["issuer_ticker", "symbol"]:
        raise LandedFileError(path, f"columns {frame.columns}: expected exactly issuer_ticker,symbol")
    frame = frame.with_columns(pl.all().str.strip_chars()).with_row_index("line", offset=2)
    problems = [
        f"line {line}: empty issuer_ticker or symbol"
        for line, ticker, symbol in frame.select("line", "issuer_ticker", "symbol").iter_rows()
        if not ticker or not symbol
    ]
    doubled = frame.filter(pl.len().over("issuer_ticker") > 1).group_by("issuer_ticker").agg("line")
    problems += [f"lines {lines}: issuer ticker {t!r} mapped more than once" for t, lines in doubled.iter_rows()]
    if problems:
        raise LandedFileError(path, problems)
    return dict(frame.select("issuer_ticker", "symbol").iter_rows())
