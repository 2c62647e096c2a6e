"""The spec's queries over a range of trade dates (pipeline/pivot/queries.py, ranges.py, python -m
pipeline.query): routed to the rollup where its key holds what a query reads, to the fact otherwise; both
routes give the same answer, the range's answer is the sum of the single days', a rollup lagging the fact
is not used, and the CLI prints the spec's columns and says which table served it."""

import subprocess
import sys
from datetime import date

import polars as pl
import pytest

from pipeline import query as query_cli
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.pivot.fx import synthetic_rates
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.queries import (
    FACT_TABLE,
    RANGE_QUERY_NAMES,
    ROLLUP,
    ROLLUP_REBUILD,
    ROLLUP_TABLE,
    SPEC_QUERIES,
    USD_VIEWS,
    _in_usd,
    for_date,
    range_query,
    read_columns,
)
from pipeline.pivot.ranges import answer, estimated_rows, rollup_lag
from pipeline.settings import DEFAULT_SEED, ENV_CLICKHOUSE_URL

DAYS = [date(2024, 1, 16), date(2024, 1, 17), date(2024, 1, 18)]
# A day of 3,000 trades, outside 2024 (the year's tests read 2024): the fact's top-level rows (it is sorted
# by exposure_type first) are fewer than the rollup's rows of every exposure type.
BUSY_DAY = date(2025, 1, 16)
START, END = DAYS[0], DAYS[-1]
ROUTES = {
    "top_level": ROLLUP_TABLE,
    "look_through": FACT_TABLE,
    "symbol_exposure": FACT_TABLE,
    "etf_decomposition": FACT_TABLE,
    "pm_pnl": ROLLUP_TABLE,
    "rollup": ROLLUP_TABLE,
}
# The columns as the spec's SQL aliases them (the USD forms rename total_notional/total_pnl as the USD views do).
HEADERS = {
    "top_level": "symbol,exposure_type,total_notional,total_pnl",
    "look_through": "underlying_symbol,exposure_type,total_notional,total_pnl",
    "symbol_exposure": "underlying_symbol,direct_exposure,etf_exposure,total_exposure",
    "etf_decomposition": "etf,underlying_symbol,weight,constituent_notional",
    "pm_pnl": "portfolio_manager_id,exposure_type,total_pnl,trade_count",
    "rollup": "trade_date,portfolio_manager_id,fund_id,book,asset_class,symbol,total_quantity,total_notional,total_pnl",
}
# Each range query against the single-date spec query it sums (USD: the same text through _in_usd).
SPEC_OF = {
    "top_level": "top_level_view",
    "look_through": "look_through_view",
    "symbol_exposure": "total_aapl_exposure",
    "etf_decomposition": "etf_decomposition",
    "pm_pnl": "pm_pnl_by_exposure_type",
}


# -- routing, pure -------------------------------------------------------------------------------------


def test_each_query_goes_where_its_columns_are_and_binds_its_dates():
    for name in RANGE_QUERY_NAMES:
        for usd in (False, True):
            query = range_query(name, START, END, usd=usd)
            assert query.table == ROUTES[name], (name, usd)
            assert query.parameters["start"] == START and query.parameters["end"] == END
            assert "{start:Date}" in query.sql and "2024-01" not in query.sql
            assert f"FROM {query.table}\n" in query.sql
            assert range_query(name, START, END, usd=usd, fact_only=True).table == FACT_TABLE
    assert range_query("symbol_exposure", START, END, symbol="MSFT").parameters["symbol"] == "MSFT"
    assert "'AAPL'" not in range_query("symbol_exposure", START, END).sql
    assert (
        range_query("etf_decomposition", START, END).reason
        == "the rollup has no parent_symbol, underlying_symbol, weight"
    )


def test_the_columns_routing_reads_off_the_sql():
    expected = {
        "top_level": ({"trade_date", "symbol", "exposure_type"}, {"notional", "pnl"}),
        "look_through": ({"trade_date", "underlying_symbol", "exposure_type"}, {"notional", "pnl"}),
        "symbol_exposure": ({"trade_date", "underlying_symbol", "exposure_type"}, {"notional"}),
        "etf_decomposition": (
            {"trade_date", "parent_symbol", "underlying_symbol", "weight", "exposure_type"},
            {"notional"},
        ),
        "pm_pnl": ({"trade_date", "portfolio_manager_id", "exposure_type"}, {"pnl", "count()"}),
        "rollup": (
            {"trade_date", "portfolio_manager_id", "fund_id", "book", "asset_class", "symbol"},
            {"quantity", "notional", "pnl"},
        ),
    }
    for name, (columns, measures) in expected.items():
        assert read_columns(range_query(name, START, END, fact_only=True).sql) == (columns, measures), name
    # The rollup query's rollup form is the spec's rollup query, with the range.
    spec = ROLLUP.replace("GROUP BY", "WHERE trade_date BETWEEN {start:Date} AND {end:Date}\nGROUP BY")
    assert range_query("rollup", START, END).sql == spec
    assert "sumMerge(notional_usd_state) AS total_notional_usd" in range_query("rollup", START, END, usd=True).sql


def test_an_unknown_name_and_a_reversed_range_are_refused():
    with pytest.raises(ValueError, match="unknown query 'top'"):
        range_query("top", START, END)
    with pytest.raises(ValueError, match="starts after it ends"):
        range_query("top_level", END, START)


# -- on the engine -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(clickhouse_module):
    clickhouse_module.replace_table("instruments", build_instruments(DEFAULT_SEED))
    clickhouse_module.replace_table("constituents", build_constituents(DEFAULT_SEED))
    clickhouse_module.replace_table("fx_rates", pl.concat([
        synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 2, 1)),
        synthetic_rates(DEFAULT_SEED, BUSY_DAY, BUSY_DAY),
    ]))
    reference = read_reference_data(clickhouse_module)
    for day, trades in [*((day, 300) for day in DAYS), (BUSY_DAY, 3000)]:
        load_trade_date(clickhouse_module, day, reference, trades_per_day=trades, seed=DEFAULT_SEED)
        clickhouse_module.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
    return clickhouse_module


def _keys(frame: pl.DataFrame) -> list[str]:
    """The columns an answer is grouped by: all but its sums and its count (an ETF's weight is a key)."""
    return [c for c, dtype in frame.schema.items() if (not dtype.is_float() or c == "weight") and c != "trade_count"]


def _assert_same(a: pl.DataFrame, b: pl.DataFrame, what: str) -> None:
    """Same rows: the keys and counts exactly, the sums to the cent or float rounding."""
    assert a.columns == b.columns and a.height == b.height > 0, what
    keys = _keys(a)
    exact = [*keys, *(["trade_count"] if "trade_count" in a.columns else [])]
    a, b = a.sort(keys), b.sort(keys)
    assert a.select(exact).equals(b.select(exact)), what
    for column in set(a.columns) - set(exact):
        tolerance = 0.005 + 1e-9 * a[column].abs().max()
        assert (a[column] - b[column]).abs().max() <= tolerance, (what, column)


def test_the_rollup_route_and_the_fact_give_the_same_answers(store):
    for name in RANGE_QUERY_NAMES:
        for usd in (False, True):
            routed, from_route = answer(store, name, START, END, usd=usd)
            forced, from_fact = answer(store, name, START, END, usd=usd, fact_only=True)
            assert routed.table == ROUTES[name] and forced.table == FACT_TABLE
            _assert_same(from_route, from_fact, f"{name} usd={usd}")


def test_a_range_is_the_sum_of_its_days_and_a_year_is_one_query(store):
    for name, spec in SPEC_OF.items():
        for usd in (False, True):
            sql = _in_usd(SPEC_QUERIES[spec]) if usd else SPEC_QUERIES[spec]
            days = pl.concat([store.query_polars(for_date(sql, day)) for day in DAYS])
            _, ranged = answer(store, name, START, END, usd=usd)
            keys = _keys(ranged)
            summed = days.group_by(keys).agg(pl.exclude(keys).sum()).select(ranged.columns)
            _assert_same(ranged, summed, f"{name} usd={usd}")
    assert set(USD_VIEWS) == {"top_level_view_usd", "look_through_view_usd"}  # the USD views are those forms
    # The spec's rollup query reads every loaded day: these three and the busy day.
    _assert_same(answer(store, "rollup", START, BUSY_DAY)[1], store.query_polars(ROLLUP), "rollup")
    # A year in one statement: the same rows as the three days it holds.
    year, rows = answer(store, "pm_pnl", date(2024, 1, 1), date(2024, 12, 31))
    assert year.from_rollup and year.sql.count("SELECT") == 1
    _assert_same(rows, answer(store, "pm_pnl", START, END)[1], "year")


def test_a_rollup_lagging_the_fact_is_not_used(store):
    store.command("ALTER TABLE pivot.trades_1d_rollup DROP PARTITION {d:Date}", {"d": DAYS[1]})
    try:
        fact_rows = store.query_rows("SELECT count() FROM pivot.trades_1d WHERE trade_date = {d:Date}", {"d": DAYS[1]})
        assert rollup_lag(store, START, END) == [(DAYS[1], fact_rows[0][0], 0)]
        query, rows = answer(store, "top_level", START, END)
        assert query.table == FACT_TABLE and query.reason.startswith("the rollup lags the fact on 2024-01-17")
        _assert_same(rows, answer(store, "top_level", START, END, fact_only=True)[1], "lagging")
        assert answer(store, "top_level", DAYS[2], DAYS[2])[0].from_rollup  # a range without that date
    finally:
        store.rebuild_partition("trades_1d_rollup", DAYS[1], ROLLUP_REBUILD, {"day": DAYS[1]})
    assert rollup_lag(store, START, END) == []


def test_the_rollup_serves_only_where_the_engine_expects_to_read_fewer_rows(store):
    """Holding a query's columns makes the rollup a candidate; EXPLAIN ESTIMATE's rows decide."""
    light, _ = answer(store, "top_level", START, END)
    assert light.from_rollup and estimated_rows(store, light) < estimated_rows(
        store, range_query("top_level", START, END, fact_only=True))
    assert "the engine expects to read" in light.reason
    busy, rows = answer(store, "top_level", BUSY_DAY, BUSY_DAY)
    assert busy.table == FACT_TABLE and ", but the engine expects to read ~" in busy.reason
    assert estimated_rows(store, busy) < estimated_rows(store, range_query("top_level", BUSY_DAY, BUSY_DAY))
    _assert_same(rows, store.query_polars(for_date(SPEC_QUERIES["top_level_view"], BUSY_DAY)), "busy top_level")
    # pm_pnl reads every exposure type of the fact: the rollup is the smaller read on either day.
    assert answer(store, "pm_pnl", BUSY_DAY, BUSY_DAY)[0].from_rollup


# -- the CLI -------------------------------------------------------------------------------------------


def _cli(store, monkeypatch, capsys, *args):
    monkeypatch.setenv(ENV_CLICKHOUSE_URL, store.url)
    code = query_cli.main([*args, "--database", store.database])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_prints_the_spec_columns_and_the_serving_table_first(store, monkeypatch, capsys):
    for name in RANGE_QUERY_NAMES:
        code, out, err = _cli(
            store, monkeypatch, capsys, name, "--from", str(START), "--to", str(END), "--format", "csv"
        )
        assert code == 0
        assert err.splitlines()[0] == f"served from {ROUTES[name]}"
        assert out.splitlines()[0] == HEADERS[name]
        assert len(out.splitlines()) > 1
    code, out, err = _cli(store, monkeypatch, capsys, "pm_pnl", "--from", "2024-01-01", "--to", "2024-12-31", "--usd")
    assert code == 0 and err.splitlines()[0] == "served from pivot.trades_1d_rollup"
    assert "total_pnl_usd" in out and "trade_count" in out
    code, out, _ = _cli(
        store, monkeypatch, capsys, "symbol_exposure", "--from", str(START), "--to", str(END), "--symbol", "MSFT",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0 and out.splitlines()[1].startswith("MSFT,")


def test_the_cli_refuses_bad_input_clearly(store, monkeypatch, capsys):
    span = ["--from", str(START), "--to", str(END)]
    for args, message in [
        (["top_level", "--from", "2024-01-18", "--to", "2024-01-16"], "--from 2024-01-18 is after --to 2024-01-16"),
        (["top_level", "--from", "2024-13-01", "--to", "2024-12-31"], "'2024-13-01' is not a date (YYYY-MM-DD)"),
        (["top", *span], "invalid choice: 'top'"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            _cli(store, monkeypatch, capsys, *args)
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err
    monkeypatch.setenv(ENV_CLICKHOUSE_URL, store.url)
    assert query_cli.main(["top_level", *span, "--database", "no_such_database"]) == 1
    assert "no pivot.trades_1d or pivot.trades_1d_rollup in" in capsys.readouterr().err
    # Tables by those names of another shape: the engine's refusal, in one line.
    store.command("CREATE DATABASE IF NOT EXISTS pivot_other_shape")
    for table in ("trades_1d", "trades_1d_rollup"):
        store.command(f"CREATE TABLE IF NOT EXISTS pivot_other_shape.{table} (x UInt8) ENGINE = Memory")
    try:
        assert query_cli.main(["pm_pnl", *span, "--database", "pivot_other_shape"]) == 1
    finally:
        store.command("DROP DATABASE pivot_other_shape")
    err = capsys.readouterr().err
    assert err.startswith(f"error: the query failed on {store.location}: ") and len(err.splitlines()) == 1
    monkeypatch.setenv(ENV_CLICKHOUSE_URL, "postgres://somewhere")
    assert query_cli.main(["top_level", *span]) == 1
    assert capsys.readouterr().err.startswith("error: PIVOT_CLICKHOUSE_URL='postgres://somewhere': unsupported scheme")


def test_an_unreachable_store_is_an_error_line_not_a_traceback():
    env = {ENV_CLICKHOUSE_URL: "http://default:secret@127.0.0.1:9/", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.query", "top_level", "--from", "2024-01-16", "--to", "2024-01-18"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: Cannot reach the ClickHouse server at http://default:***@127.0.0.1:9/")
    assert "Traceback" not in done.stderr and "secret" not in done.stderr
