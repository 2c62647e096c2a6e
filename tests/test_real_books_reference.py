"""Real books in, the reference data: an instrument master file, an iShares holdings CSV and a SPDR
holdings XLSX dropped in the landing folders change pivot.instruments and the constituent map through
the assets (real chDB), a traded ETF explodes into the issuer's lines (cash and money market included),
and every refused reference file is reported once by the sensor and changes nothing."""

from datetime import date

import dagster as dg
import polars as pl
import pytest

from pipeline.assets import pivot
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landed.instruments import INSTRUMENT_SCHEMA
from pipeline.pivot.reference import build_reference
from pipeline.sensors import landed_compositions
from pipeline.settings import DEFAULT_SEED
from tests.landed_files import write_csv_rows, write_ishares_csv, write_spdr_xlsx
from tests.sensor_ticks import settled_tick
from tests.test_landed_holdings import ISHARES_LINES, ISHARES_WEIGHTS, IVV, SPDR_LINES, SPDR_WEIGHTS
from tests.test_real_books import DAILY, REFERENCE, SYNTHETIC, run

pytestmark = pytest.mark.slow

ISHARES_AS_OF = date(2026, 9, 4)
SPDR_AS_OF = date(2024, 4, 30)
AFTER_SPDR = "2024-05-01"  # a full session everywhere


@pytest.fixture
def folders(landing):
    for name in ("instruments", "compositions", "trades"):
        (landing / name).mkdir()
    return landing


def land_issuer_files(landing) -> None:
    columns = list(INSTRUMENT_SCHEMA)
    write_csv_rows(landing / "instruments" / "master.csv", [columns, [str(IVV[c]) for c in columns]])
    write_ishares_csv(landing / "compositions" / "IVV_holdings.csv", ISHARES_LINES)
    write_spdr_xlsx(landing / "compositions" / "holdings-daily-us-en-spy.xlsx", SPDR_LINES, as_of="30-Apr-2024")


def test_issuer_files_change_the_map_and_add_instruments_through_the_assets(clickhouse, folders):
    land_issuer_files(folders)
    with dg.instance_for_test() as instance:
        result = run(REFERENCE, clickhouse, instance)
        instruments_md = result.asset_materializations_for_node("pivot__instruments")[0].metadata
        constituents_md = result.asset_materializations_for_node("pivot__constituents")[0].metadata
        run(DAILY, clickhouse, instance, partition_key=AFTER_SPDR, run_config=SYNTHETIC)

    new = {"BRK B", "NEWCO", "XTSLA", "USD", "NSCO", "CASH_USD", "857492888"}
    assert instruments_md["instruments_added"].value == 1 + len(new)  # IVV from the master file
    assert set(instruments_md["added_from_holdings_files"].value.split(", ")) == new
    loaded = clickhouse.query_polars(
        "SELECT symbol, toString(asset_class) AS asset_class, toString(instrument_type) AS instrument_type, "
        "is_composite FROM pivot.instruments"
    )
    assert loaded.height == build_instruments(DEFAULT_SEED).height + 1 + len(new)
    classes = dict(loaded.select("symbol", "asset_class").iter_rows())
    assert (
        classes["CASH_USD"] == "Cash" and classes["857492888"] == "Money Market" and classes["XTSLA"] == "Money Market"
    )
    assert classes["USD"] == "Cash" and classes["NEWCO"] == "Equity" and classes["IVV"] == "Equity"

    def period(parent: str, start: date) -> dict[str, float]:
        rows = clickhouse.query_rows(
            "SELECT constituent_symbol, weight FROM pivot.constituents WHERE parent_symbol = {p:String} "
            "AND effective_date = {d:Date}",
            {"p": parent, "d": start},
        )
        return dict(rows)

    ivv, spy = period("IVV", ISHARES_AS_OF), period("SPY", SPDR_AS_OF)
    assert ivv == pytest.approx({s: w / sum(ISHARES_WEIGHTS.values()) for s, w in ISHARES_WEIGHTS.items()})
    assert spy == pytest.approx({s: w / sum(SPDR_WEIGHTS.values()) for s, w in SPDR_WEIGHTS.items()})
    assert constituents_md["holdings_files_applied"].value == 2
    assert "IVV_holdings.csv" in constituents_md["holdings_files"].value

    # A SPY trade the day after the as-of date explodes into the issuer's lines, cash and money market too.
    children = clickhouse.query_polars(
        "SELECT symbol, toString(asset_class) AS asset_class FROM pivot.trades_1d WHERE trade_date = {d:Date} "
        "AND parent_symbol = 'SPY' AND is_constituent_exposure = 1",
        {"d": AFTER_SPDR},
    )
    assert set(children["symbol"].to_list()) == set(SPDR_WEIGHTS)
    assert {"Cash", "Money Market"} <= set(children["asset_class"].to_list())


def test_synthetic_days_do_not_trade_the_instruments_landed_files_add(clickhouse, folders):
    """A synthetic day stays a function of (seed, date, trades_per_day), whatever reference files land."""
    with dg.instance_for_test() as instance:
        run(REFERENCE, clickhouse, instance)
        run(DAILY, clickhouse, instance, partition_key=AFTER_SPDR, run_config=SYNTHETIC)
        before = clickhouse.query_polars(
            "SELECT trade_id, symbol, notional FROM pivot.trades_1d WHERE trade_date = {d:Date} "
            "AND is_constituent_exposure = 0 ORDER BY trade_id",
            {"d": AFTER_SPDR},
        )
        land_issuer_files(folders)
        run(REFERENCE, clickhouse, instance)
        run(DAILY, clickhouse, instance, partition_key=AFTER_SPDR, run_config=SYNTHETIC)
        after = clickhouse.query_polars(
            "SELECT trade_id, symbol, notional FROM pivot.trades_1d WHERE trade_date = {d:Date} "
            "AND is_constituent_exposure = 0 ORDER BY trade_id",
            {"d": AFTER_SPDR},
        )
    assert after.equals(before)


REFERENCE_TABLES = ("instruments", "constituents")


def _tick(instance, cursor=None) -> dg.SensorResult:
    return settled_tick(landed_compositions.pivot_landed_constituents, instance, cursor)


def test_the_sensor_reloads_instruments_and_map_for_issuer_files(folders):
    land_issuer_files(folders)
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(pivot.trades_1d.key, partition="2024-05-02"))
        result = _tick(instance)
        [request] = result.run_requests
        assert pivot.instruments.key in request.asset_selection and pivot.trades_1d.key in request.asset_selection
        assert request.tags["dagster/asset_partition_range_start"] == "2024-05-02"
        assert request.run_config["ops"]["pivot__trades_1d"]["config"]["source"] == "synthetic"
        assert not _tick(instance, result.cursor).run_requests


REFUSED_HOLDINGS = {
    "weights-outside-99-101": (
        lambda landing: write_ishares_csv(landing / "compositions" / "IVV_holdings.csv", ISHARES_LINES[:2]),
        "the weights sum to 70.0000 %, outside 99-101 %",
    ),
    "unknown-parent": (
        lambda landing: write_ishares_csv(landing / "compositions" / "QQQM_holdings.csv", ISHARES_LINES),
        "the fund 'QQQM' is not in pivot.instruments",
    ),
    "xlsx-not-a-workbook": (
        lambda landing: write_csv_rows(
            landing / "compositions" / "holdings-daily-us-en-spy.xlsx", [["not", "a workbook"]]
        ),
        "holdings-daily-us-en-spy.xlsx",
    ),
}


def test_each_refused_holdings_file_is_reported_once_and_changes_nothing(clickhouse, folders):
    """Each refused holdings file in turn, alone in the folder after the same master-file reload (the
    sensor's cursor of that reload, the tables it loaded): the sensor reports it once, the reference run
    fails once (not retried) naming it, and neither table changes. The file is removed before the next
    lands, so one store and one reload serve the three."""
    columns = list(INSTRUMENT_SCHEMA)
    write_csv_rows(folders / "instruments" / "master.csv", [columns, [str(IVV[c]) for c in columns]])
    with dg.instance_for_test() as instance:
        master = _tick(instance)
        assert master.run_requests  # the master file alone: a reload
        run(REFERENCE, clickhouse, instance)
        loaded = {t: clickhouse.query_polars(f"SELECT * FROM pivot.{t} ORDER BY ALL") for t in REFERENCE_TABLES}
        for case, (make, message) in REFUSED_HOLDINGS.items():
            present = set((folders / "compositions").iterdir())
            make(folders)
            first = _tick(instance, master.cursor)
            assert not first.run_requests and message in first.skip_reason.skip_message, case
            assert "rejected, nothing changed" in first.skip_reason.skip_message, case
            second = _tick(instance, first.cursor)
            assert message not in (second.skip_reason.skip_message if second.skip_reason else ""), case
            # The run fails too, once (not retried), naming the file; neither table changes.
            result = run(REFERENCE, clickhouse, instance, expect_success=False)
            [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            assert failure.step_key == "pivot__instruments", case
            assert "landed composition files refused, pivot.instruments and pivot.constituents left as they were" in (
                failure.step_failure_data.error.message
            ), case
            assert message in failure.step_failure_data.error.message, case
            assert not [e for e in result.all_events if e.event_type_value in ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")]
            for table, before in loaded.items():
                after = clickhouse.query_polars(f"SELECT * FROM pivot.{table} ORDER BY ALL")
                assert after.equals(before), (case, table)
            reference = build_reference(DEFAULT_SEED, folders)
            synthetic_map = build_reference(DEFAULT_SEED, folders / "nowhere").constituents
            assert reference.constituents.equals(synthetic_map), case
            assert pl.Series(["IVV"]).is_in(reference.instruments["symbol"].implode()).all(), case
            added = set((folders / "compositions").iterdir()) - present
            assert added, case
            for path in added:
                path.unlink()


def test_a_refused_instrument_master_file_fails_the_reference_load_naming_it(clickhouse, folders):
    write_csv_rows(folders / "instruments" / "master.csv", [["symbol", "name", "asset_clas"], ["X", "X", "Equity"]])
    with dg.instance_for_test() as instance:
        result = run([pivot.instruments], clickhouse, instance, expect_success=False)
        tick = _tick(instance)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "master.csv" in failure.step_failure_data.error.message
    assert "unknown column 'asset_clas'" in failure.step_failure_data.error.message
    assert "master.csv" in tick.skip_reason.skip_message
