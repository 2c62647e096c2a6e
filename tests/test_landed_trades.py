"""Landed trade files: the shapes desks and OMS exports produce load, every bad input is refused
naming the file, the line or row and what to fix; and the folder helpers (digests, files still
being written)."""

import os
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.landed_files.folders import (
    FileState,
    LandedFileError,
    content_digest,
    parquet_is_complete,
    ready_files,
)
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landed.trade_checks import check_trade_file, dates_in_files, read_trade_file
from pipeline.pivot.landed.trade_files import (
    BASE_TRADE_COLUMNS,
    LANDED_TRADE_SCHEMA,
    OPEN_VOCABULARY_COLUMNS,
    REQUIRED_TRADE_COLUMNS,
    trade_files,
)
from pipeline.pivot.landed.trades import (
    LANDED_FACT_SCHEMA,
    NoLandedTradesError,
    landed_trade_day,
    trades_for_date,
    with_instrument_attributes,
)
from pipeline.pivot.trade_generation import generate_trades
from pipeline.settings import DEFAULT_SEED
from tests.landed_files import base_trades, truncate, write_csv_rows, write_trades_csv

DAY = date(2024, 1, 15)
NEXT_DAY = date(2024, 1, 16)


@pytest.fixture(scope="module")
def instruments():
    return build_instruments(DEFAULT_SEED)


@pytest.fixture(scope="module")
def trades(instruments):
    return base_trades(DAY, 600, instruments)


@pytest.fixture
def folder(tmp_path):
    directory = tmp_path / "trades"
    directory.mkdir()
    return directory


def _refusal(path, instruments=None) -> str:
    with pytest.raises(LandedFileError) as caught:
        check_trade_file(path, instruments)
    return str(caught.value)


def _text_rows(frame: pl.DataFrame) -> list[list[str]]:
    """A header and rows of plain text, to edit single cells as a person would in a spreadsheet."""
    rows = [frame.columns]
    for row in frame.iter_rows():
        rows.append(
            [v.isoformat(timespec="milliseconds").replace("+00:00", "Z") if hasattr(v, "hour") else str(v) for v in row]
        )
    return rows


# --- loading ----------------------------------------------------------------------------------


def test_a_parquet_day_loads_in_the_fact_layout_equal_to_its_trades(folder, instruments):
    full = generate_trades(DAY, 2_000, instruments, DEFAULT_SEED)
    path = folder / "trades_2024-01-15.parquet"
    full.select(BASE_TRADE_COLUMNS).write_parquet(path)

    chunks = list(trades_for_date([path], DAY, instruments, chunk_rows=150))

    assert len(chunks) > 1, "the day is read chunk by chunk"
    loaded = pl.concat(chunks)
    assert loaded.schema == pl.Schema(LANDED_FACT_SCHEMA)
    expected = full.with_columns(pl.col(OPEN_VOCABULARY_COLUMNS).cast(pl.String)).select(list(LANDED_FACT_SCHEMA))
    assert loaded.equals(expected), "a landed day equals the generated day it was written from"


def test_a_csv_with_bom_crlf_and_quoted_thousands_reads_like_the_parquet(folder, trades, instruments):
    parquet = folder / "a.parquet"
    trades.write_parquet(parquet)
    csv_path = write_trades_csv(folder / "b.csv", trades, thousands=True, crlf=True, bom=True)
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in csv_path.read_bytes()
    assert b'"1,' in csv_path.read_bytes() or b'"-1,' in csv_path.read_bytes(), "numbers quoted with separators"

    from_csv = read_trade_file(csv_path, instruments)
    from_parquet = read_trade_file(parquet, instruments)

    assert from_csv.schema == pl.Schema(LANDED_TRADE_SCHEMA)
    # The export wrote 4 decimals: equal up to that.
    assert_frame_equal(from_csv, from_parquet, check_exact=False, rel_tol=0, abs_tol=1e-4)


def test_a_gzipped_csv_reads(folder, trades, instruments):
    path = write_trades_csv(folder / "trades.csv.gz", trades, bom=False, crlf=False)
    assert read_trade_file(path, instruments).height == trades.height


def test_optional_columns_take_their_documented_defaults(folder, trades, instruments):
    required_only = trades.head(5).select(REQUIRED_TRADE_COLUMNS)
    path = write_trades_csv(folder / "minimal.csv", required_only)

    loaded = read_trade_file(path, instruments)

    assert loaded.columns == list(LANDED_TRADE_SCHEMA)
    assert loaded["notional"].to_list() == pytest.approx((loaded["quantity"] * loaded["price"]).to_list())
    assert loaded["exposure"].to_list() == loaded["notional"].to_list()
    assert loaded["pnl"].to_list() == [0.0] * 5 and loaded["metric_14"].to_list() == [0.0] * 5
    assert set(loaded["risk_bucket"]) == {"Unclassified"} and set(loaded["scenario"]) == {"Base"}


def test_a_new_desk_book_strategy_and_venue_load(folder, trades, instruments):
    renamed = trades.head(20).with_columns(
        desk=pl.lit("Volatility Arbitrage"),
        book=pl.lit("VA-ALPHA-1"),
        strategy=pl.lit("Dispersion"),
        venue=pl.lit("MEMX"),
        counterparty=pl.lit("Some New Broker LLC"),
    )
    path = write_trades_csv(folder / "trades_2024-01-15.csv", renamed)

    loaded = pl.concat(list(trades_for_date([path], DAY, instruments)))

    assert set(loaded["desk"]) == {"Volatility Arbitrage"} and set(loaded["book"]) == {"VA-ALPHA-1"}
    assert set(loaded["venue"]) == {"MEMX"} and loaded.height == 20


def test_a_date_spanning_two_files_loads_from_both(folder, instruments):
    first = base_trades(DAY, 300, instruments)
    second = base_trades(NEXT_DAY, 300, instruments)
    half = second.height // 2
    a = folder / "morning.parquet"
    pl.concat([first, second.head(half)]).write_parquet(a)
    b = write_trades_csv(folder / "afternoon.csv", second.tail(second.height - half))

    dates = dates_in_files(trade_files(folder))
    assert dates == {b: frozenset({NEXT_DAY}), a: frozenset({DAY, NEXT_DAY})}

    day = landed_trade_day([a, b], NEXT_DAY, instruments, dates)
    assert day.rows == second.height and day.rows_by_file == {a: half, b: second.height - half}
    loaded = pl.concat(list(day.chunks()))
    assert sorted(loaded["trade_id"].to_list()) == sorted(second["trade_id"].to_list())
    assert "afternoon.csv" in day.summary() and "morning.parquet" in day.summary()


def test_a_day_is_read_one_bounded_slice_at_a_time_in_file_order(folder, instruments):
    first, second = base_trades(DAY, 250, instruments), base_trades(NEXT_DAY, 250, instruments)
    mixed = pl.concat([first.head(100), second.head(120), first.slice(100), second.slice(120)])
    mixed.write_parquet(folder / "mixed.parquet")
    write_trades_csv(folder / "mixed.csv", mixed)
    for path in (folder / "mixed.parquet", folder / "mixed.csv"):
        chunks = list(landed_trade_day([path], NEXT_DAY, instruments).chunks(chunk_rows=64))
        assert all(c.height <= 64 for c in chunks) and len(chunks) >= 4
        assert pl.concat(chunks)["trade_id"].to_list() == second["trade_id"].to_list()


def test_a_header_only_file_named_with_its_date_is_a_day_without_trades(folder, trades, instruments):
    path = write_trades_csv(folder / "trades_2024-01-20.csv", trades.clear())

    assert dates_in_files([path]) == {path: frozenset({date(2024, 1, 20)})}
    day = landed_trade_day([path], date(2024, 1, 20), instruments)
    assert day.rows == 0 and list(day.chunks()) == []


def test_a_header_only_file_without_a_date_in_its_name_is_refused(folder, trades):
    path = write_trades_csv(folder / "trades.csv", trades.clear())
    assert "no date in its name" in _refusal(path) and "trades_2024-01-15.csv" in _refusal(path)


def test_a_day_no_file_covers_fails_naming_the_folder_and_date(folder, trades, instruments):
    path = folder / "a.parquet"
    trades.write_parquet(path)
    with pytest.raises(NoLandedTradesError) as caught:
        landed_trade_day([path], NEXT_DAY, instruments)
    assert str(folder) in str(caught.value) and "2024-01-16" in str(caught.value)


def test_instrument_attributes_come_from_the_instruments(trades, instruments):
    exploded_ready = with_instrument_attributes(trades.head(50), instruments)
    expected = (
        trades.head(50)
        .join(instruments.select("symbol", "asset_class", "instrument_type"), on="symbol", how="left")
        .select("asset_class", "instrument_type")
    )
    assert exploded_ready["asset_class"].cast(pl.String).to_list() == expected["asset_class"].to_list()
    assert (exploded_ready["weight"] == 1.0).all() and (exploded_ready["parent_symbol"] == "").all()
    assert (exploded_ready["underlying_symbol"] == exploded_ready["symbol"]).all()


# --- refusals ---------------------------------------------------------------------------------


def test_a_missing_required_column_is_refused(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades.drop("counterparty", "price"))
    message = _refusal(path)
    assert "t.csv" in message and "missing required column(s) counterparty, price" in message


def test_an_unknown_column_is_refused_by_name_with_a_suggestion(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades.rename({"slippage": "slipage"}).with_columns(note=pl.lit("x")))
    message = _refusal(path)
    assert "unknown column 'slipage' (did you mean 'slippage'?)" in message
    assert "unknown column 'note'" in message


def test_columns_the_instrument_determines_are_refused(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades.with_columns(currency=pl.lit("USD")))
    assert "'currency' comes from pivot.instruments" in _refusal(path)


def test_a_value_of_the_wrong_type_is_refused_at_its_line(folder, trades):
    rows = _text_rows(trades.head(10))
    rows[6][rows[0].index("quantity")] = "12 shares"  # line 7 of the file
    rows[3][rows[0].index("ts")] = "yesterday"
    rows[4][rows[0].index("trade_id")] = "-5"
    path = write_csv_rows(folder / "t.csv", rows)

    message = _refusal(path)

    assert "line 7 ('12 shares'): quantity is not a number" in message
    assert "line 4 ('yesterday'): ts is not a timestamp" in message
    assert "line 5 ('-5'): trade_id is not a whole number" in message


@pytest.mark.parametrize("price", ["0", "-3.5", "inf", "NaN"])
def test_a_non_positive_or_non_finite_price_is_refused(folder, trades, price):
    rows = _text_rows(trades.head(5))
    rows[2][rows[0].index("price")] = price
    path = write_csv_rows(folder / "t.csv", rows)
    message = _refusal(path)
    assert "line 3" in message and ("price must be positive" in message or "price is not a finite number" in message)


def test_an_empty_required_value_is_refused(folder, trades):
    rows = _text_rows(trades.head(5))
    rows[5][rows[0].index("symbol")] = ""
    path = write_csv_rows(folder / "t.csv", rows)
    assert "line 6: symbol is empty" in _refusal(path).replace(" (None)", "")


def test_a_region_outside_its_vocabulary_is_refused(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades.head(3).with_columns(region=pl.lit("LATAM")))
    assert "region is not one of AMER, APAC, EMEA" in _refusal(path)


def test_a_trade_id_twice_in_one_file_is_refused_naming_the_lines(folder, trades):
    doubled = pl.concat([trades.head(4), trades.slice(1, 1)])
    path = write_trades_csv(folder / "t.csv", doubled)
    message = _refusal(path)
    assert f"line 3, line 6: trade_id {trades['trade_id'][1]} appears 2 times on 2024-01-15" in message


def test_a_trade_id_in_two_files_of_one_date_is_refused_naming_both(folder, trades, instruments):
    a = folder / "a.parquet"
    trades.head(10).write_parquet(a)
    b = write_trades_csv(folder / "b.csv", trades.slice(9, 5))
    with pytest.raises(LandedFileError) as caught:
        landed_trade_day([a, b], DAY, instruments)
    message = str(caught.value)
    assert f"trade_id {trades['trade_id'][9]} on 2024-01-15 is in a.parquet (row 10) and b.csv (line 2)" in message


def test_symbols_unknown_to_the_instruments_are_refused_with_their_row_counts(folder, trades, instruments):
    renamed = trades.head(6).with_columns(
        symbol=pl.Series(["NOPE", "NOPE", "NOPE", "ZZZ", "AAPL", "AAPL"]),
    )
    path = write_trades_csv(folder / "t.csv", renamed)
    message = _refusal(path, instruments)
    assert "2 symbol(s) unknown to pivot.instruments: NOPE (3 rows), ZZZ (1 row)" in message
    check_trade_file(path)  # without instruments the symbols are not checked


def test_a_truncated_parquet_file_is_refused(folder, trades):
    whole = folder / "whole.parquet"
    trades.write_parquet(whole)
    cut = truncate(whole, folder / "cut.parquet")
    assert parquet_is_complete(whole) and not parquet_is_complete(cut)
    assert "truncated Parquet file" in _refusal(cut)


def test_a_zero_byte_file_is_refused(folder):
    path = folder / "trades_2024-01-15.csv"
    path.touch()
    assert "the file is empty (0 bytes)" in _refusal(path)


def test_a_file_that_is_not_utf8_is_refused(folder, trades):
    path = folder / "t.csv"
    path.write_bytes(",".join(trades.columns).encode("utf-16"))
    assert "not UTF-8 (it looks like UTF-16)" in _refusal(path)


# --- folder helpers ---------------------------------------------------------------------------


def test_a_changed_file_gets_a_new_digest(folder, trades):
    path = folder / "t.parquet"
    trades.head(10).write_parquet(path)
    before = content_digest(path)
    assert content_digest(path) == before
    trades.head(11).write_parquet(path)
    assert content_digest(path) != before


def test_a_file_is_read_only_once_its_size_and_mtime_hold_for_a_tick(folder, trades):
    path = folder / "t.parquet"
    trades.head(10).write_parquet(path)
    (folder / "t2.parquet.part").write_bytes(b"PAR1")
    (folder / ".hidden.csv").write_text("x")

    listed = trade_files(folder)
    assert listed == [path], "temporary and hidden names are never listed"

    ready, waiting, seen = ready_files(listed, {})
    assert ready == [] and "first seen" in waiting["t.parquet"]
    ready, waiting, seen = ready_files(listed, seen)
    assert ready == [path] and waiting == {}

    with path.open("ab") as handle:  # a copy still going on
        handle.write(b"more")
    os.utime(path, ns=(seen["t.parquet"].mtime_ns + 1_000_000, seen["t.parquet"].mtime_ns + 1_000_000))
    ready, waiting, seen = ready_files(listed, seen)
    assert ready == [] and "still being written" in waiting["t.parquet"]
    assert FileState.from_cursor(seen["t.parquet"].to_cursor()) == seen["t.parquet"]
