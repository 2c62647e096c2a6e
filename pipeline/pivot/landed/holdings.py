"""Issuer holdings files (`compositions/`) mapped into a composition period of the constituent map.

Pure: no Dagster, no database. The files are read by pipeline.pivot.landed.holdings_readers (iShares
CSV, SPDR XLSX); their names are importable from here too.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import LandedFileError, listing
from pipeline.pivot.constituents import MAP_OPEN_ENDED_EXPIRY
from pipeline.pivot.landed.holdings_readers import (
    HoldingsFile,
    is_blank,
    normal_cell,
    parse_number,
    read_holdings_file,
)
from pipeline.pivot.landed.instruments import INSTRUMENT_SCHEMA
from pipeline.pivot.landing import CONSTITUENT_SCHEMA
from pipeline.pivot.universe_lists import EXCHANGE_COUNTRY

WEIGHT_SUM_PERCENT_RANGE = (99.0, 101.0)
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


def line_asset_class(line: dict[str, str]) -> str:
    """The asset class a holdings line gives, else the one its name and ticker say (Cash, Money Market,
    Futures), else Equity."""
    given = line.get("asset_class", "")
    if not is_blank(given):
        return given
    name, ticker, sector = normal_cell(line.get("name")), normal_cell(line.get("ticker")), line.get("sector", "")
    if "money market" in name:
        return "Money Market"
    if "future" in name:
        return "Futures"
    if is_blank(sector) and (ticker.startswith("cash") or "cash" in name or "dollar" in name or "currency" in name):
        return "Cash"
    return "Equity"


def _price_lookup(prices: Mapping[str, float] | pl.DataFrame | None) -> dict[str, float]:
    if prices is None:
        return {}
    if isinstance(prices, pl.DataFrame):
        value = "close_price" if "close_price" in prices.columns else prices.columns[1]
        return dict(prices.select("symbol", value).iter_rows())
    return dict(prices)


def _parent_problems(fund_ticker: str | None, parent: str | None, known: dict[str, dict]) -> list[str]:
    """Why the fund cannot be a parent: unknown to pivot.instruments, or not a composite."""
    if parent not in known:
        return [
            f"the fund {fund_ticker!r}"
            + (f" (mapped to {parent!r})" if parent != fund_ticker else "")
            + " is not in pivot.instruments: land an instrument master file in instruments/ with it "
            "(is_composite = 1), or map the issuer's ticker to your symbol in compositions/ticker_map.csv"
        ]
    if int(known[parent]["is_composite"]) != 1:
        return [
            f"the fund {parent!r} is in pivot.instruments but not a composite (is_composite = 0): "
            "set is_composite = 1 in an instrument master file"
        ]
    return []


def _parse_lines(
    holdings: HoldingsFile, ticker_map: dict[str, str], problems: list[str]
) -> tuple[list[dict], float, int]:
    """The lines with a weight, their symbol (mapped) and numbers parsed; the raw weight sum (percent,
    zero-weight lines included) and the count of zero-weight lines left out."""
    parsed: list[dict] = []
    raw_sum, zero_lines = 0.0, 0
    for line in holdings.lines:
        try:
            weight = parse_number(line["weight"]) or 0.0
        except ValueError as why:
            problems.append(f"{line['where']}: weight {line['weight']!r} is {why}")
            continue
        raw_sum += weight
        if weight == 0:
            zero_lines += 1
            continue
        issuer_ticker = line.get("ticker", "")
        if is_blank(issuer_ticker):
            issuer_ticker = next((line[k] for k in ("cusip", "sedol") if not is_blank(line.get(k))), "")
        if not issuer_ticker:
            problems.append(f"{line['where']}: {line.get('name', '')!r} has a weight but no ticker and no identifier")
            continue
        numbers = {}
        for column in ("quantity", "price"):
            try:
                numbers[column] = parse_number(line.get(column))
            except ValueError as why:
                problems.append(f"{line['where']}: {column} {line.get(column)!r} is {why}")
                numbers[column] = None
        parsed.append(dict(line, symbol=ticker_map.get(issuer_ticker, issuer_ticker), weight_pct=weight, **numbers))
    return parsed, raw_sum, zero_lines


def _weight_sum_problem(raw_sum: float) -> str | None:
    low, high = WEIGHT_SUM_PERCENT_RANGE
    if low <= raw_sum <= high:
        return None
    hint = " (they look like fractions; the issuer's files give percent)" if 0.99 <= raw_sum <= 1.01 else ""
    return (
        f"the weights sum to {raw_sum:.4f} %, outside {low:g}-{high:g} %{hint}: the file is incomplete or "
        "not a full holdings list; land the issuer's complete download"
    )


def _merge_lines(parsed: list[dict]) -> dict[str, dict]:
    """Lines with one ticker are one holding (e.g. cash in two accounts): weights and quantities add up."""
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
    return by_symbol


def _constituent_rows(
    holdings: HoldingsFile,
    parent: str,
    by_symbol: dict[str, dict],
    raw_sum: float,
    lookup: dict[str, float],
    problems: list[str],
) -> tuple[list[dict], int, int]:
    """One row per holding with its weight and shares_per_unit, and how many holdings took their shares
    from quantities and how many from prices; a holding without the prices it needs goes to `problems`."""
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
    return rows, used_quantity, used_prices


def _shares_method(used_quantity: int, used_prices: int) -> str:
    if not used_prices:
        return "quantity / shares outstanding"
    if not used_quantity:
        return "weight x parent price / constituent price"
    return f"quantity / shares outstanding ({used_quantity} lines), weight x prices ({used_prices} lines)"


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
    problems = _parent_problems(holdings.fund_ticker, parent, known)
    parsed, raw_sum, zero_lines = _parse_lines(holdings, ticker_map, problems)
    if not problems and (weight_problem := _weight_sum_problem(raw_sum)):
        problems.append(weight_problem)
    if problems:
        raise LandedFileError(path, problems)

    by_symbol = _merge_lines(parsed)
    rows, used_quantity, used_prices = _constituent_rows(
        holdings, parent, by_symbol, raw_sum, _price_lookup(prices), problems
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
    return HoldingsResult(
        path=path,
        issuer=holdings.issuer,
        parent_symbol=parent,
        as_of=holdings.as_of,
        fund_name=holdings.fund_name,
        raw_weight_sum=raw_sum,
        constituents=constituents,
        new_instruments=pl.DataFrame(new_instruments, schema=INSTRUMENT_SCHEMA),
        shares_method=_shares_method(used_quantity, used_prices),
        zero_weight_lines=zero_lines,
        merged_lines=len(parsed) - len(by_symbol),
    )


def _new_instrument(line: dict, asset_class: str, parent_currency: str) -> dict:
    def given(field_name: str) -> str:
        value = line.get(field_name, "")
        return "" if is_blank(value) else value

    exchange = given("exchange")
    country = COUNTRY_BY_LOCATION.get(normal_cell(line.get("location")), "") or EXCHANGE_COUNTRY.get(exchange, "")
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
