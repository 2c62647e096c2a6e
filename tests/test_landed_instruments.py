"""Landed instrument master files: read with their defaults, refused by name when wrong, merged into
pivot.instruments with added/changed counts and nothing dropped."""

from datetime import date

import polars as pl
import pytest

from pipeline.landed_files.folders import LandedFileError
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.instruments import INSTRUMENT_COLUMNS, build_instruments
from pipeline.pivot.landed.instruments import (
    INSTRUMENT_SCHEMA,
    composites_without_composition,
    instrument_files,
    merge_instrument_files,
    merge_instruments,
    read_instrument_file,
)
from pipeline.settings import DEFAULT_SEED
from tests.landed_files import truncate, write_csv_rows

HEADER = ["symbol", "name", "asset_class", "instrument_type", "currency", "exchange", "sector", "is_composite"]
IVV = ["IVV", "iShares Core S&P 500 ETF", "Equity", "ETF", "USD", "ARCA", "Broad Market", "1"]
NEWCO = ["NEWCO", "Newco Holdings Inc.", "Equity", "Stock", "USD", "NASDAQ", "Industrials", "0"]


@pytest.fixture(scope="module")
def current():
    return build_instruments(DEFAULT_SEED)


def _refusal(path) -> str:
    with pytest.raises(LandedFileError) as caught:
        read_instrument_file(path)
    return str(caught.value)


def test_a_csv_master_with_bom_and_crlf_reads_with_its_defaults(tmp_path):
    path = write_csv_rows(tmp_path / "master.csv", [HEADER, IVV, NEWCO])

    frame = read_instrument_file(path)

    assert frame.schema == pl.Schema(INSTRUMENT_SCHEMA) and frame.columns == INSTRUMENT_COLUMNS
    ivv, newco = frame.to_dicts()
    assert ivv["product"] == "Exchange Traded Fund" and ivv["country"] == "US" and ivv["underlying_symbol"] == "IVV"
    assert ivv["is_composite"] == 1 and newco["product"] == "Cash Equity" and newco["is_composite"] == 0


def test_a_parquet_master_with_every_column_reads_as_written(tmp_path, current):
    path = tmp_path / "master.parquet"
    current.head(20).write_parquet(path)
    assert read_instrument_file(path).equals(current.head(20).cast(INSTRUMENT_SCHEMA))


def test_merge_adds_new_symbols_updates_changed_ones_and_drops_nothing(tmp_path, current):
    renamed = current.filter(pl.col("symbol") == "AAPL").row(0, named=True)
    apple = [renamed[c] if c != "name" else "Apple Inc. (renamed)" for c in HEADER]
    path = write_csv_rows(tmp_path / "master.csv", [HEADER, IVV, NEWCO, [str(v) for v in apple]])

    merged, report = merge_instruments(current, read_instrument_file(path))

    assert sorted(report.added) == ["IVV", "NEWCO"] and report.changed == {"AAPL": ["name"]}
    assert report.kept == current.height - 1 and report.unchanged == 0
    assert merged.height == current.height + 2, "every current symbol is kept"
    assert merged.filter(pl.col("symbol") == "AAPL")["name"].item() == "Apple Inc. (renamed)"
    assert "2 instrument(s) added (IVV, NEWCO), 1 changed (AAPL (name))" in report.summary()


def test_a_later_file_wins_and_one_report_covers_all(tmp_path, current):
    first = write_csv_rows(tmp_path / "a.csv", [HEADER, NEWCO])
    second = write_csv_rows(tmp_path / "b.csv", [HEADER, [*NEWCO[:6], "Utilities", "0"]])
    (tmp_path / "notes.txt").write_text("not a master file")

    assert instrument_files(tmp_path) == [first, second]
    merged, report = merge_instrument_files(current, instrument_files(tmp_path))

    assert report.added == ["NEWCO"] and merged.filter(pl.col("symbol") == "NEWCO")["sector"].item() == "Utilities"


def test_a_composite_without_a_composition_is_allowed_and_reported(tmp_path, current):
    path = write_csv_rows(tmp_path / "master.csv", [HEADER, IVV])
    merged, _ = merge_instruments(current, read_instrument_file(path))
    constituents = build_constituents(DEFAULT_SEED)

    assert composites_without_composition(merged, constituents) == ["IVV"]
    assert "IVV" in composites_without_composition(merged, constituents, on=date(2024, 1, 15))


def test_an_unknown_column_is_refused_by_name_with_a_suggestion(tmp_path):
    path = write_csv_rows(tmp_path / "m.csv", [[*HEADER, "sectr"], [*NEWCO, "x"]])
    assert "unknown column 'sectr' (did you mean 'sector'?)" in _refusal(path)


def test_a_missing_column_is_refused(tmp_path):
    path = write_csv_rows(tmp_path / "m.csv", [HEADER[:-1], NEWCO[:-1]])
    assert "missing required column(s) is_composite" in _refusal(path)


def test_a_symbol_twice_and_a_bad_flag_are_refused_naming_the_lines(tmp_path):
    path = write_csv_rows(tmp_path / "m.csv", [HEADER, NEWCO, IVV, [*NEWCO[:7], "yes"]])
    message = _refusal(path)
    assert "line 4 ('yes'): is_composite must be 0 or 1" in message
    assert "line 2 and line 4: symbol 'NEWCO' is listed more than once" in message


def test_a_currency_that_is_not_an_iso_4217_code_is_refused_naming_lines_and_fix(tmp_path, current):
    rows = [HEADER, [*NEWCO[:4], "usd", *NEWCO[5:]], ["BHP", "BHP Group", *NEWCO[2:4], "AUS", "ASX", *NEWCO[6:]]]
    message = _refusal(write_csv_rows(tmp_path / "m.csv", rows))
    assert "line 2: currency 'usd' is not an ISO 4217 code as written: write 'USD'" in message
    assert "line 3: currency 'AUS' is not an ISO 4217 currency code" in message
    # Any ISO 4217 code is an instrument's currency, not only those the synthetic rates cover.
    rows[1][4], rows[2][4] = "USD", "AUD"
    read = read_instrument_file(write_csv_rows(tmp_path / "m.csv", rows))
    assert read.filter(pl.col("symbol") == "BHP")["currency"].item() == "AUD"


def test_empty_truncated_and_zero_byte_files_are_refused(tmp_path, current):
    empty = tmp_path / "empty.csv"
    empty.touch()
    assert "the file is empty (0 bytes)" in _refusal(empty)
    whole = tmp_path / "whole.parquet"
    current.write_parquet(whole)
    assert "truncated Parquet file" in _refusal(truncate(whole, tmp_path / "cut.parquet"))
