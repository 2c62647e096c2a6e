"""Pure tests of the facts derived from landed feeds: FIFO retention, revenue from a position,
compensation rounded half up, expenses (no Dagster, no database)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.dist_perf_dw.dimensions.transaction_types import transaction_types
from pipeline.dist_perf_dw.landed.facts import (
    comp_rows,
    expense_rows,
    expenses_of,
    fifo_redeemed,
    positions_snapshot,
    read_fact_file,
    retention_rows,
    revenue_rows,
)
from pipeline.dist_perf_dw.landed.feeds import EXPENSES, POSITIONS
from pipeline.dist_perf_dw.landed.members import UNASSIGNED_ID
from pipeline.dist_perf_dw.tables import polars_schema
from pipeline.dist_perf_dw.vocabulary import TRANSACTION_TYPE_ID
from pipeline.landed_files.folders import LandedFileError
from tests.dist_landed_files import EXPENSE_HEADER, POSITION_HEADER, write_csv, write_xlsx
from tests.test_dist_landed_flows import SLCGX, _dims, _frame

D = dt.date
PURCHASE, REDEMPTION = TRANSACTION_TYPE_ID["PURCHASE"], TRANSACTION_TYPE_ID["REDEMPTION"]


def _flows(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"flow_id": pl.Int64, "flow_date": pl.Date, "advisor_id": pl.Int32,
                                      "product_id": pl.Int32, "channel_id": pl.Int32, "wholesaler_id": pl.Int32,
                                      "transaction_type_id": pl.Int32, "amount": pl.Float64}, orient="row")


def test_redemptions_relieve_purchases_first_in_first_out():
    flows = _flows([
        (1, D(2025, 3, 14), 1, 1, 1, 1, PURCHASE, 100_000.0),
        (2, D(2025, 3, 14), 1, 1, 1, 1, PURCHASE, 60_000.0),
        (3, D(2025, 3, 14), 1, 2, 1, 1, PURCHASE, 10_000.0),  # another product: untouched
        (4, D(2025, 3, 17), 1, 1, 1, 2, REDEMPTION, 130_000.0),
        (5, D(2025, 5, 1), 1, 1, 1, 2, REDEMPTION, 1_000.0),  # after the snapshot
    ])
    assert fifo_redeemed(flows, D(2025, 4, 13)) == {1: 100_000.0, 2: 30_000.0, 3: 0.0}
    snapshot = retention_rows(D(2025, 4, 13), flows)  # 30 days after the purchases
    assert snapshot.select("flow_id", "age_days", "redeemed_amount", "retained_amount", "retention_pct").rows() == [
        (1, 30, 100_000.0, 0.0, 0.0), (2, 30, 30_000.0, 30_000.0, 50.0), (3, 30, 0.0, 10_000.0, 100.0)]
    # A redemption before a purchase cannot relieve it.
    early = _flows([(1, D(2025, 3, 10), 1, 1, 1, 1, REDEMPTION, 5.0), (2, D(2025, 3, 14), 1, 1, 1, 1, PURCHASE, 10.0)])
    assert fifo_redeemed(early, D(2025, 4, 13)) == {2: 0.0}


def test_revenue_accrues_on_the_latest_snapshot_and_aum_plus_flows_is_the_market_value(tmp_path):
    folder = tmp_path / "positions"
    write_xlsx(folder / "positions_2025-03-14.xlsx", POSITION_HEADER,
               [(D(2025, 3, 14), 5000001, 202, SLCGX, 1_000_000), (D(2025, 3, 14), 6000002, 101, SLCGX, 50_000.5)])
    files = [read_fact_file(p, POSITIONS) for p in sorted(folder.iterdir())]
    saturday = positions_snapshot(files, D(2025, 3, 15), folder)
    assert saturday.day == D(2025, 3, 14)
    flows = pl.DataFrame({"advisor_id": [1, 1], "product_id": [1, 2], "firm_id": [2, 2], "channel_id": [3, 3],
                          "wholesaler_id": [3, 3], "net_amount": [160_000.0, -5_000.0]})
    dims = _dims()
    dims["dim_products"] = pl.concat([dims["dim_products"], dims["dim_products"].with_columns(
        product_id=pl.lit(2, dtype=pl.Int32), product_name=pl.lit("Summit Bond"), ticker=None, cusip=None)])
    revenue, inferred, report = revenue_rows(saturday, D(2025, 3, 17), dims, flows, as_of=D(2025, 3, 20))
    # Product 2 was redeemed in full that day (not in the snapshot): its AUM was the redemption, revenue 0.
    assert revenue.select("advisor_id", "product_id", "aum_amount", "net_flow_amount", "revenue_amount",
                          "wholesaler_id", "is_estimate").rows() == [
        (1, 1, 840_000.0, 160_000.0, 17.81, 3, True), (1, 2, 5_000.0, -5_000.0, 0.0, 3, True),
        (2, 1, 50_000.5, 0.0, 0.89, UNASSIGNED_ID, True)]
    assert inferred["advisor_name"].to_list() == ["Unknown advisor 6000002"] and report.unassigned_rows == 1
    with pytest.raises(LandedFileError, match="no positions snapshot on or before 2025-03-13"):
        positions_snapshot(files, D(2025, 3, 13), folder)


def test_base_salary_is_a_twelfth_rounded_half_up_and_only_hired_wholesalers_are_paid():
    wholesalers = _frame("dim_wholesalers", [
        {"wholesaler_id": 1, "wholesaler_name": "Wes", "employee_code": "W100", "territory_id": 1, "team_name": "NE",
         "hire_date": D(2015, 1, 5), "annual_base_salary": 120_000.06, "incentive_rate": 0.001,
         "is_unassigned": False},
        {"wholesaler_id": 2, "wholesaler_name": "New", "employee_code": "W900", "territory_id": 1, "team_name": "NE",
         "hire_date": D(2025, 4, 1), "annual_base_salary": 99_000.0, "incentive_rate": 0.001, "is_unassigned": False},
    ])
    flows = pl.DataFrame({"wholesaler_id": [1, 1], "transaction_type_id": [PURCHASE, REDEMPTION],
                          "amount": [100_000.0, 40_000.0], "net_amount": [100_000.0, -40_000.0]})
    comp = comp_rows(D(2025, 3, 1), wholesalers, transaction_types(), flows)
    # 120,000.06 / 12 = 10,000.005: half up is 10,000.01 (half to even would give 10,000.00).
    assert comp.select("wholesaler_id", "base_salary_amount", "gross_sales_amount", "net_flow_amount",
                       "incentive_amount", "total_comp_amount").rows() == [
        (1, 10_000.01, 100_000.0, 60_000.0, 60.0, 10_060.01)]


def test_expenses_take_the_wholesalers_territory_on_their_date(tmp_path):
    folder = tmp_path / "expenses"
    write_csv(folder / "expenses_2025-03-14.csv", EXPENSE_HEADER,
              [("E-2", D(2025, 3, 14), "W100", "CLIENT_MEAL", 150.0, 101), ("E-1", D(2025, 3, 14), "w100", "AIRFARE",
                                                                             1_200.0, None)])
    files = [read_fact_file(folder / "expenses_2025-03-14.csv", EXPENSES)]
    dims = {**_dims(), "dim_wholesalers": _frame("dim_wholesalers", [
        {"wholesaler_id": 1, "wholesaler_name": "Wes", "employee_code": "W100", "territory_id": 1, "team_name": "NE",
         "hire_date": D(2015, 1, 5), "annual_base_salary": 1.0, "incentive_rate": 0.001, "is_unassigned": False}])}
    rows = expense_rows(expenses_of(files, D(2025, 3, 14)), dims)
    assert rows.select("wholesaler_id", "territory_id", "expense_type_id", "expense_category_id", "firm_id",
                       "amount").rows() == [(1, 1, 1, 1, None, 1_200.0), (1, 1, 4, 1, 1, 150.0)]
    assert expense_rows(expenses_of(files, D(2025, 3, 17)), dims).is_empty()  # a date without rows loads empty
    write_csv(folder / "expenses_2025-03-14.csv", EXPENSE_HEADER, [("E-3", D(2025, 3, 14), "W404", "AIRFARE", 9.0,
                                                                      None)])
    files = [read_fact_file(folder / "expenses_2025-03-14.csv", EXPENSES)]
    with pytest.raises(LandedFileError, match=r"line 2 \('W404'\): no wholesaler with this employee code"):
        expense_rows(expenses_of(files, D(2025, 3, 14)), dims)


def test_schema_of_empty_results():
    assert retention_rows(D(2025, 4, 13), _flows([])).schema == pl.Schema(polars_schema("fact_retention_snapshots"))
