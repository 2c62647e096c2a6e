"""Schedules, sensors and asset checks, in-process against real engines (chDB, local PostgreSQL)."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipeline.assets import dist_perf_dw, dist_perf_dw_checks, pivot, pivot_checks
from pipeline.definitions import defs
from pipeline.jobs.dist_perf_dw import dist_perf_dw_daily_schedule, dist_perf_dw_monthly_schedule
from pipeline.jobs.pivot import pivot_daily_schedule
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landing import LANDING_COLUMNS, file_digest, validate_landing_file
from pipeline.resources.generation import GenerationSettings
from pipeline.sensors import landed_compositions, run_failure
from pipeline.settings import DEFAULT_SEED, ENV_DATA_DIR, ENV_LANDING_DIR
from tests.sensor_ticks import evaluate, settled_tick

NEW_YORK = ZoneInfo("America/New_York")
VALID_PMET = "PMET,GOLD,0.6,0.03,2024-02-01\nPMET,SILVER,0.4,1.7,2024-02-01\n"
VALID_SPY = "SPY,AAPL,0.5,1.2,2024-02-01\nSPY,MSFT,0.5,0.6,2024-02-01\n"
HEADER = ",".join(LANDING_COLUMNS) + "\n"


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    "name, tick, partition",
    [
        (pivot_daily_schedule.name, datetime(2024, 3, 5, 6, 0, tzinfo=NEW_YORK), "2024-03-04"),
        (dist_perf_dw_daily_schedule.name, datetime(2024, 3, 5, 6, 30, tzinfo=NEW_YORK), "2024-03-04"),
        (dist_perf_dw_monthly_schedule.name, datetime(2024, 3, 2, 7, 0, tzinfo=NEW_YORK), "2024-02-01"),
    ],
)
def test_schedules_target_the_previous_partition_in_new_york_time(name, tick, partition):
    schedule = defs.resolve_schedule_def(name)
    assert schedule.execution_timezone == "America/New_York"
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [partition]


def test_facts_and_their_rollups_share_a_job():
    pivot_daily = defs.resolve_job_def("pivot_daily")
    assert {k.to_user_string() for k in pivot_daily.asset_layer.executable_asset_keys} == {
        "pivot/trades_1d",
        "pivot/trades_1d_rollup",
    }
    daily = defs.resolve_job_def("dist_perf_dw_daily")
    assert {"dist_perf_dw/fact_aum_flows", "dist_perf_dw/fact_revenue"} <= {
        k.to_user_string() for k in daily.asset_layer.executable_asset_keys
    }


# --------------------------------------------------------------------------- reference-data sensor


def _evaluate(instance, cursor=None):
    return evaluate(landed_compositions.pivot_landed_constituents, instance, cursor)


def _tick(instance, cursor=None):
    return settled_tick(landed_compositions.pivot_landed_constituents, instance, cursor)


def test_a_file_still_being_written_is_not_read(landing):
    with dg.instance_for_test() as instance:
        _materialize_trade_dates(instance, ["2024-02-05"])
        (landing / "pmet.csv").write_text(HEADER + VALID_PMET.splitlines()[0] + "\n")  # half the file
        first = _evaluate(instance)
        assert not first.run_requests and "waiting for pmet.csv: first seen" in first.skip_reason.skip_message
        (landing / "pmet.csv").write_text(HEADER + VALID_PMET)  # the copy goes on
        growing = _evaluate(instance, first.cursor)
        assert not growing.run_requests and "waiting for pmet.csv: changed since the last tick" in (
            growing.skip_reason.skip_message
        )
        assert "INVALID" not in growing.skip_reason.skip_message  # the half file was never read
        [request] = _evaluate(instance, growing.cursor).run_requests  # held still for a tick: read
        assert request.tags["dagster/asset_partition_range_start"] == "2024-02-05"


def test_a_cursor_from_before_the_settle_wait_keeps_the_file_versions_it_saw(landing):
    (landing / "pmet.csv").write_text(HEADER + VALID_PMET)
    with dg.instance_for_test() as instance:
        _materialize_trade_dates(instance, ["2024-02-05"])
        result = _tick(instance, json.dumps({"pmet.csv": file_digest(landing / "pmet.csv")}))
        assert not result.run_requests and "no new or changed files" in result.skip_reason.skip_message


def _materialize_trade_dates(instance, keys):
    for key in keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(pivot.trades_1d.key, partition=key))


def test_valid_file_reloads_constituents_and_reexplodes_the_dates_it_covers(landing):
    (landing / "pmet.csv").write_text(HEADER + VALID_PMET)
    with dg.instance_for_test() as instance:
        _materialize_trade_dates(instance, ["2024-01-31", "2024-02-01", "2024-02-20", "2024-04-10"])
        result = _tick(instance)
        [request] = result.run_requests
        assert set(request.asset_selection) == {
            pivot.instruments.key,
            pivot.constituents.key,
            pivot.trades_1d.key,
            pivot.trades_1d_rollup.key,
        }
        assert request.run_config == {"ops": {"pivot__trades_1d": {"config": {"source": "synthetic"}}}}
        # PMET's map has no later period: every loaded date from 2024-02-01 on changes
        assert request.tags["dagster/asset_partition_range_start"] == "2024-02-01"
        assert request.tags["dagster/asset_partition_range_end"] == "2024-04-10"
        assert "pmet.csv" in json.loads(result.cursor)["files"]

        # the cursor makes each file version count once
        again = _tick(instance, result.cursor)
        assert not again.run_requests and "no new or changed files" in again.skip_reason.skip_message

        # a changed file is new again; SPY's next quarterly rebalance (2024-04-01) closes its period
        (landing / "pmet.csv").write_text(HEADER + VALID_SPY)
        changed = _tick(instance, again.cursor)
        [request] = changed.run_requests
        assert request.tags["dagster/asset_partition_range_end"] == "2024-02-20"


def test_without_loaded_trade_dates_only_constituents_reload(landing):
    (landing / "pmet.csv").write_text(HEADER + VALID_PMET)
    with dg.instance_for_test() as instance:
        [request] = _tick(instance).run_requests
        assert list(request.asset_selection) == [pivot.instruments.key, pivot.constituents.key]


@pytest.mark.parametrize(
    "body, message",
    [
        (HEADER + "PMET,GOLD,0.6,0.03,2024-02-01\nPMET,SILVER,0.3,1.7,2024-02-01\n", "sum to 0.900000, not 1"),
        (HEADER + "PMET,GOLD,0.6,0.03,2024-02-01\nPMET,NOPE,0.4,1.7,2024-02-01\n", "'NOPE' is an unknown symbol"),
        (HEADER + "AAPL,GOLD,1.0,0.03,2024-02-01\n", "'AAPL' is not a composite instrument"),
        (HEADER + "PMET,GOLD,1.0,0.03,2024-02-30\n", "not an ISO date"),
        ("parent,constituent,weight,shares_per_unit,effective_date\nPMET,GOLD,1.0,0.03,2024-02-01\n", "wrong columns"),
    ],
)
def test_invalid_file_is_reported_and_changes_nothing(landing, body, message):
    (landing / "bad.csv").write_text(body)
    before = (landing / "bad.csv").read_bytes()
    with dg.instance_for_test() as instance:
        _materialize_trade_dates(instance, ["2024-02-05"])
        result = _tick(instance)
        assert not result.run_requests
        assert message in result.skip_reason.skip_message and "INVALID" in result.skip_reason.skip_message
        assert "bad.csv" in json.loads(result.cursor)["files"]  # reported once, not on every tick
        assert not _tick(instance, result.cursor).run_requests
    assert (landing / "bad.csv").read_bytes() == before
    assert not validate_landing_file(landing / "bad.csv", build_instruments(DEFAULT_SEED)).is_valid


@pytest.mark.slow
def test_a_refused_composition_file_fails_the_constituents_load_and_the_valid_ones_apply_once_it_goes(
    landing, clickhouse
):
    (landing / "a_pmet.csv").write_text(HEADER + VALID_PMET)
    (landing / "b_bad.csv").write_text(HEADER + "PMET,GOLD,0.5,0.03,2024-03-01\n")
    selection = [pivot.instruments, pivot.constituents, pivot_checks.constituent_weights_sum_to_one]
    resources = {"clickhouse": clickhouse, "generation": GenerationSettings()}
    with dg.instance_for_test() as instance:
        refused = dg.materialize(selection, resources=resources, instance=instance, raise_on_error=False)
        assert not refused.success
        [failure] = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
        assert failure.step_key == "pivot__constituents"
        message = failure.step_failure_data.error.message
        assert "landed composition files refused, pivot.instruments and pivot.constituents left as they were" in message
        assert "b_bad.csv: INVALID, nothing applied" in message and "sum to 0.500000, not 1" in message
        assert not [e for e in refused.all_events if e.event_type_value in ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")]
        assert clickhouse.query_rows("SELECT count() FROM pivot.constituents") == [(0,)]
        (landing / "b_bad.csv").unlink()
        result = dg.materialize(selection, resources=resources, instance=instance)
    assert result.success
    metadata = result.asset_materializations_for_node("pivot__constituents")[0].metadata
    assert metadata["landed_files_applied"].value == 1
    periods = clickhouse.query_rows(
        "SELECT effective_date, expiry_date, groupArray(constituent_symbol) FROM pivot.constituents "
        "WHERE parent_symbol = 'PMET' GROUP BY effective_date, expiry_date ORDER BY effective_date"
    )
    assert [(str(a), str(b)) for a, b, _ in periods] == [("2023-01-01", "2024-01-31"), ("2024-02-01", "2099-12-31")]
    assert sorted(periods[1][2]) == ["GOLD", "SILVER"]
    assert all(e.passed for e in result.get_asset_check_evaluations())


# --------------------------------------------------------------------------- run-failure sensor


def test_run_failure_sensor_records_what_failed_and_why(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path))

    @dg.op
    def explode():
        raise RuntimeError("chDB store is busy")

    @dg.job
    def failing_job():
        explode()

    with dg.instance_for_test() as instance:
        result = failing_job.execute_in_process(
            instance=instance, raise_on_error=False, tags={"dagster/partition": "2024-01-15"}
        )
        run = instance.get_run_by_id(result.run_id)
        failure_event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="record_run_failures", dagster_instance=instance, dagster_run=run, dagster_event=failure_event
        ).for_run_failure()
        run_failure.record_run_failures(context)
        engine_events = [e.message for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]
    [line] = (tmp_path / "run_failures.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["run_id"] == run.run_id and record["job"] == "failing_job" and record["partition"] == "2024-01-15"
    assert record["failed_steps"][0]["step"] == "explode"
    assert "chDB store is busy" in record["failed_steps"][0]["error"]
    assert any("chDB store is busy" in message for message in engine_events)


# --------------------------------------------------------------------------- asset checks


def _evaluations(assets, selection, resources, partition_key=None) -> dict:
    """Run only the selected checks, against the data as it is (dg.materialize would need an asset
    in the selection to know the partitions)."""
    partitions_def = next((a.partitions_def for a in assets if getattr(a, "partitions_def", None)), None)
    job = dg.define_asset_job("checks_only", selection=selection, partitions_def=partitions_def)
    asset_defs = [a for a in assets if not isinstance(a, dg.AssetChecksDefinition)]
    check_defs = [a for a in assets if isinstance(a, dg.AssetChecksDefinition)]
    definitions = dg.Definitions(assets=asset_defs, asset_checks=check_defs, jobs=[job], resources=resources)
    with dg.instance_for_test() as instance:
        # The partition goes in as a tag: execute_in_process(partition_key=) validates it against the
        # selected assets, and a checks-only selection has none.
        result = definitions.resolve_job_def("checks_only").execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={"dagster/partition": partition_key} if partition_key else None,
        )
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_check_names_are_constants_and_the_right_ones_block():
    specs = (
        {(s.asset_key.to_user_string(), s.name): s for s in defs.resolve_all_asset_check_specs()}
        if hasattr(defs, "resolve_all_asset_check_specs")
        else {
            (k.asset_key.to_user_string(), k.name): defs.resolve_asset_graph().get_check_spec(k)
            for k in defs.resolve_asset_graph().asset_check_keys
        }
    )
    assert specs[("pivot/constituents", pivot_checks.CONSTITUENT_WEIGHTS_SUM_TO_ONE)].blocking
    assert specs[("pivot/trades_1d", pivot_checks.LOOK_THROUGH_CONSISTENT)].blocking
    assert specs[("pivot/trades_1d", pivot_checks.NO_DUPLICATE_TRADE_ROWS)].blocking
    assert specs[("pivot/trades_1d", pivot_checks.USD_MATCHES_DAY_RATES)].blocking
    assert specs[("dist_perf_dw/fact_aum_flows", dist_perf_dw_checks.FOREIGN_KEYS_RESOLVE)].blocking
    assert not specs[("pivot/trades_1d_rollup", pivot_checks.ROLLUP_MATCHES_FACT)].blocking
    assert ("dist_perf_dw/fact_wholesaler_comp", dist_perf_dw_checks.COMP_MATCHES_FLOWS) in specs


PIVOT_REFERENCE = [pivot.instruments, pivot.constituents, pivot.fx_rates]
PIVOT_ASSETS = [*PIVOT_REFERENCE, pivot.trades_1d, pivot.trades_1d_rollup, *pivot_checks.pivot_checks]
DAY = "2024-01-16"  # every venue holds a full session (2024-01-15 is a US holiday: no ETF trades)


@pytest.mark.slow
def test_pivot_checks_pass_on_good_data_and_name_the_failing_rows(clickhouse, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_LANDING_DIR, str(tmp_path / "empty"))
    resources = {"clickhouse": clickhouse, "generation": GenerationSettings()}
    run_config = {"ops": {"pivot__trades_1d": {"config": {"trades_per_day": 400}}}}
    with dg.instance_for_test() as instance:
        assert dg.materialize(PIVOT_REFERENCE, resources=resources, instance=instance).success
        loaded = dg.materialize(
            PIVOT_ASSETS,
            selection=dg.AssetSelection.assets(pivot.trades_1d, pivot.trades_1d_rollup),
            resources=resources,
            instance=instance,
            partition_key=DAY,
            run_config=run_config,
        )
    good = {e.check_name: e for e in loaded.get_asset_check_evaluations()}
    assert set(good) == {
        pivot_checks.LOOK_THROUGH_CONSISTENT,
        pivot_checks.NO_DUPLICATE_TRADE_ROWS,
        pivot_checks.GREEKS_WITHIN_SPEC_RANGES,
        pivot_checks.USD_MATCHES_DAY_RATES,
        pivot_checks.ROLLUP_MATCHES_FACT,
        pivot_checks.LANDED_TRADES_ON_CLOSED_VENUES,
    }
    assert all(e.passed for e in good.values()), {k: e.metadata for k, e in good.items()}
    assert good[pivot_checks.LOOK_THROUGH_CONSISTENT].metadata["exploded_trades_checked"].value > 0

    # (landed_trades_on_closed_venues fails on a closed day's trades: tests/test_real_books.py)
    judged = [
        c
        for c in pivot_checks.pivot_checks
        if c not in (pivot_checks.constituent_weights_sum_to_one, pivot_checks.landed_trades_on_closed_venues)
    ]
    only_checks = dg.AssetSelection.checks(*judged)
    # One constituent row loaded twice: duplicates, broken look-through and a rollup that no longer matches.
    trade_id = clickhouse.query_rows(
        "SELECT trade_id FROM pivot.trades_1d WHERE trade_date = {d:Date} AND is_constituent_exposure = 1 "
        "ORDER BY trade_id, symbol LIMIT 1",
        {"d": DAY},
    )[0][0]
    clickhouse.command(
        "INSERT INTO pivot.trades_1d SELECT * FROM pivot.trades_1d "
        "WHERE trade_date = {d:Date} AND trade_id = {t:UInt64} AND is_constituent_exposure = 1 ORDER BY symbol LIMIT 1",
        {"d": DAY, "t": trade_id},
        settings={"async_insert": 0},
    )
    # and one row with a delta the spec does not allow and a USD notional not at the day's rate
    clickhouse.command(
        "INSERT INTO pivot.trades_1d SELECT * REPLACE (delta + 3 AS delta, trade_id + 9000000 AS trade_id, "
        "notional_usd * 2 AS notional_usd) "
        "FROM pivot.trades_1d WHERE trade_date = {d:Date} AND is_constituent_exposure = 0 ORDER BY trade_id LIMIT 1",
        {"d": DAY},
        settings={"async_insert": 0},
    )
    daily = [pivot.trades_1d, pivot.trades_1d_rollup, *pivot_checks.pivot_checks[1:]]
    bad = _evaluations(daily, only_checks, resources, partition_key=DAY)
    assert not any(e.passed for e in bad.values()), {k: e.passed for k, e in bad.items()}
    for name in (pivot_checks.NO_DUPLICATE_TRADE_ROWS, pivot_checks.LOOK_THROUGH_CONSISTENT):
        assert bad[name].metadata["failing_rows"].value == 1
        assert str(trade_id) in bad[name].metadata["failing_rows_sample"].value
    assert bad[pivot_checks.GREEKS_WITHIN_SPEC_RANGES].metadata["failing_rows"].value == 1
    assert bad[pivot_checks.USD_MATCHES_DAY_RATES].metadata["failing_rows"].value == 1
    assert "Constituent" in bad[pivot_checks.ROLLUP_MATCHES_FACT].metadata["failing_rows_sample"].value

    clickhouse.command(
        "INSERT INTO pivot.constituents SELECT * REPLACE (constituent_symbol || 'X' AS constituent_symbol) "
        "FROM pivot.constituents WHERE parent_symbol = 'GLD' LIMIT 1",
        settings={"async_insert": 0},
    )
    weights = _evaluations(
        [pivot.constituents, pivot_checks.constituent_weights_sum_to_one],
        dg.AssetSelection.checks(pivot_checks.constituent_weights_sum_to_one),
        resources,
    )
    failing = weights[pivot_checks.CONSTITUENT_WEIGHTS_SUM_TO_ONE]
    assert not failing.passed and failing.metadata["failing_rows"].value == 1
    assert "GLD" in failing.metadata["failing_rows_sample"].value


DIST_DAY = "2024-01-02"


@pytest.mark.slow
def test_dist_perf_dw_checks_pass_on_good_data_and_name_the_failing_rows(fresh_postgres_database):
    postgres = fresh_postgres_database("ops_checks")
    postgres.apply_ddl()
    resources = {"postgres": postgres, "generation": GenerationSettings()}
    assets = [*dist_perf_dw.dimension_assets, *dist_perf_dw.fact_assets, *dist_perf_dw_checks.dist_perf_dw_checks]
    daily = [dist_perf_dw.fact_aum_flows, dist_perf_dw.fact_revenue, dist_perf_dw.fact_distribution_expense]
    with dg.instance_for_test() as instance:
        assert dg.materialize(
            assets,
            selection=dg.AssetSelection.assets(*dist_perf_dw.dimension_assets),
            resources=resources,
            instance=instance,
        ).success
        day = dg.materialize(
            assets,
            selection=dg.AssetSelection.assets(*daily),
            resources=resources,
            instance=instance,
            partition_key=DIST_DAY,
        )
        month = dg.materialize(
            assets,
            selection=dg.AssetSelection.assets(dist_perf_dw.fact_wholesaler_comp),
            resources=resources,
            instance=instance,
            partition_key="2024-01-01",
        )
    good = [*day.get_asset_check_evaluations(), *month.get_asset_check_evaluations()]
    assert len(good) == 7 and all(e.passed for e in good), [(e.asset_key, e.check_name, e.metadata) for e in good]
    comp = next(e for e in good if e.check_name == dist_perf_dw_checks.COMP_MATCHES_FLOWS)
    assert "missing business days" in comp.metadata["months_not_comparable"].value

    with postgres.get_engine().begin() as connection:
        connection.exec_driver_sql(
            "UPDATE dist_perf_dw.fact_aum_flows SET net_amount = net_amount + 1000 "
            "WHERE flow_id = (SELECT min(flow_id) FROM dist_perf_dw.fact_aum_flows)"
        )
        connection.exec_driver_sql(
            "UPDATE dist_perf_dw.fact_wholesaler_comp SET total_comp_amount = total_comp_amount + 1 "
            "WHERE wholesaler_id = (SELECT min(wholesaler_id) FROM dist_perf_dw.fact_wholesaler_comp)"
        )
        # bypass the FK triggers as a faulty loader would
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql(
            "INSERT INTO dist_perf_dw.fact_distribution_expense SELECT expense_id + 99000000, expense_date, "
            "999999, territory_id, expense_type_id, expense_category_id, firm_id, amount "
            "FROM dist_perf_dw.fact_distribution_expense LIMIT 1"
        )
    fk_flows, _, _, fk_expense, fk_comp = dist_perf_dw_checks.foreign_key_checks
    daily_assets = [
        *daily,
        dist_perf_dw.fact_retention_snapshots,
        fk_flows,
        fk_expense,
        dist_perf_dw_checks.revenue_matches_flows,
    ]
    bad_day = _evaluations(
        daily_assets,
        dg.AssetSelection.checks(dist_perf_dw_checks.revenue_matches_flows),
        resources,
        partition_key=DIST_DAY,
    )
    bad_month = _evaluations(
        [dist_perf_dw.fact_wholesaler_comp, fk_comp, dist_perf_dw_checks.comp_matches_flows],
        dg.AssetSelection.checks(dist_perf_dw_checks.comp_matches_flows),
        resources,
        partition_key="2024-01-01",
    )
    assert not bad_day[dist_perf_dw_checks.REVENUE_MATCHES_FLOWS].passed
    assert bad_day[dist_perf_dw_checks.REVENUE_MATCHES_FLOWS].metadata["failing_rows"].value == 1
    expense_fk = next(
        e
        for e in _evaluations(
            daily_assets, dg.AssetSelection.checks(fk_expense), resources, partition_key=DIST_DAY
        ).values()
    )
    assert not expense_fk.passed and "wholesaler_id" in expense_fk.metadata["failing_rows_sample"].value
    assert not bad_month[dist_perf_dw_checks.COMP_MATCHES_FLOWS].passed
    assert bad_month[dist_perf_dw_checks.COMP_MATCHES_FLOWS].metadata["failing_rows"].value == 1


def test_a_file_the_reference_load_would_not_read_is_the_sensors_skip_reason_once(landing):
    (landing / "pmet.csv").write_text(HEADER + VALID_PMET)
    (landing / "notes.txt").write_text("not data\n")
    with dg.instance_for_test() as instance:
        _materialize_trade_dates(instance, ["2024-02-05"])
        first = _tick(instance)
        assert not first.run_requests and "notes.txt (not one of .csv)" in first.skip_reason.skip_message
        again = _tick(instance, first.cursor)
        assert not again.run_requests and "notes.txt" not in again.skip_reason.skip_message
        (landing / "_format.toml").write_text('ignore = ["*.txt"]\n')
        [request] = _tick(instance, again.cursor).run_requests
        assert request.tags["dagster/asset_partition_range_start"] == "2024-02-05"
