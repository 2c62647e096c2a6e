"""The dist_perf_dw_landed_feeds sensor: settle, then request exactly what a new or changed feed file
affects (no database: the sensor reads files, its cursor and the Dagster instance only)."""

from __future__ import annotations

import dagster as dg
import pytest

from pipeline.assets import dist_perf_dw
from pipeline.dist_perf_dw.tables import DIMENSION_TABLES
from pipeline.partitions import trade_date_partitions
from pipeline.sensors.landed_dist_perf_dw import dist_perf_dw_landed_feeds, priced_dates
from tests.dist_landed_files import (
    ADVISOR_HEADER,
    ADVISORS,
    EXPENSE_HEADER,
    FLOW_HEADER,
    POSITION_HEADER,
    PRODUCTS,
    write_csv,
    write_parquet,
)
from tests.sensor_ticks import evaluate, settled_tick

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
SLCGX = PRODUCTS[0][0]
LAST = trade_date_partitions.get_last_partition_key()  # a lone snapshot prices every date after it


def requested(result) -> list[tuple]:
    return sorted(
        (str(r.asset_selection[0].path[1]) if len(r.asset_selection) == 1 else "dimensions",
         r.tags.get(RANGE_START), r.tags.get(RANGE_END))
        for r in result.run_requests
    )


@pytest.fixture
def feeds(landing):
    return landing / "dist_perf_dw"


def test_new_and_changed_feed_files_request_exactly_what_they_affect(feeds):
    write_csv(feeds / "advisors" / "advisors.csv", ADVISOR_HEADER, ADVISORS)
    write_csv(feeds / "flows" / "flows_2025-03-14.csv", FLOW_HEADER,
              [("T1", "2025-03-14", "PURCHASE", 5000001, 101, SLCGX, 10.0, None)])
    write_parquet(feeds / "flows" / "week.parquet", FLOW_HEADER,
                  [("T2", "2025-03-17", "PURCHASE", "5000001", "101", SLCGX, "5", None),
                   ("T3", "2025-03-18", "PURCHASE", "5000001", "101", SLCGX, "5", None)])
    write_csv(feeds / "positions" / "positions_2025-03-14.csv", POSITION_HEADER,
              [("2025-03-14", 5000001, 101, SLCGX, 100.0)])
    write_csv(feeds / "expenses" / "expenses_2025-03-31.csv", EXPENSE_HEADER, [])  # header-only: the date empty
    with dg.instance_for_test() as instance:
        first = evaluate(dist_perf_dw_landed_feeds, instance)
        assert not first.run_requests and "waiting for advisors/advisors.csv: first seen" in (
            first.skip_reason.skip_message)
        settled = evaluate(dist_perf_dw_landed_feeds, instance, first.cursor)
        assert requested(settled) == sorted([
            ("dimensions", None, None),
            ("fact_aum_flows", "2025-03-14", "2025-03-14"), ("fact_aum_flows", "2025-03-17", "2025-03-18"),
            ("fact_revenue", "2025-03-14", LAST),
            ("fact_distribution_expense", "2025-03-31", "2025-03-31"),
        ])
        dimensions = next(r for r in settled.run_requests if len(r.asset_selection) > 1)
        assert set(dimensions.asset_selection) == {dist_perf_dw.table_key(t) for t in DIMENSION_TABLES}
        flows = next(r for r in settled.run_requests if r.asset_selection == [dist_perf_dw.table_key(
            "fact_aum_flows")])
        assert flows.run_config == {"ops": {"dist_perf_dw__fact_aum_flows": {"config": {"source": "landed"}}}}

        again = evaluate(dist_perf_dw_landed_feeds, instance, settled.cursor)
        assert not again.run_requests and "no new or changed feed files" in again.skip_reason.skip_message

        # A changed file requests the dates it holds now and held before; nothing else.
        write_parquet(feeds / "flows" / "week.parquet", FLOW_HEADER,
                      [("T2", "2025-03-17", "PURCHASE", "5000001", "101", SLCGX, "7", None)])
        changed = settled_tick(dist_perf_dw_landed_feeds, instance, again.cursor)
        assert requested(changed) == [("fact_aum_flows", "2025-03-17", "2025-03-18")]

        # A refused file is reported once, naming the file and the line, and requests nothing.
        write_csv(feeds / "flows" / "flows_2025-03-19.csv", FLOW_HEADER,
                  [("T9", "2025-03-19", "PURCHASE", 5000001, 101, SLCGX, -1.0, None)])
        refused = settled_tick(dist_perf_dw_landed_feeds, instance, changed.cursor)
        assert not refused.run_requests
        assert "refused, nothing requested: flows_2025-03-19.csv: line 2 ('-1.0'): amount must be positive" in (
            refused.skip_reason.skip_message)
        once = evaluate(dist_perf_dw_landed_feeds, instance, refused.cursor)
        assert "refused" not in once.skip_reason.skip_message


def test_a_changed_transaction_code_mapping_requests_every_flows_date_again(feeds):
    """The mapping decides how each flows file's codes read: a new, changed or bad mapping counts for every
    flows file (a bad one refused once), a master or fact file of another feed is not requested again."""
    write_csv(feeds / "flows" / "flows_2025-03-14.csv", FLOW_HEADER,
              [("T1", "2025-03-14", "BUY", 5000001, 101, SLCGX, 10.0, None)])
    write_csv(feeds / "flows" / "flows_2025-03-17.csv", FLOW_HEADER,
              [("T2", "2025-03-17", "PURCHASE", 5000001, 101, SLCGX, 5.0, None)])
    write_csv(feeds / "positions" / "positions_2025-03-14.csv", POSITION_HEADER,
              [("2025-03-14", 5000001, 101, SLCGX, 100.0)])
    mapping = feeds / "mappings" / "transaction_codes.csv"
    with dg.instance_for_test() as instance:
        unmapped = settled_tick(dist_perf_dw_landed_feeds, instance)
        # flows_2025-03-14.csv's BUY is not a transaction type yet: that file is refused (logged).
        assert requested(unmapped) == [("fact_aum_flows", "2025-03-17", "2025-03-17"),
                                       ("fact_revenue", "2025-03-14", LAST)]

        write_csv(mapping, ["source_code", "transaction_type_code"], [("BUY", "PURCHASE")])
        mapped = settled_tick(dist_perf_dw_landed_feeds, instance, unmapped.cursor)
        assert requested(mapped) == [("fact_aum_flows", "2025-03-14", "2025-03-14"),
                                     ("fact_aum_flows", "2025-03-17", "2025-03-17")]

        write_csv(mapping, ["source_code", "transaction_type_code"], [("BUY", "NOT_A_TYPE")])
        bad = settled_tick(dist_perf_dw_landed_feeds, instance, mapped.cursor)
        assert not bad.run_requests
        assert bad.skip_reason.skip_message.count("NOT_A_TYPE") == 1

        mapping.unlink()
        removed = settled_tick(dist_perf_dw_landed_feeds, instance, bad.cursor)
        assert requested(removed) == [("fact_aum_flows", "2025-03-17", "2025-03-17")]


def test_a_changed_snapshot_requests_the_dates_it_prices_until_the_next_snapshot():
    snapshots = {"2025-03-14", "2025-03-18", "2025-03-31"}
    assert priced_dates({"2025-03-14"}, snapshots, "2025-04-02") == {
        "2025-03-14", "2025-03-15", "2025-03-16", "2025-03-17"}
    assert priced_dates({"2025-03-31"}, snapshots, "2025-04-02") == {"2025-03-31", "2025-04-01", "2025-04-02"}
    # A snapshot removed from its file: the dates it priced are priced by the one before them again.
    assert priced_dates({"2025-03-20"}, snapshots - {"2025-03-20"}, "2025-04-02") == {
        f"2025-03-{d}" for d in range(20, 31)}
