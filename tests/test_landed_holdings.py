"""Issuer holdings files as an operator downloads them: an iShares CSV and a SPDR XLSX give the
expected composition and new instruments; bad files are refused saying what to fix."""

from datetime import date

import openpyxl
import polars as pl
import pytest

from pipeline.landed_files.folders import LandedFileError
from pipeline.pivot.constituents import MAP_OPEN_ENDED_EXPIRY, build_constituents
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landed.holdings import read_composition_file
from pipeline.pivot.landed.holdings_readers import (
    ISHARES,
    SPDR,
    holdings_files,
    holdings_format,
    parse_number,
    read_ishares_holdings,
    read_ticker_map,
)
from pipeline.pivot.landed.instruments import INSTRUMENT_SCHEMA, merge_instruments
from pipeline.pivot.landing import CONSTITUENT_SCHEMA, LANDING_COLUMNS, apply_landed_period
from pipeline.settings import DEFAULT_SEED
from tests.landed_files import ISHARES_HEADER, write_csv_rows, write_ishares_csv, write_spdr_xlsx

SHARES_OUTSTANDING = 272_100_000.0
# Ticker, Name, Sector, Asset Class, Market Value, Weight (%), Notional Value, Quantity, Price, Location,
# Exchange, Currency, FX Rate, Market Currency, Accrual Date: as iShares writes them.
ISHARES_LINES = [
    ["AAPL", "APPLE INC", "Information Technology", "Equity", "45,123,456,789.00", "40.00", "45,123,456,789.00",
     "197,000,000.00", "229.05", "United States", "NASDAQ", "USD", "1.00", "USD", "-"],
    ["MSFT", "MICROSOFT CORP", "Information Technology", "Equity", "33,842,592,592.00", "30.00",
     "33,842,592,592.00", "81,600,000.00", "414.74", "United States", "NASDAQ", "USD", "1.00", "USD", "-"],
    ["BRK B", "BERKSHIRE HATHAWAY INC CLASS B", "Financials", "Equity", "16,921,296,296.00", "15.00",
     "16,921,296,296.00", "37,190,000.00", "455.00", "United States", "New York Stock Exchange Inc.", "USD",
     "1.00", "USD", "-"],
    ["NEWCO", "NEWCO HOLDINGS INC", "Industrials", "Equity", "16,357,253,086.00", "14.50", "16,357,253,086.00",
     "1,325,547,250.00", "12.34", "United States", "NASDAQ", "USD", "1.00", "USD", "-"],
    ["XTSLA", "BLK CSH FND TREASURY SL AGENCY", "Cash and/or Derivatives", "Money Market", "338,425,925.00",
     "0.30", "338,425,925.00", "338,425,925.00", "1.00", "United States", "-", "USD", "1.00", "USD", "-"],
    ["USD", "USD CASH", "Cash and/or Derivatives", "Cash", "236,898,148.00", "0.21", "236,898,148.00",
     "236,898,148.00", "100.00", "United States", "-", "USD", "1.00", "USD", "-"],
    ["ESU6", "S&P500 EMINI SEP 26", "Cash and/or Derivatives", "Futures", "0.00", "0.00", "354,750,000.00",
     "1,100.00", "6,450.00", "United States", "Chicago Mercantile Exchange", "USD", "1.00", "USD", "-"],
]  # fmt: skip
ISHARES_WEIGHTS = {"AAPL": 40.0, "MSFT": 30.0, "BRK B": 15.0, "NEWCO": 14.5, "XTSLA": 0.3, "USD": 0.21}
ISHARES_QUANTITIES = {
    "AAPL": 197_000_000.0,
    "MSFT": 81_600_000.0,
    "BRK B": 37_190_000.0,
    "NEWCO": 1_325_547_250.0,
    "XTSLA": 338_425_925.0,
    "USD": 236_898_148.0,
}
IVV = {
    "symbol": "IVV",
    "name": "iShares Core S&P 500 ETF",
    "asset_class": "Equity",
    "instrument_type": "ETF",
    "currency": "USD",
    "exchange": "ARCA",
    "sector": "Broad Market",
    "is_composite": 1,
    "product": "Exchange Traded Fund",
    "country": "US",
    "underlying_symbol": "IVV",
}
# Name, Ticker, Identifier, SEDOL, Weight, Sector, Shares Held, Local Currency; numbers partly stored as text.
SPDR_LINES = [
    ["APPLE INC", "AAPL", "037833100", "2046251", "7.012345", "Information Technology", "176,123,456", "USD"],
    ["MICROSOFT CORP", "MSFT", "594918104", "2588173", 6.5, "Information Technology", 1234.0, "USD"],
    ["NEW SPDR CO", "NSCO", "123456789", "1234567", "86.36", "Industrials", "1,000", "USD"],
    ["US DOLLAR", "CASH_USD", "-", "-", "0.1", "-", "12,345,678", "USD"],
    ["STATE STREET INSTITUTIONAL US GOVERNMENT MONEY MARKET FUND", "-", "857492888", "-", "0.02", "-",
     "5,000,000", "USD"],
    ["S&P 500 EMINI JUN24", "ESM4", "-", "-", "0", "-", "100", "USD"],
]  # fmt: skip
SPDR_WEIGHTS = {"AAPL": 7.012345, "MSFT": 6.5, "NSCO": 86.36, "CASH_USD": 0.1, "857492888": 0.02}
SPDR_PRICES = {"SPY": 500.0, "AAPL": 170.0, "MSFT": 400.0, "NSCO": 20.0, "857492888": 1.0}


@pytest.fixture(scope="module")
def instruments():
    """pivot.instruments with IVV landed through an instrument master file."""
    merged, _ = merge_instruments(build_instruments(DEFAULT_SEED), pl.DataFrame([IVV], schema=INSTRUMENT_SCHEMA))
    return merged


def _refusal(path, instruments, **options) -> str:
    with pytest.raises(LandedFileError) as caught:
        read_composition_file(path, instruments, **options)
    return str(caught.value)


def _as_map(result) -> dict[str, tuple[float, float]]:
    return {
        s: (w, n) for s, w, n in result.constituents.select("constituent_symbol", "weight", "shares_per_unit").rows()
    }


def _assert_map(result, expected: dict[str, tuple[float, float]]) -> None:
    """The constituents with their (weight, shares_per_unit), each number to pytest.approx's tolerance
    (approx takes no tuples inside a mapping on every Python: compare them one by one)."""
    got = _as_map(result)
    assert set(got) == set(expected)
    for symbol, values in expected.items():
        assert got[symbol] == pytest.approx(values), symbol


# --- iShares ----------------------------------------------------------------------------------


def test_an_ishares_csv_gives_the_expected_map_and_new_instruments(tmp_path, instruments):
    path = write_ishares_csv(tmp_path / "IVV_holdings.csv", ISHARES_LINES)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b'Fund Holdings as of,"Sep 04, 2026"' in raw

    result = read_composition_file(path, instruments)

    total = sum(ISHARES_WEIGHTS.values())
    assert result.issuer == ISHARES and result.parent_symbol == "IVV" and result.as_of == date(2026, 9, 4)
    assert result.raw_weight_sum == pytest.approx(100.01)
    assert result.zero_weight_lines == 1, "the futures line with 0.00 weight is left out"
    assert result.shares_method == "quantity / shares outstanding"
    _assert_map(
        result, {s: (w / total, ISHARES_QUANTITIES[s] / SHARES_OUTSTANDING) for s, w in ISHARES_WEIGHTS.items()}
    )
    assert result.constituents.schema == pl.Schema(CONSTITUENT_SCHEMA)
    assert set(result.constituents["effective_date"]) == {date(2026, 9, 4)}
    assert set(result.constituents["expiry_date"]) == {MAP_OPEN_ENDED_EXPIRY}
    assert result.constituents["weight"].sum() == pytest.approx(1.0)

    new = {row["symbol"]: row for row in result.new_instruments.to_dicts()}
    assert sorted(new) == ["BRK B", "NEWCO", "USD", "XTSLA"], "tickers kept as the issuer writes them"
    assert new["NEWCO"] == {
        "symbol": "NEWCO",
        "name": "NEWCO HOLDINGS INC",
        "asset_class": "Equity",
        "instrument_type": "Stock",
        "currency": "USD",
        "exchange": "NASDAQ",
        "sector": "Industrials",
        "is_composite": 0,
        "product": "Cash Equity",
        "country": "US",
        "underlying_symbol": "NEWCO",
    }
    assert new["XTSLA"]["asset_class"] == "Money Market" and new["XTSLA"]["exchange"] == ""
    assert new["USD"]["asset_class"] == "Cash" and new["USD"]["instrument_type"] == "Cash"
    assert new["BRK B"]["country"] == "US", "the location gives the country when the exchange is not a known code"
    assert result.new_instruments.schema == pl.Schema(INSTRUMENT_SCHEMA)
    assert "IVV as of 2026-09-04, 6 constituents" in result.summary()


def test_the_map_applies_as_a_new_period_of_the_constituent_map(tmp_path, instruments):
    result = read_composition_file(write_ishares_csv(tmp_path / "IVV_holdings.csv", ISHARES_LINES), instruments)
    merged = apply_landed_period(build_constituents(DEFAULT_SEED), result.constituents)
    period = merged.filter(pl.col("parent_symbol") == "IVV")
    assert period.height == 6 and set(period["expiry_date"]) == {MAP_OPEN_ENDED_EXPIRY}


def test_a_ticker_map_maps_issuer_tickers_to_your_symbols(tmp_path, instruments):
    map_path = write_csv_rows(tmp_path / "ticker_map.csv", [["issuer_ticker", "symbol"], ["BRK B", "BRK.B"]])
    ticker_map = read_ticker_map(map_path)
    assert ticker_map == {"BRK B": "BRK.B"}
    assert holdings_format(map_path) is None

    result = read_composition_file(
        write_ishares_csv(tmp_path / "IVV_holdings.csv", ISHARES_LINES), instruments, ticker_map=ticker_map
    )

    assert "BRK.B" in _as_map(result) and "BRK B" not in _as_map(result)
    assert "BRK.B" not in result.new_instruments["symbol"].to_list(), "BRK.B is a known instrument"


def test_an_older_ishares_file_with_shares_and_no_shares_outstanding_uses_prices(tmp_path, instruments):
    keep = ["Ticker", "Name", "Sector", "Asset Class", "Market Value", "Weight (%)", "Shares", "Price", "Exchange"]
    indices = [ISHARES_HEADER.index("Quantity" if c == "Shares" else c) for c in keep]
    lines = [[line[i] for i in indices] for line in ISHARES_LINES]
    path = write_ishares_csv(tmp_path / "IVV_holdings.csv", lines, header=keep, shares_outstanding=None)

    result = read_composition_file(path, instruments, prices={"IVV": 550.0})

    total = sum(ISHARES_WEIGHTS.values())
    prices = {line[0]: parse_number(line[8]) for line in ISHARES_LINES}
    assert result.shares_method == "weight x parent price / constituent price"
    _assert_map(result, {s: (w / total, w / total * 550.0 / prices[s]) for s, w in ISHARES_WEIGHTS.items()})
    assert "the prices of the as-of date" in _refusal(path, instruments), "no parent price: refused"


def test_header_and_footer_are_found_by_content_not_position(tmp_path):
    holdings = read_ishares_holdings(write_ishares_csv(tmp_path / "IVV_holdings.csv", ISHARES_LINES))
    assert holdings.fund_name == "iShares Core S&P 500 ETF" and holdings.shares_outstanding == SHARES_OUTSTANDING
    assert len(holdings.lines) == len(ISHARES_LINES), "the disclaimer is not a holding"
    assert holdings.lines[0]["where"] == "line 11"


def test_weights_outside_99_to_101_percent_are_refused(tmp_path, instruments):
    short = [list(line) for line in ISHARES_LINES]
    short[0][5] = "35.00"
    message = _refusal(write_ishares_csv(tmp_path / "IVV_holdings.csv", short), instruments)
    assert "IVV_holdings.csv: the weights sum to 95.0100 %, outside 99-101 %" in message


def test_a_holdings_file_for_an_unknown_parent_is_refused_naming_the_ticker(tmp_path, instruments):
    message = _refusal(write_ishares_csv(tmp_path / "QQQM_holdings.csv", ISHARES_LINES), instruments)
    assert "the fund 'QQQM' is not in pivot.instruments" in message


def test_a_holdings_file_for_a_parent_that_is_not_a_composite_is_refused(tmp_path, instruments):
    message = _refusal(write_ishares_csv(tmp_path / "AAPL_holdings.csv", ISHARES_LINES), instruments)
    assert "'AAPL' is in pivot.instruments but not a composite" in message


def test_a_holdings_file_without_an_as_of_date_is_refused(tmp_path, instruments):
    path = write_ishares_csv(tmp_path / "IVV_holdings.csv", ISHARES_LINES, as_of="soon")
    assert "no as-of date in the preamble" in _refusal(path, instruments)


def test_a_bad_number_is_refused_at_its_line(tmp_path, instruments):
    bad = [list(line) for line in ISHARES_LINES]
    bad[1][5] = "thirty"
    message = _refusal(write_ishares_csv(tmp_path / "IVV_holdings.csv", bad), instruments)
    assert "line 12: weight 'thirty' is not a number" in message


# --- SPDR -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "as_of"),
    [("ticker", "30-Apr-2024"), ("ssga", "4/30/2024"), ("ssga", date(2024, 4, 30))],
    ids=["ticker-symbol-row", "ssga-text-date", "ssga-excel-date"],
)
def test_a_spdr_xlsx_gives_the_expected_map_and_new_instruments(tmp_path, instruments, style, as_of):
    path = write_spdr_xlsx(tmp_path / "holdings-daily-us-en-spy.xlsx", SPDR_LINES, style=style, as_of=as_of)

    result = read_composition_file(path, instruments, prices=SPDR_PRICES)

    total = sum(SPDR_WEIGHTS.values())
    price = {**SPDR_PRICES, "CASH_USD": 1.0}
    assert result.issuer == SPDR and result.parent_symbol == "SPY" and result.as_of == date(2024, 4, 30)
    assert result.raw_weight_sum == pytest.approx(total) and result.zero_weight_lines == 1
    assert result.fund_name == "SPDR S&P 500 ETF Trust"
    _assert_map(result, {s: (w / total, w / total * 500.0 / price[s]) for s, w in SPDR_WEIGHTS.items()})
    new = {row["symbol"]: row for row in result.new_instruments.to_dicts()}
    assert sorted(new) == ["857492888", "CASH_USD", "NSCO"], "a line without a ticker is known by its CUSIP"
    assert new["CASH_USD"]["asset_class"] == "Cash" and new["CASH_USD"]["sector"] == ""
    assert new["857492888"]["asset_class"] == "Money Market"
    assert new["NSCO"]["asset_class"] == "Equity" and new["NSCO"]["sector"] == "Industrials"


def test_an_xlsx_that_is_not_a_holdings_file_is_refused(tmp_path, instruments):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Region", "Sales"])
    for row in range(5):
        workbook.active.append(["EMEA", row])
    path = tmp_path / "holdings-daily-us-en-spy.xlsx"
    workbook.save(path)

    message = _refusal(path, instruments)

    assert "no header row with Name, Ticker, Weight… found in the first 6 rows" in message


def test_a_file_that_is_not_an_xlsx_workbook_is_refused(tmp_path, instruments):
    path = tmp_path / "holdings-daily-us-en-spy.xlsx"
    path.write_text("<html>Session expired</html>")
    assert "not a readable XLSX workbook" in _refusal(path, instruments)


def test_a_missing_constituent_price_is_refused_naming_it(tmp_path, instruments):
    path = write_spdr_xlsx(tmp_path / "holdings-daily-us-en-spy.xlsx", SPDR_LINES)
    message = _refusal(path, instruments, prices={"SPY": 500.0, "AAPL": 170.0, "MSFT": 400.0})
    # The money-market line needs no price: its NAV is held at 1, as a cash line's unit is one of its currency.
    assert "no price for NSCO on 2024-04-30" in message and "857492888" not in message


# --- the compositions folder ------------------------------------------------------------------


def test_issuer_files_are_told_from_five_column_files_by_their_content(tmp_path):
    five = write_csv_rows(
        tmp_path / "pmet_rebalance.csv", [LANDING_COLUMNS, ["PMET", "GOLD", "1", "0.03", "2024-02-01"]]
    )
    ishares = write_ishares_csv(tmp_path / "IVV_holdings.csv", ISHARES_LINES)
    renamed = write_ishares_csv(tmp_path / "downloaded.csv", ISHARES_LINES)
    spdr = write_spdr_xlsx(tmp_path / "holdings-daily-us-en-spy.xlsx", SPDR_LINES)
    write_csv_rows(tmp_path / "ticker_map.csv", [["issuer_ticker", "symbol"]])

    assert holdings_format(five) is None
    assert holdings_format(ishares) == ISHARES and holdings_format(renamed) == ISHARES
    assert holdings_format(spdr) == SPDR
    assert holdings_files(tmp_path) == sorted([ishares, renamed, spdr])
