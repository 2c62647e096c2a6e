"""Proof by fuzzing: whatever lands, every reader either reads exactly what the file holds or refuses it
with a LandedFileError (file, line); never another exception, never a non-finite value."""

import csv
import io
import math
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.landed_files.folders import LandedFileError
from pipeline.landed_files.tables import read_table
from pipeline.landed_files.values import NumberFormat, parse_number
from pipeline.pivot.fx import validate_fx_file
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landed.holdings_readers import read_holdings_file
from pipeline.pivot.landed.instruments import read_instrument_file
from pipeline.pivot.landed.trade_checks import read_trade_file
from pipeline.pivot.landing import validate_landing_file
from pipeline.settings import DEFAULT_SEED
from tests.landed_files import base_trades, trades_csv_text

DAY = date(2024, 1, 16)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
INSTRUMENTS = build_instruments(DEFAULT_SEED)
TRADES = base_trades(DAY, 12, INSTRUMENTS).drop("notional")


def _file(name: str, content: bytes) -> Path:
    path = Path(tempfile.mkdtemp(prefix="fuzz_")) / name
    path.write_bytes(content)
    return path


def _read_or_refuse(read, path: Path):
    """The reader's result, or None when it refused the file with a LandedFileError naming it."""
    try:
        return read(path)
    except LandedFileError as error:
        assert path.name in str(error) or str(path.parent) in str(error)
        return None


def _finite(frame: pl.DataFrame) -> bool:
    floats = frame.select(pl.col(pl.Float64))
    return all(floats[c].is_finite().all() for c in floats.columns)


printable_csv = st.lists(
    st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), min_size=1, max_size=6),
    min_size=1,
    max_size=6,
).map(lambda rows: ("\n".join(",".join(r) for r in rows) + "\n").encode("utf-8"))


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), printable_csv))
def test_any_bytes_are_read_or_refused_by_every_reader(content):
    for name, read in [
        ("trades_2024-01-16.csv", read_trade_file),
        ("master.csv", read_instrument_file),
        ("table.csv", read_table),
        ("IVV_holdings.csv", read_holdings_file),
        ("trades.csv.gz", read_trade_file),
        ("trades.parquet", read_trade_file),
        ("oms.xlsx", read_trade_file),
    ]:
        result = _read_or_refuse(read, _file(name, content))
        if isinstance(result, pl.DataFrame):
            assert _finite(result)
    for name, validate in [
        ("comp.csv", lambda p: validate_landing_file(p, INSTRUMENTS)),
        ("rates.csv", validate_fx_file),
    ]:
        result = validate(_file(name, content))
        assert result.is_valid or result.errors
        if result.frame is not None:
            assert _finite(result.frame)


# What a cell of a number column may hold in a real export: plain, grouped, European, signed,
# exponents, currency signs, spaces, percents, words, blanks, overflow.
number_texts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e12, max_value=1e12).map(lambda x: f"{x:,.4f}"),
    st.floats(min_value=-1e9, max_value=1e9).map(lambda x: f"{x:,.2f}".replace(",", "X").replace(".", ",")),
    st.sampled_from(["", " ", "0", "-0", "1e308", "1e-320", "$1.00", "1 000", "5%", "(3.00)", "N/A", "1.250.000"]),
    st.text(alphabet="0123456789.,-+eE $%", max_size=10),
)


@FUZZ
@given(
    cells=st.lists(
        st.tuples(st.integers(0, len(TRADES) - 1), st.sampled_from(["quantity", "price", "pnl"]), number_texts),
        min_size=1,
        max_size=4,
    )
)
def test_trade_cells_are_read_exactly_as_written_or_the_file_is_refused_at_their_line(cells):
    table = list(csv.reader(io.StringIO(trades_csv_text(TRADES, bom=False, crlf=False))))
    for row, column, text in cells:
        table[row + 1][TRADES.columns.index(column)] = text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    path = _file("trades_2024-01-16.csv", buffer.getvalue().encode("utf-8"))
    try:
        read = read_trade_file(path)
    except LandedFileError as error:
        message = str(error)
        assert path.name in message and ("line " in message or "problems" in message)
        return
    assert _finite(read) and read.height == len(TRADES)
    for row, column, _ in cells:
        text = table[row + 1][TRADES.columns.index(column)]
        if text.strip():
            assert read[column][row] == parse_number(text)


@FUZZ
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_number_round_trips_through_each_written_form(value):
    assert parse_number(repr(value)) == value
    whole, _, fraction = repr(abs(value)).partition(".")
    if "e" not in repr(value):
        grouped = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
        assert parse_number(("-" if math.copysign(1, value) < 0 else "") + grouped) == value
        european = grouped.replace(",", "X").replace(".", ",").replace("X", ".")
        sign = "-" if math.copysign(1, value) < 0 else ""
        assert parse_number(sign + european, NumberFormat(",", ".")) == value


def _as_type(column: str, dtype: pl.DataType) -> pl.Expr:
    """The column stored as another type, as a careless export would (null where it does not convert)."""
    text = pl.col(column).cast(pl.String)
    if dtype == pl.String:
        return text
    if dtype == pl.Date:
        return text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Boolean:
        return text.is_in(["1", "true"])
    return text.cast(dtype, strict=False)


column_types = st.sampled_from([pl.Int64, pl.Float64, pl.String, pl.Date, pl.Boolean, pl.UInt8])


@FUZZ
@given(
    types=st.dictionaries(
        st.sampled_from(["trade_date", "ts", "quantity", "price", "trade_id", "symbol"]), column_types, min_size=1
    )
)
def test_a_parquet_file_with_columns_of_any_type_is_read_or_refused(types):
    frame = TRADES.with_columns([_as_type(c, t) for c, t in types.items()])
    path = Path(tempfile.mkdtemp(prefix="fuzz_")) / "trades_2024-01-16.parquet"
    frame.write_parquet(path)
    read = _read_or_refuse(read_trade_file, path)
    if read is not None:
        assert _finite(read) and read.height == len(TRADES)
        assert read["trade_date"].to_list() == [DAY] * len(TRADES)


@pytest.mark.parametrize("text", ["182,81", "1.250,00", "1.250.000", "1,0951"])
def test_the_readers_agree_on_an_ambiguous_number(tmp_path, text):
    """The trade, composition, FX and holdings readers give one refusal for one ambiguous number."""
    with pytest.raises(ValueError, match="ambiguous"):
        parse_number(text)
    fx = tmp_path / "rates.csv"
    fx.write_text(f'rate_date,currency,rate_to_usd\n2024-01-16,EUR,"{text}"\n')
    assert "ambiguous" in " ".join(validate_fx_file(fx).errors)
    composition = tmp_path / "comp.csv"
    composition.write_text(
        f'parent_symbol,constituent_symbol,weight,shares_per_unit,effective_date\nPMET,GOLD,"{text}",0.03,2024-02-01\n'
    )
    assert "ambiguous" in " ".join(validate_landing_file(composition, INSTRUMENTS).errors)


@FUZZ
@given(
    amounts=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=8),
    crds=st.lists(st.integers(min_value=-5, max_value=10**11), min_size=1, max_size=8),
    days=st.lists(st.dates(), min_size=1, max_size=8),
    float32=st.booleans(),
)
def test_a_typed_parquet_feed_reads_as_its_text_would(amounts, crds, days, float32):
    """Typed Parquet columns are taken as they are only where their text reads the same values: the
    same rows written as CSV give the same typed frame, or both files are refused."""
    from pipeline.dist_perf_dw.landed.feeds import POSITIONS, read_feed_file

    rows = max(len(amounts), len(crds), len(days))
    frame = pl.DataFrame({
        "as_of_date": pl.Series([days[i % len(days)] for i in range(rows)], dtype=pl.Date),
        "advisor_crd_number": pl.Series([crds[i % len(crds)] for i in range(rows)], dtype=pl.Int64),
        "firm_crd_number": pl.Series([100001] * rows, dtype=pl.Int64),
        "cusip": ["037833100"] * rows,
        "market_value": pl.Series([amounts[i % len(amounts)] for i in range(rows)], dtype=pl.Float64),
    }).with_columns(pl.col("market_value").cast(pl.Float32 if float32 else pl.Float64))
    folder = Path(tempfile.mkdtemp(prefix="fuzz_"))
    frame.write_parquet(folder / "positions.parquet")
    # The CSV holds each value's text as the Parquet reader renders it (what the text path parses).
    frame.with_columns(pl.all().cast(pl.String)).write_csv(folder / "positions.csv")
    typed, text = (
        _read_or_refuse(lambda path: read_feed_file(path, POSITIONS)[1].drop("__line"), folder / name)
        for name in ("positions.parquet", "positions.csv")
    )
    assert (typed is None) == (text is None)
    if typed is not None:
        assert typed.equals(text)
