"""dist_perf_dw on a distribution team's landed feeds, end to end through the Dagster assets on the
project's PostgreSQL: masters merged with stable keys and effective-dated assignments."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pipeline.assets import dist_perf_dw, dist_perf_dw_checks
from pipeline.dist_perf_dw.models import AdvisorAssignments, DimAdvisors, DimProducts, FactAUMFlow
from pipeline.dist_perf_dw.tables import DIMENSION_TABLES
from pipeline.resources.generation import GenerationSettings
from pipeline.sensors.landed_dist_perf_dw import dist_perf_dw_landed_feeds
from tests.dist_landed_files import (
    ADVISOR_HEADER,
    ADVISORS,
    EXPENSE_HEADER,
    FIRM_HEADER,
    FIRMS,
    FLOW_HEADER,
    POSITION_HEADER,
    PRODUCT_HEADER,
    PRODUCTS,
    WHOLESALER_HEADER,
    WHOLESALERS,
    cusip,
    write_csv,
    write_parquet,
    write_xlsx,
)
from tests.sensor_ticks import evaluate

pytestmark = pytest.mark.slow
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

ALL_ASSETS = dist_perf_dw.defs.assets


def landed_config(tables) -> dict:
    return {"ops": {f"dist_perf_dw__{table}": {"config": {"source": "landed"}} for table in tables}}


def materialize(instance, postgres, tables, expect_success=True, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS, selection=[dist_perf_dw.table_key(t) for t in tables],
        resources={"postgres": postgres, "generation": GenerationSettings()}, instance=instance,
        run_config=landed_config(tables), raise_on_error=expect_success, **kwargs,
    )


def land_masters(root, advisors=ADVISORS, firms=FIRMS):
    write_xlsx(root / "firms" / "crm_firms_2025-03-01.xlsx", FIRM_HEADER, firms)
    write_csv(root / "advisors" / "advisors_2025-03-20.csv", ADVISOR_HEADER, advisors)
    write_csv(root / "products" / "products.csv", PRODUCT_HEADER, PRODUCTS)
    write_csv(root / "wholesalers" / "wholesalers.csv", WHOLESALER_HEADER, WHOLESALERS)


@pytest.fixture
def dist_landing(landing):
    return landing / "dist_perf_dw"


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def postgres(fresh_postgres_database):
    return fresh_postgres_database("landed")


def failure(result) -> str:
    return result.get_step_failure_events()[0].event_specific_data.error.to_string()


def _metadata(result, table):
    return result.asset_materializations_for_node(f"dist_perf_dw__{table}")[0].metadata


def test_landed_dimensions_hold_the_landed_members_with_stable_keys_and_history(dist_landing, instance, postgres):
    land_masters(dist_landing)
    result = materialize(instance, postgres, DIMENSION_TABLES)
    with Session(postgres.get_engine()) as session:
        ann = session.query(DimAdvisors).filter_by(crd_number="5000001").one()
        assert (ann.firm.firm_name, ann.territory.territory_code, ann.firm.channel.channel_code) == (
            "Beacon Wealth Advisors", "SE2", "RIA")
        history = session.query(AdvisorAssignments).filter_by(advisor_id=ann.advisor_id).order_by(
            AdvisorAssignments.effective_date).all()
        assert [(a.effective_date, a.firm.crd_number, a.territory.territory_code) for a in history] == [
            (dt.date(2015, 1, 5), "101", "NE1"), (dt.date(2025, 3, 17), "202", "SE2")]
        assert session.query(DimProducts).filter_by(ticker="SLCGX").one().cusip == PRODUCTS[0][0]
        # Landed members only, no synthetic ones beside them; the Unassigned members are there.
        assert session.query(DimAdvisors).count() == 2
        counts = session.execute(sa.text(
            "SELECT (SELECT count(*) FROM dist_perf_dw.dim_firms), (SELECT count(*) FROM dist_perf_dw.dim_wholesalers),"
            " (SELECT territory_name FROM dist_perf_dw.dim_territories WHERE is_unassigned)")).one()
        assert tuple(counts) == (3, 4, "Unassigned")
    metadata = _metadata(result, "dim_advisors")
    assert metadata["moves_applied"].value == [
        "advisor 5000001 from 2025-03-17: Atlas Securities / NE1 -> Beacon Wealth Advisors / SE2"]
    assert "advisors_2025-03-20.csv | 3 |" in metadata["source_files"].value

    keys_before = postgres.read_frame("SELECT crd_number, advisor_id FROM dist_perf_dw.dim_advisors").sort("crd_number")
    # Re-landed in another order with a new advisor first and a new firm: no existing key changes.
    newcomer = (4000009, "Cy Dorn", 404, "WE1", dt.date(2005, 1, 3), dt.date(2020, 7, 1), "Emerging", True)
    land_masters(dist_landing, advisors=[newcomer, *reversed(ADVISORS)],
                 firms=[(404, "Driftwood Bank & Trust", "BANK", "WE", "CA", dt.date(2019, 1, 2), True), *FIRMS])
    again = materialize(instance, postgres, ["dim_firms", "dim_advisors"])
    keys_after = postgres.read_frame("SELECT crd_number, advisor_id FROM dist_perf_dw.dim_advisors").sort("crd_number")
    assert dict(keys_after.iter_rows()) == {**dict(keys_before.iter_rows()), "4000009": 3}
    assert _metadata(again, "dim_advisors")["members_added"].value == 1
    assert _metadata(again, "dim_advisors")["moves_applied"].value == []


def test_a_refused_master_fails_the_run_naming_file_line_and_value_and_changes_nothing(dist_landing, instance,
                                                                                     postgres):
    land_masters(dist_landing)
    materialize(instance, postgres, DIMENSION_TABLES)
    before = postgres.read_frame("SELECT * FROM dist_perf_dw.dim_advisors ORDER BY advisor_id")
    moved_to_nowhere = (5000002, "Bo Chen", 999, "MW2", dt.date(2010, 9, 1), dt.date(2025, 4, 1), "Core", True)
    write_csv(dist_landing / "advisors" / "advisors_2025-04-01.csv", ADVISOR_HEADER, [moved_to_nowhere])
    result = materialize(instance, postgres, ["dim_advisors"], expect_success=False)
    assert not result.success
    assert "advisors_2025-04-01.csv: line 2 ('999'): no firm with CRD 999 in dim_firms or firms/" in failure(result)
    after = postgres.read_frame("SELECT * FROM dist_perf_dw.dim_advisors ORDER BY advisor_id")
    assert after.equals(before)


# --------------------------------------------------------------------------- flows

SLCGX, SMA = PRODUCTS[0][0], PRODUCTS[1][0]
FRIDAY, MONDAY = "2025-03-14", "2025-03-17"  # Ann moves to Beacon / SE2 on the Monday
FRIDAY_FLOWS = [
    ("TA-1001", FRIDAY, "PURCHASE", 5000001, 101, SLCGX, 1_250_000.0, None),
    ("TA-1002", FRIDAY, "PURCHASE", 5000002, 303, SMA, 80_000.0, None),
    ("TA-1003", FRIDAY, "PURCHASE", 5000009, 303, SLCGX, 15_000.5, None),  # an advisor the CRM does not know yet
]
MONDAY_FLOWS = [
    ("TA-2001", MONDAY, "PURCHASE", "5000001", "202", SLCGX, "300000.00", None),
    ("TA-2002", MONDAY, "REDEMPTION", "5000001", "101", SLCGX, "50000.00", None),  # the record says Atlas
]


def flows_config(source="landed") -> dict:
    return {"ops": {"dist_perf_dw__fact_aum_flows": {"config": {"source": source}}}}


def load_flows(instance, postgres, partition=None, expect_success=True, **kwargs):
    return dg.materialize(
        ALL_ASSETS, selection=[dist_perf_dw.table_key("fact_aum_flows")],
        resources={"postgres": postgres, "generation": GenerationSettings()}, instance=instance,
        run_config=flows_config(), partition_key=partition, raise_on_error=expect_success, **kwargs,
    )


def check_flows(instance, postgres, day):
    """The flows_follow_effective_dated_assignments check of one date, run alone."""
    check, asset = dist_perf_dw_checks.flows_follow_assignments, dist_perf_dw.fact_aum_flows
    job = dg.define_asset_job("check_only", selection=dg.AssetSelection.checks(check),
                              partitions_def=asset.partitions_def)
    definitions = dg.Definitions(assets=[asset], asset_checks=[check], jobs=[job],
                                 resources={"postgres": postgres, "generation": GenerationSettings()})
    result = definitions.resolve_job_def("check_only").execute_in_process(
        instance=instance, tags={"dagster/partition": day})
    return result.get_asset_check_evaluations()[0]


def flows_of(postgres, day) -> list[tuple]:
    return postgres.read_frame(
        "SELECT f.source_transaction_id, a.crd_number, fi.crd_number AS firm, w.employee_code, f.net_amount "
        "FROM dist_perf_dw.fact_aum_flows f JOIN dist_perf_dw.dim_advisors a USING (advisor_id) "
        "JOIN dist_perf_dw.dim_firms fi ON fi.firm_id = f.firm_id "
        "JOIN dist_perf_dw.dim_wholesalers w ON w.wholesaler_id = f.wholesaler_id "
        "WHERE f.flow_date = :day ORDER BY 1", {"day": dt.date.fromisoformat(day)},
    ).rows()


@pytest.fixture
def with_flows(dist_landing, instance, postgres):
    land_masters(dist_landing)
    materialize(instance, postgres, DIMENSION_TABLES)
    write_csv(dist_landing / "flows" / f"ta_flows_{FRIDAY}.csv", FLOW_HEADER, FRIDAY_FLOWS)
    write_parquet(dist_landing / "flows" / "ta_flows_week_12.parquet", FLOW_HEADER, MONDAY_FLOWS)
    return dist_landing


def test_flows_keep_the_attribution_in_force_on_their_date_and_late_advisors_are_completed(
    with_flows, instance, postgres
):
    friday = load_flows(instance, postgres, FRIDAY)
    monday = load_flows(instance, postgres, MONDAY)
    assert flows_of(postgres, FRIDAY) == [
        ("TA-1001", "5000001", "101", "W100", Decimal("1250000.00")),  # before the move: Atlas, NE1's wholesaler
        ("TA-1002", "5000002", "303", "W300", Decimal("80000.00")),
        ("TA-1003", "5000009", "303", "UNASSIGNED", Decimal("15000.50")),
    ]
    assert flows_of(postgres, MONDAY) == [
        ("TA-2001", "5000001", "202", "W200", Decimal("300000.00")),  # after the move: Beacon, SE2's wholesaler
        ("TA-2002", "5000001", "101", "W200", Decimal("-50000.00")),  # the record's firm wins, reported
    ]
    friday_metadata = _metadata(friday, "fact_aum_flows")
    assert friday_metadata["inferred_advisors_created"].value == ["5000009"]
    assert friday_metadata["flows_to_unassigned"].value == 1
    assert f"ta_flows_{FRIDAY}.csv (3)" in friday_metadata["landed_dates"].value
    assert "sha256" in friday_metadata["source_files"].value
    monday_metadata = _metadata(monday, "fact_aum_flows")
    assert monday_metadata["record_firm_differs"].value == 1
    assert "TA-2002 names firm 101, the master has advisor 5000001 at firm 202" in (
        monday_metadata["record_firm_differs_examples"].value[0])
    # Reports by firm add up to the flows across the move; the ORM answers both questions.
    by_firm = postgres.read_frame(
        "SELECT fi.firm_name, sum(f.net_amount) AS net FROM dist_perf_dw.fact_aum_flows f "
        "JOIN dist_perf_dw.dim_firms fi USING (firm_id) GROUP BY 1 ORDER BY 1").rows()
    assert by_firm == [("Atlas Securities", Decimal("1200000.00")), ("Beacon Wealth Advisors", Decimal("300000.00")),
                       ("Cedar Financial", Decimal("95000.50"))]
    with Session(postgres.get_engine()) as session:
        first = session.query(FactAUMFlow).filter_by(source_transaction_id="TA-1001").one()
        assert (first.firm.firm_name, first.advisor.firm.firm_name) == ("Atlas Securities", "Beacon Wealth Advisors")
        late = session.query(DimAdvisors).filter_by(crd_number="5000009").one()
        assert (late.advisor_name, late.is_inferred, late.territory.territory_name) == (
            "Unknown advisor 5000009", True, "Unassigned")
        late_key = late.advisor_id

    # The CRM catches up: the same key is completed in place, and the dates credited to Unassigned are named.
    write_csv(with_flows / "advisors" / "advisors_2025-03-21.csv", ADVISOR_HEADER,
              [(5000009, "Dee Ortiz", 303, "MW1", dt.date(2012, 1, 3), dt.date(2019, 5, 6), "Emerging", True)])
    completed = materialize(instance, postgres, ["dim_advisors"])
    assert _metadata(completed, "dim_advisors")["inferred_completed"].value == ["5000009"]
    assert _metadata(completed, "dim_advisors")["dates_to_reload"].value == [FRIDAY]
    # Until the date is loaded again its attribution is stale: the check names it; the sensor requests it.
    stale = check_flows(instance, postgres, FRIDAY)
    assert not stale.passed and stale.metadata["dates_to_reload"].value == [FRIDAY]
    assert "TA-1003" in stale.metadata["failing_rows_sample"].value
    tick = evaluate(dist_perf_dw_landed_feeds, instance)
    assert [(r.asset_selection, r.tags.get(RANGE_START), r.tags.get(RANGE_END)) for r in tick.run_requests] == [
        ([dist_perf_dw.table_key("fact_aum_flows")], FRIDAY, FRIDAY)]
    reloaded = _metadata(load_flows(instance, postgres, FRIDAY), "fact_aum_flows")
    assert flows_of(postgres, FRIDAY)[2] == ("TA-1003", "5000009", "303", "W300", Decimal("15000.50"))
    assert check_flows(instance, postgres, FRIDAY).passed
    monday_check = check_flows(instance, postgres, MONDAY)
    assert monday_check.passed and monday_check.metadata["record_firm_differs"].value == 1
    assert (reloaded["restated"].value, reloaded["rows_before"].value) == (True, 3)
    assert reloaded["net_flows_before_usd"].value == reloaded["net_flows_usd"].value == 1_345_000.5
    with Session(postgres.get_engine()) as session:
        dee = session.query(DimAdvisors).filter_by(crd_number="5000009").one()
        assert (dee.advisor_id, dee.advisor_name, dee.is_inferred) == (late_key, "Dee Ortiz", False)
    # The reload kept the rows it replaced (issue 18): version 1 is Friday's first load, TA-1003 still
    # credited to Unassigned there; both versions name the file and its SHA-256 as their source.
    versions = postgres.partition_versions("fact_aum_flows", dt.date.fromisoformat(FRIDAY))
    assert [(v.version, v.state, v.rows, v.run_id) for v in versions][0] == (1, "kept", 3, friday.run_id)
    assert [(v.version, v.state, v.rows) for v in versions][1:] == [(2, "live", 3)]
    sha256 = hashlib.sha256((with_flows / "flows" / f"ta_flows_{FRIDAY}.csv").read_bytes()).hexdigest()
    assert {v.source for v in versions} == {f"landed: ta_flows_{FRIDAY}.csv (3 rows, sha256 {sha256})"}
    kept = postgres.read_frame(
        "SELECT h.source_transaction_id, w.employee_code FROM dist_perf_dw.fact_aum_flows_history h "
        "JOIN dist_perf_dw.dim_wholesalers w USING (wholesaler_id) WHERE h.flow_date = :day AND h.version = 1 "
        "ORDER BY 1", {"day": dt.date.fromisoformat(FRIDAY)}).rows()
    assert kept == [("TA-1001", "W100"), ("TA-1002", "W300"), ("TA-1003", "UNASSIGNED")]
    assert reloaded["dist_perf_dw/version"].value == 2


def _day(postgres, day):
    return postgres.read_frame(
        "SELECT * FROM dist_perf_dw.fact_aum_flows WHERE flow_date = :day ORDER BY flow_id",
        {"day": dt.date.fromisoformat(day)})


def test_every_refusal_names_what_to_fix_and_leaves_the_loaded_date_as_it_was(with_flows, instance, postgres):
    load_flows(instance, postgres, FRIDAY)
    loaded = _day(postgres, FRIDAY)
    folder = with_flows / "flows"
    good = folder / f"ta_flows_{FRIDAY}.csv"
    cases = {
        "unknown CUSIP": ([("TA-1001", FRIDAY, "PURCHASE", 5000001, 101, cusip("99999910"), 10.0, None)],
                          f"ta_flows_{FRIDAY}.csv: line 2 ('{cusip('99999910')}'): no product with this CUSIP"),
        "unknown firm": ([("TA-1001", FRIDAY, "PURCHASE", 5000001, 777, SLCGX, 10.0, None)],
                         "line 2 ('777'): no firm with this CRD in dim_firms"),
        "negative amount": ([("TA-1001", FRIDAY, "PURCHASE", 5000001, 101, SLCGX, -10.0, None)],
                            "line 2 ('-10.0'): amount must be positive USD"),
        "unknown code": ([("TA-1001", FRIDAY, "BUY", 5000001, 101, SLCGX, 10.0, None)],
                         "line 2 ('BUY'): unknown transaction_code: use one of PURCHASE"),
        "another date": ([("TA-1001", "2025-03-13", "PURCHASE", 5000001, 101, SLCGX, 10.0, None)],
                         f"line 2 ('2025-03-13'): the file's name says it holds {FRIDAY}"),
    }
    for name, (rows, message) in cases.items():
        write_csv(good, FLOW_HEADER, rows)
        result = load_flows(instance, postgres, FRIDAY, expect_success=False)
        assert not result.success, name
        assert message in failure(result), (name, failure(result))
        assert _day(postgres, FRIDAY).equals(loaded), name

    write_csv(good, FLOW_HEADER, FRIDAY_FLOWS)
    write_csv(folder / "ta_flows_late_batch.csv.gz", FLOW_HEADER, [FRIDAY_FLOWS[1]], gz=True)
    result = load_flows(instance, postgres, FRIDAY, expect_success=False)
    assert (f"transaction_id 'TA-1002' on {FRIDAY} is in ta_flows_{FRIDAY}.csv line 3 and "
            "ta_flows_late_batch.csv.gz line 2") in failure(result)
    (folder / "ta_flows_late_batch.csv.gz").unlink()

    write_csv(folder / "missing_column.csv", FLOW_HEADER[:-2], [r[:-2] for r in FRIDAY_FLOWS])
    result = load_flows(instance, postgres, FRIDAY, expect_success=False)
    assert "missing_column.csv: missing required column(s) amount" in failure(result)
    (folder / "missing_column.csv").unlink()

    result = load_flows(instance, postgres, "2025-03-18", expect_success=False)
    assert f"no landed flows for 2025-03-18 in {folder}" in failure(result)
    assert _day(postgres, FRIDAY).equals(loaded)

    write_csv(folder / f"ta_flows_{MONDAY}.csv", FLOW_HEADER, [("TA-1001", MONDAY, "PURCHASE", 5000001, 202, SLCGX,
                                                                  10.0, None)])
    result = load_flows(instance, postgres, MONDAY, expect_success=False)
    assert f"transaction_id 'TA-1001' is already loaded on {FRIDAY}" in failure(result)
    assert _day(postgres, MONDAY).is_empty()
    (folder / f"ta_flows_{MONDAY}.csv").unlink()

    # A weekend loads empty; a header-only file named with a business day declares it empty.
    assert load_flows(instance, postgres, "2025-03-15").success
    write_csv(folder / "ta_flows_2025-03-18.csv", FLOW_HEADER, [])
    assert load_flows(instance, postgres, "2025-03-18").success and _day(postgres, "2025-03-18").is_empty()


# --------------------------------------------------------------------------- revenue, retention, comp, expenses


def load(instance, postgres, table, partition, expect_success=True, config=None):
    return dg.materialize(
        ALL_ASSETS, selection=[dist_perf_dw.table_key(table)],
        resources={"postgres": postgres, "generation": GenerationSettings()}, instance=instance,
        run_config={"ops": {f"dist_perf_dw__{table}": {"config": {"source": "landed", **(config or {})}}}},
        partition_key=partition, raise_on_error=expect_success,
    )


def test_revenue_retention_comp_and_expenses_follow_the_landed_flows(with_flows, instance, postgres):
    # Two purchases of one product on Friday, one redemption on Monday that relieves the first and part of the second.
    write_csv(with_flows / "flows" / f"ta_flows_{FRIDAY}.csv", FLOW_HEADER, [
        ("TA-1001", FRIDAY, "PURCHASE", 5000001, 101, SLCGX, 100_000.0, None),
        ("TA-1004", FRIDAY, "PURCHASE", 5000001, 101, SLCGX, 60_000.0, None),
    ])
    write_parquet(with_flows / "flows" / "ta_flows_week_12.parquet", FLOW_HEADER,
                  [("TA-2002", MONDAY, "REDEMPTION", "5000001", "202", SLCGX, "130,000.00", None)])
    load_flows(instance, postgres, FRIDAY)
    load_flows(instance, postgres, MONDAY)

    retention = load(instance, postgres, "fact_retention_snapshots", "2025-04-13")
    assert postgres.read_frame(
        "SELECT f.source_transaction_id, r.age_days, r.redeemed_amount, r.retained_amount, r.retention_pct "
        "FROM dist_perf_dw.fact_retention_snapshots r JOIN dist_perf_dw.fact_aum_flows f USING (flow_id) ORDER BY 1"
    ).rows() == [("TA-1001", 30, Decimal("100000.00"), Decimal("0.00"), Decimal("0.00")),
                 ("TA-1004", 30, Decimal("30000.00"), Decimal("30000.00"), Decimal("50.00"))]
    assert _metadata(retention, "fact_retention_snapshots")["retention_pct"].value == 18.75

    write_csv(with_flows / "positions" / f"positions_{FRIDAY}.csv", POSITION_HEADER, [
        (FRIDAY, 5000001, 101, SLCGX, 1_000_000.0), (FRIDAY, 5000002, 303, SMA, 80_000.0),
    ])
    revenue = load(instance, postgres, "fact_revenue", "2025-03-15", config={"as_of_date": "2025-04-30"})
    assert postgres.read_frame(
        "SELECT a.crd_number, r.aum_amount, r.net_flow_amount, r.revenue_amount, r.is_estimate "
        "FROM dist_perf_dw.fact_revenue r JOIN dist_perf_dw.dim_advisors a USING (advisor_id) ORDER BY 1"
    ).rows() == [("5000001", Decimal("1000000.00"), Decimal("0.00"), Decimal("17.81"), False),
                 ("5000002", Decimal("80000.00"), Decimal("0.00"), Decimal("0.77"), False)]
    assert f"positions_{FRIDAY}.csv" in _metadata(revenue, "fact_revenue")["landed_dates"].value
    load(instance, postgres, "fact_revenue", FRIDAY, config={"as_of_date": "2025-04-30"})
    assert postgres.read_frame(
        "SELECT aum_amount, net_flow_amount FROM dist_perf_dw.fact_revenue r JOIN dist_perf_dw.dim_advisors a "
        "USING (advisor_id) WHERE revenue_date = :day AND a.crd_number = '5000001'",
        {"day": dt.date.fromisoformat(FRIDAY)}).row(0) == (Decimal("840000.00"), Decimal("160000.00"))

    # Compensation across Ann's move: Friday's purchases credit W100 (NE1), Monday's redemption W200 (SE2).
    load(instance, postgres, "fact_wholesaler_comp", "2025-03-01")
    assert postgres.read_frame(
        "SELECT w.employee_code, c.base_salary_amount, c.gross_sales_amount, c.net_flow_amount, c.incentive_amount "
        "FROM dist_perf_dw.fact_wholesaler_comp c JOIN dist_perf_dw.dim_wholesalers w USING (wholesaler_id) "
        "ORDER BY 1"
    ).rows() == [
        ("UNASSIGNED", Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        ("W100", Decimal("10000.01"), Decimal("160000.00"), Decimal("160000.00"), Decimal("160.00")),
        ("W200", Decimal("10833.33"), Decimal("0.00"), Decimal("-130000.00"), Decimal("0.00")),
        ("W300", Decimal("10416.67"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
    ]

    write_csv(with_flows / "expenses" / "expenses_march.csv", EXPENSE_HEADER, [
        ("EXP-7", FRIDAY, "W300", "LODGING", "1,250.40", None), ("EXP-8", FRIDAY, "W100", "CLIENT_MEAL", 150.0, 101),
    ])
    load(instance, postgres, "fact_distribution_expense", FRIDAY)
    assert postgres.read_frame(
        "SELECT w.employee_code, t.territory_code, e.amount, e.firm_id IS NOT NULL AS client "
        "FROM dist_perf_dw.fact_distribution_expense e JOIN dist_perf_dw.dim_wholesalers w USING (wholesaler_id) "
        "JOIN dist_perf_dw.dim_territories t ON t.territory_id = e.territory_id ORDER BY 1"
    ).rows() == [("W100", "NE1", Decimal("150.00"), True), ("W300", "MW1", Decimal("1250.40"), False)]
    assert load(instance, postgres, "fact_distribution_expense", MONDAY).success  # no rows: loads empty

    # Refusals leave the loaded dates as they were.
    revenue_before = postgres.read_frame("SELECT * FROM dist_perf_dw.fact_revenue ORDER BY 1, 2, 3")
    write_csv(with_flows / "positions" / f"positions_{FRIDAY}.csv", POSITION_HEADER,
              [(FRIDAY, 5000001, 101, cusip("99999910"), 1.0)])
    refused = load(instance, postgres, "fact_revenue", FRIDAY, expect_success=False)
    assert f"positions_{FRIDAY}.csv: line 2 ('{cusip('99999910')}'): no product with this CUSIP" in failure(refused)
    refused = load(instance, postgres, "fact_revenue", "2025-03-13", expect_success=False)
    assert "no positions snapshot on or before 2025-03-13" in failure(refused)
    assert postgres.read_frame("SELECT * FROM dist_perf_dw.fact_revenue ORDER BY 1, 2, 3").equals(revenue_before)
    expenses_before = postgres.read_frame("SELECT * FROM dist_perf_dw.fact_distribution_expense ORDER BY 1")
    write_csv(with_flows / "expenses" / "expenses_march.csv", EXPENSE_HEADER,
              [("EXP-7", FRIDAY, "W999", "LODGING", 5.0, None)])
    refused = load(instance, postgres, "fact_distribution_expense", FRIDAY, expect_success=False)
    assert "expenses_march.csv: line 2 ('W999'): no wholesaler with this employee code" in failure(refused)
    assert postgres.read_frame("SELECT * FROM dist_perf_dw.fact_distribution_expense ORDER BY 1").equals(
        expenses_before)
