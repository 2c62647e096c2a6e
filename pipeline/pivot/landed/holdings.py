"""Issuer holdings files (`compositions/`), read as an operator downloads them, into a composition
period of the constituent map.

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

Mapping to the constituent map (`composition_from_holdings`):
- parent = the fund's ticker (the `Ticker Symbol:` row, else the file name); effective date =
  the as-of date. The parent must be a composite in `instruments` (pivot.instruments with any
  landed instrument master applied), else the file is refused naming the ticker.
- Tickers are kept as the issuer writes them (`BRK B`), unless `ticker_map` (issuer ticker ->
  your symbol; the file compositions/ticker_map.csv with columns issuer_ticker,symbol) maps
  them; the map applies to the fund's ticker too. A line without a ticker uses its identifier
  (CUSIP, else SEDOL).
- Every line with a non-zero weight is a constituent: cash, money-market and futures lines too,
  as instruments of their own, so look-through stays whole. Lines with the same ticker are one
  holding (weights and quantities added). Zero-weight lines are left out and counted.
- weight = line weight / sum of weights; the raw sum (percent) is reported, and a file whose raw
  sum lies outside 99-101 % is refused.
- shares_per_unit = line quantity / fund shares outstanding when the file gives both (iShares);
  else weight x parent price / constituent price, the constituent's price from the file's Price
  column, else from `prices`, else 1.0 for a Cash or Money Market line (a unit of currency, a NAV
  held at 1); the parent's price
  from `prices` (both in the same currency, on the as-of date). A missing price refuses the file.
- Constituents unknown to `instruments` are returned as new instrument rows built from the
  file's own columns: name, sector, asset class (SPDR has none: Cash / Money Market / Futures
  are recognised by name, else Equity), exchange, currency (else the parent's), country from the
  location or the exchange.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from pipeline.pivot.constituents import MAP_OPEN_ENDED_EXPIRY
from pipeline.pivot.instruments import EXCHANGE_COUNTRY
from pipeline.pivot.landed.files import LandedFileError, landed_files, listing, require_nonempty
from pipeline.pivot.landed.instruments import INSTRUMENT_SCHEMA
from pipeline.pivot.landing import CONSTITUENT_SCHEMA, LANDING_COLUMNS

ISHARES = "iShares"
SPDR = "SPDR"
TICKER_MAP_FILE = "ticker_map.csv"
# The header row is looked for in this many rows from the top (preambles are a dozen lines).
MAX_HEADER_SEARCH_ROWS = 60
WEIGHT_SUM_PERCENT_RANGE = (99.0, 101.0)
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
# A unit of a cash line is one unit of its currency, and a money-market fund holds its NAV at 1.
UNIT_PRICED_ASSET_CLASSES = ("Cash", "Money Market")

INSTRUMENT_TYPE_BY_ASSET_CLASS = {
    "Equity": "Stock",
    "Futures": "Future",
    "Future": "Future",
    "Cash": "Cash",
    "Money Market": "Money Market",
    "Fixed Income": "Bond",
}
PRODUCT_BY_ASSET_CLASS = {
    "Equity": "Cash Equity",
    "Futures": "Listed Future",
    "Future": "Listed Future",
    "Cash": "Cash",
    "Money Market": "Money Market Fund",
    "Fixed Income": "Bond",
}
COUNTRY_BY_LOCATION = {
    "united states": "US",
    "canada": "CA",
    "united kingdom": "GB",
    "germany": "DE",
    "france": "FR",
    "switzerland": "CH",
    "japan": "JP",
    "hong kong": "HK",
    "netherlands": "NL",
    "ireland": "IE",
}
_DATE_FORMATS = ["%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d %b %Y", "%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]
_ISHARES_NAME = re.compile(r"^(?P<ticker>.+?)_holdings", re.IGNORECASE)
_SPDR_NAME = re.compile(r"^holdings-daily-[a-z]{2}-[a-z]{2}-(?P<ticker>[^.]+)\.xlsx$", re.IGNORECASE)


def _normal(cell) -> str:
    """A cell compared as a column or preamble key: lower case, one space between words (also
    non-breaking ones), no trailing colon."""
    return " ".join(str(cell or "").split()).lower().rstrip(":").strip()


def _blank(cell) -> bool:
    return _normal(cell) in EMPTY_MARKERS


def parse_number(text) -> float | None:
    """A number as issuers write it: '1,234.50', '(12.00)' (negative), '5%', or None for '-' or empty.
    Raises ValueError for anything else."""
    value = " ".join(str(text or "").split())
    if value.lower() in EMPTY_MARKERS:
        return None
    negative = value.startswith("(") and value.endswith(")")
    value = value.strip("()").replace(",", "").removesuffix("%").strip()
    number = float(value)
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


@dataclass
class HoldingsResult:
    """One holdings file as a composition period: the constituent rows (CONSTITUENT_SCHEMA, for
    `landing.apply_landed_period`) and the instruments it adds."""

    path: Path
    issuer: str
    parent_symbol: str
    as_of: date
    fund_name: str | None
    raw_weight_sum: float
    constituents: pl.DataFrame
    new_instruments: pl.DataFrame
    shares_method: str
    zero_weight_lines: int = 0
    merged_lines: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.path.name}: {self.issuer} holdings of {self.parent_symbol} as of {self.as_of}, "
            f"{self.constituents.height} constituents (raw weights sum to {self.raw_weight_sum:.2f} %), "
            f"{self.new_instruments.height} new instrument(s), {self.zero_weight_lines} zero-weight line(s) left out"
        )


def _header_index(rows: Sequence[Sequence[str]]) -> int | None:
    for index, row in enumerate(rows[:MAX_HEADER_SEARCH_ROWS]):
        cells = {_normal(c) for c in row}
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
    cells = [_normal(c) for c in header]
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


def _read_table(
    path: Path, issuer: str, rows: list[list[str]], where: list[str], name_ticker: str | None
) -> HoldingsFile:
    header_at = _header_index(rows)
    if header_at is None:
        raise _no_header(path, len(rows))
    header = rows[header_at]
    columns = _columns_of(header)
    preamble: dict[str, str] = {}
    fund_name = None
    for row in rows[:header_at]:
        filled = [str(c).strip() for c in row if str(c or "").strip()]
        if len(filled) == 1 and fund_name is None and not filled[0].endswith(":"):
            fund_name = filled[0]
        elif len(filled) >= 2:
            preamble[_normal(filled[0])] = filled[1]
    fund_name = preamble.get("fund name", fund_name)
    ticker = preamble.get("ticker symbol") or preamble.get("ticker") or name_ticker
    as_of_text = next(
        (preamble[k] for k in ("fund holdings as of", "holdings", "as of", "date", "as of date") if k in preamble), None
    )
    as_of = parse_as_of(as_of_text) if as_of_text else None
    problems = []
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
    lines = []
    width = len([c for c in header if str(c or "").strip()])
    for row, place in zip(rows[header_at + 1 :], where[header_at + 1 :]):
        if _is_footer(row, width):
            break
        if len(row) > len(header) and any(str(c or "").strip() for c in row[len(header) :]):
            problems.append(f"{place}: {len(row)} fields, the header has {len(header)}: a field is split or shifted")
            continue
        padded = list(row) + [""] * (len(header) - len(row))
        line = {name: str(padded[i] if padded[i] is not None else "").strip() for name, i in columns.items()}
        line["where"] = place
        lines.append(line)
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
    try:
        sheets = pl.read_excel(
            path,
            sheet_id=0,
            engine="calamine",
            has_header=False,
            infer_schema_length=0,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except Exception as error:  # noqa: BLE001 - fastexcel raises its own types; every one is a refusal
        raise LandedFileError(
            path, f"not a readable XLSX workbook ({str(error).splitlines()[0]}): download it again"
        ) from error
    match = _SPDR_NAME.match(path.name)
    name_ticker = match.group("ticker").upper() if match else None
    searched = 0
    for frame in sheets.values():
        rows = [[("" if c is None else c) for c in row] for row in frame.rows()]
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
    if head and [_normal(c) for c in head[0]] == LANDING_COLUMNS:
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


def line_asset_class(line: dict[str, str]) -> str:
    """The asset class a holdings line gives, else the one its name and ticker say (Cash, Money Market,
    Futures), else Equity."""
    given = line.get("asset_class", "")
    if not _blank(given):
        return given
    name, ticker, sector = _normal(line.get("name")), _normal(line.get("ticker")), line.get("sector", "")
    if "money market" in name:
        return "Money Market"
    if "future" in name:
        return "Futures"
    if _blank(sector) and (ticker.startswith("cash") or "cash" in name or "dollar" in name or "currency" in name):
        return "Cash"
    return "Equity"


def _price_lookup(prices: Mapping[str, float] | pl.DataFrame | None) -> dict[str, float]:
    if prices is None:
        return {}
    if isinstance(prices, pl.DataFrame):
        value = "close_price" if "close_price" in prices.columns else prices.columns[1]
        return dict(prices.select("symbol", value).iter_rows())
    return dict(prices)


def composition_from_holdings(
    holdings: HoldingsFile,
    instruments: pl.DataFrame,
    *,
    prices: Mapping[str, float] | pl.DataFrame | None = None,
    ticker_map: Mapping[str, str] | None = None,
) -> HoldingsResult:
    """The composition period a holdings file defines (see the module docstring for every rule).
    Raises LandedFileError naming every problem; nothing of a refused file is applied."""
    path, ticker_map = holdings.path, dict(ticker_map or {})
    known = {row["symbol"]: row for row in instruments.select("symbol", "is_composite", "currency").to_dicts()}
    parent = ticker_map.get(holdings.fund_ticker, holdings.fund_ticker)
    problems = []
    if parent not in known:
        problems.append(
            f"the fund {holdings.fund_ticker!r}"
            + (f" (mapped to {parent!r})" if parent != holdings.fund_ticker else "")
            + " is not in pivot.instruments: land an instrument master file in instruments/ with it "
            "(is_composite = 1), or map the issuer's ticker to your symbol in compositions/ticker_map.csv"
        )
    elif int(known[parent]["is_composite"]) != 1:
        problems.append(
            f"the fund {parent!r} is in pivot.instruments but not a composite (is_composite = 0): "
            "set is_composite = 1 in an instrument master file"
        )
    parsed: list[dict] = []
    raw_sum, zero_lines = 0.0, 0
    for line in holdings.lines:
        try:
            weight = parse_number(line["weight"]) or 0.0
        except ValueError:
            problems.append(f"{line['where']}: weight {line['weight']!r} is not a number")
            continue
        raw_sum += weight
        if weight == 0:
            zero_lines += 1
            continue
        issuer_ticker = line.get("ticker", "")
        if _blank(issuer_ticker):
            issuer_ticker = next((line[k] for k in ("cusip", "sedol") if not _blank(line.get(k))), "")
        if not issuer_ticker:
            problems.append(f"{line['where']}: {line.get('name', '')!r} has a weight but no ticker and no identifier")
            continue
        numbers = {}
        for column in ("quantity", "price"):
            try:
                numbers[column] = parse_number(line.get(column))
            except ValueError:
                problems.append(f"{line['where']}: {column} {line.get(column)!r} is not a number")
                numbers[column] = None
        parsed.append(dict(line, symbol=ticker_map.get(issuer_ticker, issuer_ticker), weight_pct=weight, **numbers))
    low, high = WEIGHT_SUM_PERCENT_RANGE
    if not problems and not low <= raw_sum <= high:
        hint = " (they look like fractions; the issuer's files give percent)" if 0.99 <= raw_sum <= 1.01 else ""
        problems.append(
            f"the weights sum to {raw_sum:.4f} %, outside {low:g}-{high:g} %{hint}: the file is incomplete or "
            "not a full holdings list; land the issuer's complete download"
        )
    if problems:
        raise LandedFileError(path, problems)

    # Lines with one ticker are one holding (e.g. cash in two accounts): weights and quantities add up.
    by_symbol: dict[str, dict] = {}
    for line in parsed:
        held = by_symbol.get(line["symbol"])
        if held is None:
            by_symbol[line["symbol"]] = dict(line)
            continue
        held["weight_pct"] += line["weight_pct"]
        held["quantity"] = (
            held["quantity"] + line["quantity"] if None not in (held["quantity"], line["quantity"]) else None
        )
    merged_lines = len(parsed) - len(by_symbol)

    lookup = _price_lookup(prices)
    shares_outstanding = holdings.shares_outstanding
    rows, used_quantity, used_prices = [], 0, 0
    for symbol, line in by_symbol.items():
        weight = line["weight_pct"] / raw_sum
        asset_class = line_asset_class(line)
        if shares_outstanding and line["quantity"]:
            shares = line["quantity"] / shares_outstanding
            used_quantity += 1
        else:
            price = line["price"] or lookup.get(symbol) or (1.0 if asset_class in UNIT_PRICED_ASSET_CLASSES else None)
            parent_price = lookup.get(parent)
            if not price or not parent_price:
                missing = [s for s, p in ((parent, parent_price), (symbol, price)) if not p]
                problems.append(
                    f"{line['where']}: no price for {listing(missing)} on {holdings.as_of}: shares_per_unit is "
                    "weight x parent price / constituent price when the file gives no quantity and shares "
                    "outstanding; pass the prices of the as-of date"
                )
                continue
            shares = weight * parent_price / price
            used_prices += 1
        rows.append(
            {
                "parent_symbol": parent,
                "constituent_symbol": symbol,
                "weight": weight,
                "shares_per_unit": shares,
                "effective_date": holdings.as_of,
                "expiry_date": MAP_OPEN_ENDED_EXPIRY,
                "asset_class": asset_class,
                "line": line,
            }
        )
    if problems:
        raise LandedFileError(path, problems)

    parent_currency = known[parent]["currency"] or ""
    new_instruments = [
        _new_instrument(r["line"], r["asset_class"], parent_currency) for r in rows if r["line"]["symbol"] not in known
    ]
    constituents = pl.DataFrame([{k: r[k] for k in CONSTITUENT_SCHEMA} for r in rows], schema=CONSTITUENT_SCHEMA).sort(
        "weight", "constituent_symbol", descending=[True, False]
    )
    method = (
        "quantity / shares outstanding"
        if not used_prices
        else "weight x parent price / constituent price"
        if not used_quantity
        else f"quantity / shares outstanding ({used_quantity} lines), weight x prices ({used_prices} lines)"
    )
    return HoldingsResult(
        path=path,
        issuer=holdings.issuer,
        parent_symbol=parent,
        as_of=holdings.as_of,
        fund_name=holdings.fund_name,
        raw_weight_sum=raw_sum,
        constituents=constituents,
        new_instruments=pl.DataFrame(new_instruments, schema=INSTRUMENT_SCHEMA),
        shares_method=method,
        zero_weight_lines=zero_lines,
        merged_lines=merged_lines,
    )


def _new_instrument(line: dict, asset_class: str, parent_currency: str) -> dict:
    def given(field_name: str) -> str:
        value = line.get(field_name, "")
        return "" if _blank(value) else value

    exchange = given("exchange")
    country = COUNTRY_BY_LOCATION.get(_normal(line.get("location")), "") or EXCHANGE_COUNTRY.get(exchange, "")
    return {
        "symbol": line["symbol"],
        "name": given("name") or line["symbol"],
        "asset_class": asset_class,
        "instrument_type": INSTRUMENT_TYPE_BY_ASSET_CLASS.get(asset_class, asset_class),
        "currency": given("currency") or parent_currency,
        "exchange": exchange,
        "sector": given("sector"),
        "is_composite": 0,
        "product": PRODUCT_BY_ASSET_CLASS.get(asset_class, asset_class),
        "country": country,
        "underlying_symbol": line["symbol"],
    }


def read_composition_file(
    path: Path,
    instruments: pl.DataFrame,
    *,
    prices: Mapping[str, float] | pl.DataFrame | None = None,
    ticker_map: Mapping[str, str] | None = None,
) -> HoldingsResult:
    """An issuer holdings file (iShares CSV or SPDR XLSX) as a composition period plus new instruments."""
    return composition_from_holdings(read_holdings_file(Path(path)), instruments, prices=prices, ticker_map=ticker_map)
