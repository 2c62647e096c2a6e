"""Builders of landed files in the exact shapes desks, OMS exports and ETF issuers produce them:
trade files (Parquet, CSV with a BOM, CRLF and quoted thousands, CSV.gz), instrument master
files, iShares holdings CSVs (preamble, `-` for empty, disclaimer footer) and SPDR holdings XLSX
workbooks (two preamble styles, numbers stored as text), written with openpyxl."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl

from pipeline.pivot.landed.trade_files import BASE_TRADE_COLUMNS
from pipeline.pivot.trade_generation import generate_trades
from pipeline.settings import DEFAULT_SEED

ISHARES_HEADER = [
    "Ticker",
    "Name",
    "Sector",
    "Asset Class",
    "Market Value",
    "Weight (%)",
    "Notional Value",
    "Quantity",
    "Price",
    "Location",
    "Exchange",
    "Currency",
    "FX Rate",
    "Market Currency",
    "Accrual Date",
]
ISHARES_DISCLAIMER = (
    "The content contained herein is owned or licensed by BlackRock and/or its third-party information "
    "providers and is protected by applicable copyrights, trademarks, service marks, and/or other intellectual "
    "property rights. Holdings are subject to change."
)
SPDR_HEADER = ["Name", "Ticker", "Identifier", "SEDOL", "Weight", "Sector", "Shares Held", "Local Currency"]
SPDR_FOOTER = [
    "Past performance is not a guarantee of future results. Investment return and principal value will fluctuate.",
    "Holdings are subject to change. This information should not be considered a recommendation to buy or sell.",
]


def base_trades(day: date, trades: int, instruments: pl.DataFrame, seed: int = DEFAULT_SEED) -> pl.DataFrame:
    """Synthetic trades of `day` in the base layout a desk lands (no instrument-determined columns)."""
    return generate_trades(day, trades, instruments, seed).select(BASE_TRADE_COLUMNS)


def _cell(value, thousands: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}" if thousands else repr(value)
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def trades_csv_text(frame: pl.DataFrame, *, thousands: bool = False, crlf: bool = True, bom: bool = True) -> str:
    """The frame as an OMS export writes it: a header row, ISO dates, timestamps with Z, numbers
    (optionally quoted with thousands separators, "1,234.5000"), CRLF line ends and a UTF-8 BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow([_cell(v, thousands) for v in row])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def write_trades_csv(path: Path, frame: pl.DataFrame, **options) -> Path:
    text = trades_csv_text(frame, **options)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(text.encode("utf-8"))
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def write_csv_rows(path: Path, rows: Sequence[Sequence], *, crlf: bool = True, bom: bool = True) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    path.write_bytes((("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8"))
    return path


def truncate(source: Path, target: Path, keep: float = 0.6) -> Path:
    """A copy of `source` cut short, as a failed or unfinished copy leaves it."""
    content = source.read_bytes()
    target.write_bytes(content[: int(len(content) * keep)])
    return target


def write_ishares_csv(
    path: Path,
    lines: Sequence[Sequence[str]],
    *,
    fund_name: str = "iShares Core S&P 500 ETF",
    as_of: str = "Sep 04, 2026",
    shares_outstanding: str | None = "272,100,000.00",
    header: Sequence[str] = ISHARES_HEADER,
) -> Path:
    """An iShares holdings download: fund name, `Fund Holdings as of`, optional inception date and
    shares outstanding, the asset-mix lines, a blank line (a non-breaking space, as iShares writes
    it), the header, every value quoted, a blank line, then the disclaimer. UTF-8 BOM, CRLF."""

    def quoted(cells: Sequence[str]) -> str:
        return ",".join('"' + str(c).replace('"', '""') + '"' for c in cells)

    preamble = [("Fund Holdings as of", as_of), ("Inception Date", "May 15, 2000")]
    if shares_outstanding is not None:
        preamble.append(("Shares Outstanding", shares_outstanding))
    preamble += [("Stock", "-"), ("Bond", "-"), ("Cash", "-"), ("Other", "-")]
    # As downloaded: keys and the header unquoted, every value quoted, blank lines holding a
    # non-breaking space, the disclaimer one quoted cell.
    text_lines = [fund_name, *[f"{key},{quoted([value])}" for key, value in preamble], "\xa0", ",".join(header)]
    text_lines += [quoted(line) for line in lines]
    text_lines += ["\xa0", quoted([ISHARES_DISCLAIMER])]
    path.write_bytes(("\ufeff" + "\r\n".join(text_lines) + "\r\n").encode("utf-8"))
    return path


def write_spdr_xlsx(
    path: Path,
    lines: Sequence[Sequence],
    *,
    style: str = "ticker",
    fund_name: str = "SPDR S&P 500 ETF Trust",
    ticker: str = "SPY",
    as_of: str = "30-Apr-2024",
    header: Sequence[str] = SPDR_HEADER,
) -> Path:
    """A SPDR daily holdings workbook. `style="ticker"`: Fund Name: / Ticker Symbol: / Holdings:
    As of <date>; `style="ssga"`: State Street Global Advisors / blank / Fund Name: / Date: <date>.
    Then a blank row, the header, the lines (cells as given: text keeps numbers stored as text),
    a blank row and the footer."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "holdings"
    if style == "ticker":
        preamble = [["Fund Name:", fund_name], ["Ticker Symbol:", ticker], ["Holdings:", f"As of {as_of}"]]
    else:
        preamble = [["State Street Global Advisors"], [], ["Fund Name:", fund_name], ["Date:", as_of]]
    for row in [*preamble, [], list(header), *[list(line) for line in lines], [], *[[text] for text in SPDR_FOOTER]]:
        sheet.append(row)
    workbook.save(path)
    return path
