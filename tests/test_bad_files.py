"""Bad real files (issue "Bad real files"): every value is read exactly or refused with file, line,
column and what to do; nothing in a landed folder is skipped without a word; a file still being
written is never read. Pure readers, no store: the run-level outcomes are in test_real_books.py."""

import os
import time
from datetime import UTC, date, datetime

import openpyxl
import polars as pl
import pytest

from pipeline.landed_files.folders import LandedFileError, folder_settings
from pipeline.landed_files.values import NumberFormat, parse_number
from pipeline.pivot.fx import InvalidFxFileError, build_fx_rates
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landed.trade_checks import UsdBound, check_trade_file, read_trade_file
from pipeline.pivot.landed.trades import NoLandedTradesError, open_trade_folder
from pipeline.pivot.reference import require_ready_reference_folders
from pipeline.settings import DEFAULT_SEED
from tests.landed_files import base_trades, write_csv_rows, write_trades_csv

DAY = date(2024, 1, 16)


@pytest.fixture(scope="module")
def instruments():
    return build_instruments(DEFAULT_SEED)


@pytest.fixture(scope="module")
def trades(instruments):
    # Without the optional notional column: a test that edits a quantity or a price keeps the row
    # consistent (a given notional must equal quantity × price).
    return base_trades(DAY, 40, instruments).drop("notional")


@pytest.fixture
def folder(tmp_path):
    directory = tmp_path / "trades"
    directory.mkdir()
    return directory


def _refusal(path, **options) -> str:
    with pytest.raises(LandedFileError) as caught:
        check_trade_file(path, **options)
    return str(caught.value)


def _with_cell(trades: pl.DataFrame, column: str, value: str, row: int = 1) -> list[list[str]]:
    """The trades as text rows with one cell (data row `row`, from 0) replaced, as a person edits it."""
    rows = [trades.columns]
    for values in trades.iter_rows():
        rows.append(
            [
                v.isoformat(timespec="milliseconds").replace("+00:00", "Z") if hasattr(v, "hour") else str(v)
                for v in values
            ]
        )
    rows[row + 1][trades.columns.index(column)] = value
    return rows


@pytest.mark.parametrize("text", ["182,81", "1.250,00", "1.250.000", "1,25"])
def test_a_number_in_another_locale_is_refused_as_ambiguous_with_the_fix(folder, trades, text):
    path = write_csv_rows(folder / "t.csv", _with_cell(trades, "price", text))
    message = _refusal(path)
    assert "t.csv: line 3" in message and repr(text) in message
    assert "price is an ambiguous number" in message and "export with a decimal point" in message


@pytest.mark.parametrize(
    ("text", "named"),
    [("$182.81", "currency symbol ('$')"), ("1 250.00", "a space inside the number"), ("0.5%", "a percent sign")],
)
def test_currency_symbols_spaces_and_percents_in_numbers_are_refused_by_name(folder, trades, text, named):
    path = write_csv_rows(folder / "t.csv", _with_cell(trades, "price", text))
    assert named in _refusal(path)


def test_thousands_separators_in_groups_of_three_read_exactly(folder, trades):
    path = write_csv_rows(folder / "t.csv", _with_cell(trades, "quantity", "1,250,000.25"))
    assert read_trade_file(path)["quantity"][1] == 1_250_000.25


def _european(value) -> str:
    """A value as a European export writes it: decimal comma, '.' grouping thousands."""
    if isinstance(value, float):
        whole, _, fraction = repr(abs(value)).partition(".")
        grouped = f"{int(whole):,}".replace(",", ".")
        return ("-" if value < 0 else "") + grouped + ("," + fraction if fraction else "")
    return value.isoformat(timespec="milliseconds") if hasattr(value, "hour") else str(value)


def test_a_folder_that_declares_its_locale_is_read_that_way(folder, trades):
    (folder / "_format.toml").write_text('decimal = ","\nthousands = "."\ndelimiter = ";"\nencoding = "cp1252"\n')
    plain = trades.with_columns(pl.col(pl.Float64).round(6), desk=pl.lit("Crédit"))
    rows = [";".join(plain.columns)] + [";".join(_european(v) for v in row) for row in plain.iter_rows()]
    path = folder / "t.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    read = read_trade_file(path)
    assert read["price"].to_list() == plain["price"].to_list()
    assert read["quantity"].to_list() == plain["quantity"].to_list()
    assert read["desk"].cast(pl.String).unique().to_list() == ["Crédit"]
    # The same file without the settings is refused, never guessed.
    (folder / "_format.toml").unlink()
    assert "_format.toml" in _refusal(path)


def test_a_settings_file_that_says_something_it_cannot_mean_is_refused(folder):
    (folder / "_format.toml").write_text('decimal = ","\nthousands = ","\ndelimeter = ";"\n')
    with pytest.raises(LandedFileError) as caught:
        folder_settings(folder)
    assert "did you mean 'delimiter'" in str(caught.value) and "not the decimal mark" in str(caught.value)


def test_parse_number_agrees_with_the_column_grammar():
    assert parse_number("1,250,000.00") == 1_250_000.0
    assert parse_number("1.250,00", NumberFormat(",", ".")) == 1250.0
    assert parse_number("0.45%", percent=True) == pytest.approx(0.0045, rel=0, abs=1e-18)
    for text in ("182,81", "1.250.000", "€5", "nan", "12 000"):
        with pytest.raises(ValueError):
            parse_number(text)


def test_an_overflowing_quantity_is_refused_not_loaded_as_infinity(folder, trades):
    path = write_csv_rows(folder / "t.csv", _with_cell(trades, "quantity", "1e308"))
    assert "quantity × price is not a finite number" in _refusal(path)


def test_a_notional_beyond_the_usd_bound_is_refused_naming_the_line(folder, trades, instruments):
    path = write_csv_rows(folder / "t.csv", _with_cell(trades, "quantity", "1e300"))
    symbol = trades["symbol"][1]
    currency = instruments.filter(pl.col("symbol") == symbol)["currency"][0]
    rates = pl.DataFrame(
        {"rate_date": [DAY], "currency": [currency], "rate_to_usd": [1.0]},
        schema={"rate_date": pl.Date, "currency": pl.String, "rate_to_usd": pl.Float64},
    )
    message = _refusal(path, instruments=instruments, usd_bound=UsdBound(rates, 1e11))
    assert "line 3" in message and symbol in message and "PIVOT_MAX_TRADE_NOTIONAL_USD" in message


def test_zero_quantities_wrong_notionals_and_far_timestamps_are_refused(folder, trades):
    zero = write_csv_rows(folder / "zero.csv", _with_cell(trades, "quantity", "0"))
    assert "quantity is 0" in _refusal(zero)
    given = trades.with_columns(notional=-pl.col("quantity") * pl.col("price"))
    wrong = write_trades_csv(folder / "notional.csv", given)
    assert "notional disagrees with quantity × price" in _refusal(wrong)
    far = trades.with_columns(ts=pl.col("ts").dt.offset_by("-400d"))
    late = write_trades_csv(folder / "far.csv", far)
    assert "ts is more than a day away" in _refusal(late)
    # A session that opened the evening before (UTC) stays valid.
    evening = trades.with_columns(ts=pl.col("ts").dt.offset_by("-20h"))
    assert check_trade_file(write_trades_csv(folder / "evening.csv", evening)).rows == trades.height


def test_parquet_dates_as_yyyymmdd_integers_are_read_and_floats_refused_by_column(folder, trades):
    as_int = trades.with_columns(trade_date=pl.col("trade_date").dt.strftime("%Y%m%d").cast(pl.Int64))
    as_int.write_parquet(folder / "int.parquet")
    assert read_trade_file(folder / "int.parquet")["trade_date"].unique().to_list() == [DAY]
    as_float = trades.with_columns(trade_date=pl.lit(20240116.0))
    as_float.write_parquet(folder / "float.parquet")
    message = _refusal(folder / "float.parquet")
    assert "column 'trade_date' is stored as Float64" in message and "yyyymmdd" in message


def test_zoned_parquet_timestamps_are_converted_to_utc(folder, trades):
    zoned = trades.with_columns(ts=pl.col("ts").dt.convert_time_zone("America/New_York"))
    zoned.write_parquet(folder / "z.parquet")
    assert read_trade_file(folder / "z.parquet")["ts"].to_list() == trades["ts"].to_list()


def test_a_csv_cut_inside_a_number_is_refused_as_possibly_still_being_written(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades)
    content = path.read_bytes()
    path.write_bytes(content[: content.rindex(b"\r\n") - 3])
    assert "has no line end: the file may still be being written or was cut short" in _refusal(path)


def test_an_oms_xlsx_export_loads_exactly_the_trades_it_holds(folder, trades):
    # A spreadsheet keeps 15-16 significant digits: the trades as an OMS holds them, to the millionth.
    trades = trades.with_columns(pl.col(pl.Float64).round(6))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    ids = ("trade_id", "order_id")

    def cell(column, value):
        # Ids of 18 digits as text, as an OMS writes them: a spreadsheet number keeps 15 digits.
        return str(value) if column in ids else value.replace(tzinfo=None) if isinstance(value, datetime) else value

    sheet.append(trades.columns)
    for values in trades.iter_rows():
        sheet.append([cell(c, v) for c, v in zip(trades.columns, values)])
    workbook.save(folder / "oms_2024-01-16.xlsx")
    read = read_trade_file(folder / "oms_2024-01-16.xlsx")
    same = read.select(trades.columns).drop("ts")
    differing = [c for c in same.columns if not same[c].equals(trades[c].cast(same.schema[c]))]
    assert differing == []
    assert read["ts"].to_list() == trades["ts"].to_list()
    # The same ids as spreadsheet numbers were rounded by the spreadsheet: refused, never loaded.
    for row in sheet.iter_rows(min_row=2):
        row[trades.columns.index("trade_id")].value = int(row[trades.columns.index("trade_id")].value)
    workbook.save(folder / "oms_2024-01-16.xlsx")
    message = _refusal(folder / "oms_2024-01-16.xlsx")
    assert "trade_id" in message and "15 significant digits" in message and "as text" in message


def test_trailing_commas_and_blank_lines_are_accepted_and_a_total_footer_is_refused(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    padded = [line + ",,," for line in lines] + [",,," + "," * (len(trades.columns) - 1), "", ""]
    path.write_text("\r\n".join(padded) + "\r\n", encoding="utf-8")
    assert read_trade_file(path).height == trades.height
    footer = lines + ["Total" + "," * (len(trades.columns) - 1)]
    path.write_text("\r\n".join(footer) + "\r\n", encoding="utf-8")
    assert f"line {len(lines) + 1}: 'Total' looks like a footer" in _refusal(path)


def test_a_byte_not_in_the_encoding_is_named_with_its_line_and_the_fix(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades, bom=False)
    content = path.read_bytes().split(b"\r\n")
    content[5] = content[5] + b"\xe9"
    path.write_bytes(b"\r\n".join(content))
    message = _refusal(path)
    assert "line 6: byte" in message and "not UTF-8" in message and 'encoding = "cp1252"' in message


def test_a_semicolon_file_is_named_as_such(folder, trades):
    path = folder / "t.csv"
    path.write_text(";".join(trades.columns) + "\n" + ";".join("1" for _ in trades.columns) + "\n")
    assert "this file uses ';' as its delimiter" in _refusal(path)


def test_a_lower_case_symbol_gets_a_case_hint(folder, trades, instruments):
    lowered = trades.with_columns(symbol=pl.col("symbol").str.to_lowercase())
    path = write_trades_csv(folder / "t.csv", lowered.head(1))
    symbol = trades["symbol"][0]
    assert f"did you mean {symbol}?" in _refusal(path, instruments=instruments)


def test_files_the_load_would_not_read_are_named_unless_ignored(folder, trades):
    write_trades_csv(folder / "trades_2024-01-16.csv", trades)
    (folder / "trades_2024-01-17.tsv").write_text("a\tb\n")
    (folder / "old").mkdir()
    write_trades_csv(folder / "old" / "trades_2024-01-12.csv", trades)
    (folder / "copy.csv.part").write_text("trade_date\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # an OS's, never data: not listed
    with pytest.raises(LandedFileError) as caught:
        open_trade_folder(folder)
    message = str(caught.value)
    assert "3 file(s)" in message
    assert "trades_2024-01-17.tsv (not one of" in message and "old/trades_2024-01-12.csv (a sub-folder" in message
    assert "copy.csv.part (a temporary name" in message and "ignore = [...]" in message
    (folder / "_format.toml").write_text('ignore = ["*.tsv", "old/*", "*.part"]\n')
    assert open_trade_folder(folder).dates == {folder / "trades_2024-01-16.csv": frozenset({DAY})}


def test_a_missing_folder_is_named_as_missing(tmp_path):
    with pytest.raises(NoLandedTradesError) as caught:
        open_trade_folder(tmp_path / "nowhere")
    assert "does not exist" in str(caught.value)


def test_an_unreadable_file_blocks_only_the_date_its_name_says(folder, trades):
    write_trades_csv(folder / "trades_2024-01-16.csv", trades)
    (folder / "trades_2024-01-17.csv").write_bytes(b"\xff\xfegarbage")
    opened = open_trade_folder(folder)
    assert opened.blocking(DAY) is None and opened.holds(DAY)
    assert "trades_2024-01-17.csv" in str(opened.blocking(date(2024, 1, 17)))
    (folder / "broken.csv").write_bytes(b"\xff\xfegarbage")
    opened = open_trade_folder(folder)
    assert "its name carries no date" in str(opened.blocking(DAY))


def test_a_file_changed_within_the_settle_window_is_refused_until_it_settles(folder, trades):
    path = write_trades_csv(folder / "trades_2024-01-16.csv", trades)
    opened = open_trade_folder(folder, settle_seconds=10)
    assert "within the 10 s settle window" in str(opened.blocking(DAY))
    old = time.time() - 60
    os.utime(path, (old, old))
    opened = open_trade_folder(folder, settle_seconds=10)
    assert opened.blocking(DAY) is None
    with path.open("ab") as handle:
        handle.write(b"more")
    with pytest.raises(LandedFileError) as caught:
        opened.require_unchanged([path])
    assert "changed while it was being read" in str(caught.value)


def test_timestamps_in_utc_are_kept_to_the_millisecond(folder, trades):
    path = write_trades_csv(folder / "t.csv", trades.head(1))
    assert read_trade_file(path)["ts"][0] == trades["ts"][0].astimezone(UTC)


def test_reference_folders_name_every_file_they_would_not_read_and_every_unsettled_file(tmp_path):
    root = tmp_path / "landing"
    (root / "instruments").mkdir(parents=True)
    (root / "compositions").mkdir()
    (root / "trades").mkdir()
    (root / "instruments" / "master.tsv").write_text("symbol\tname\n")
    (root / "compositions" / "archive").mkdir()
    (root / "compositions" / "archive" / "old.csv").write_text("a\n")
    (root / "notes.txt").write_text("not data\n")
    with pytest.raises(LandedFileError) as caught:
        require_ready_reference_folders(root, settle_seconds=0)
    message = str(caught.value)
    assert "master.tsv (not one of" in message and "archive/old.csv (a sub-folder" in message
    assert "notes.txt" in message and "trades" not in message
    for folder, pattern in [("instruments", "*.tsv"), ("compositions", "archive/*"), (".", "*.txt")]:
        (root / folder / "_format.toml").write_text(f'ignore = ["{pattern}"]\n')
    require_ready_reference_folders(root, settle_seconds=0)
    (root / "instruments" / "master.csv").write_text("symbol\n")
    with pytest.raises(LandedFileError) as caught:
        require_ready_reference_folders(root, settle_seconds=10)
    assert "master.csv: modified" in str(caught.value) and "settle window" in str(caught.value)


def test_an_fx_folder_with_an_unread_file_refuses_the_rates(tmp_path):
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "rates.xlsx").write_bytes(b"PK")
    with pytest.raises(InvalidFxFileError) as caught:
        build_fx_rates(DEFAULT_SEED, DAY, DAY, tmp_path)
    assert "rates.xlsx (not one of .csv, .parquet)" in str(caught.value)


def test_a_pnl_that_overflows_in_usd_is_refused(folder, trades, instruments):
    symbol = trades["symbol"][1]
    currency = instruments.filter(pl.col("symbol") == symbol)["currency"][0]
    path = write_csv_rows(folder / "t.csv", _with_cell(trades, "pnl", "1.7e308"))
    rates = pl.DataFrame(
        {"rate_date": [DAY], "currency": [currency], "rate_to_usd": [1.5]},
        schema={"rate_date": pl.Date, "currency": pl.String, "rate_to_usd": pl.Float64},
    )
    message = _refusal(path, instruments=instruments, usd_bound=UsdBound(rates, 1e11))
    assert "line 3" in message and "P&L not finite in USD" in message
