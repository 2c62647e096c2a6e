"""Pure tests of a landed flows date: the files holding it, the mapping of source codes, and the
resolution against effective-dated assignments (no Dagster, no database)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.dist_perf_dw.landed.flows import (
    NoLandedFlowsError,
    covering_wholesalers,
    flow_day,
    read_flow_file,
    read_transaction_code_mapping,
    resolve_flows,
)
from pipeline.dist_perf_dw.landed.members import UNASSIGNED_ID
from pipeline.dist_perf_dw.tables import polars_schema
from pipeline.landed_files.folders import LandedFileError
from tests.dist_landed_files import FLOW_HEADER, PRODUCTS, cusip, write_csv, write_parquet

D = dt.date
SLCGX = PRODUCTS[0][0]


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(table), orient="row") if rows else pl.DataFrame(
        schema=polars_schema(table))


def _dims() -> dict[str, pl.DataFrame]:
    firms = [
        {"firm_id": 1, "firm_name": "Atlas", "crd_number": "101", "firm_type_id": 1, "channel_id": 1, "region_id": 1,
         "headquarters_state": "NY", "relationship_start_date": D(2010, 1, 4), "is_active": True},
        {"firm_id": 2, "firm_name": "Beacon", "crd_number": "202", "firm_type_id": 4, "channel_id": 3, "region_id": 2,
         "headquarters_state": "FL", "relationship_start_date": D(2015, 6, 1), "is_active": True},
    ]
    product = {"product_id": 1, "product_name": "Summit LCG", "ticker": "SLCGX", "asset_class_id": 1,
               "vehicle_type_id": 1, "management_fee_rate": 0.0065, "inception_date": D(2001, 1, 2),
               "is_active": True, "cusip": SLCGX}
    ann = {"advisor_id": 1, "advisor_name": "Ann", "crd_number": "5000001", "firm_id": 2, "territory_id": 6,
           "career_start_date": D(2001, 5, 1), "firm_start_date": D(2025, 3, 17), "segment": "Core",
           "is_active": True, "is_inferred": False}
    return {
        "dim_firms": _frame("dim_firms", firms),
        "dim_products": _frame("dim_products", [product]),
        "dim_advisors": _frame("dim_advisors", [ann]),
        "advisor_assignments": _frame("advisor_assignments", [
            {"advisor_id": 1, "effective_date": D(2015, 1, 5), "firm_id": 1, "territory_id": 1},
            {"advisor_id": 1, "effective_date": D(2025, 3, 17), "firm_id": 2, "territory_id": 6},
        ]),
        # Territory 1 has two wholesalers: the one there longest covers it; W3 moves into 6 on 2025-03-17.
        "wholesaler_assignments": _frame("wholesaler_assignments", [
            {"wholesaler_id": 1, "effective_date": D(2015, 1, 5), "territory_id": 1},
            {"wholesaler_id": 2, "effective_date": D(2019, 1, 7), "territory_id": 1},
            {"wholesaler_id": 3, "effective_date": D(2016, 4, 1), "territory_id": 2},
            {"wholesaler_id": 3, "effective_date": D(2025, 3, 17), "territory_id": 6},
        ]),
    }


def _day(tmp_path, rows, day, mapping=None):
    path = write_csv(tmp_path / "flows" / f"flows_{day}.csv", FLOW_HEADER, rows)
    return flow_day([read_flow_file(path, mapping or {})], day, tmp_path / "flows")


def test_a_flow_takes_the_territory_and_wholesaler_in_force_on_its_date(tmp_path):
    before = D(2025, 3, 14)
    fact, new, report = resolve_flows(_day(tmp_path, [("T1", before, "PURCHASE", 5000001, 101, SLCGX, 100.0, None)],
                                           before), _dims())
    assert fact.select("firm_id", "channel_id", "wholesaler_id", "net_amount").row(0) == (1, 1, 1, 100.0)
    after = D(2025, 3, 17)
    fact, new, report = resolve_flows(_day(tmp_path, [
        ("T2", after, "REDEMPTION", 5000001, 101, SLCGX, 40.0, None),  # the record still says Atlas
        ("T3", after, "EXCHANGE_OUT", 5000001, 202, SLCGX, 5.0, "T4"),
        ("T4", after, "EXCHANGE_IN", 5000001, 202, SLCGX, 5.0, "T3"),
    ], after), _dims())
    assert fact.select("source_transaction_id", "firm_id", "wholesaler_id", "net_amount").rows() == [
        ("T2", 1, 3, -40.0), ("T3", 2, 3, -5.0), ("T4", 2, 3, 5.0)]
    ids = dict(zip(fact["source_transaction_id"], fact["flow_id"]))
    assert fact["related_flow_id"].to_list() == [None, ids["T4"], ids["T3"]]
    assert report.firm_disagreement_count == 1 and new.is_empty()


def test_an_unknown_advisor_is_inferred_and_credited_to_unassigned(tmp_path):
    day = D(2025, 3, 14)
    fact, new, report = resolve_flows(_day(tmp_path, [("T1", day, "PURCHASE", 6000001, 202, SLCGX, 10.0, None)], day),
                                      _dims())
    assert new.select("advisor_id", "advisor_name", "firm_id", "territory_id", "is_inferred").row(0) == (
        2, "Unknown advisor 6000001", 2, UNASSIGNED_ID, True)
    assert fact.select("advisor_id", "wholesaler_id").row(0) == (2, UNASSIGNED_ID)
    assert report.inferred_advisors == ["6000001"] and report.unassigned_flows == 1


def test_source_codes_are_mapped_and_unknown_ones_refused(tmp_path):
    day = D(2025, 3, 14)
    write_csv(tmp_path / "mappings" / "transaction_codes.csv", ["source_code", "transaction_type_code"],
              [("BUY", "PURCHASE"), ("SELL", "REDEMPTION")])
    mapping = read_transaction_code_mapping(tmp_path)
    fact, *_ = resolve_flows(_day(tmp_path, [("T1", day, "sell", 5000001, 101, SLCGX, 10.0, None)], day, mapping),
                             _dims())
    assert fact["net_amount"].to_list() == [-10.0]
    with pytest.raises(LandedFileError, match=r"line 2 \('SWITCH'\): unknown transaction_code"):
        _day(tmp_path, [("T1", day, "SWITCH", 5000001, 101, SLCGX, 10.0, None)], day, mapping)


def test_a_date_is_all_files_holding_it_and_a_missing_business_day_is_refused(tmp_path):
    day = D(2025, 3, 14)
    one = read_flow_file(write_csv(tmp_path / "flows" / "a.csv", FLOW_HEADER,
                                   [("T1", day, "PURCHASE", 5000001, 101, SLCGX, 10.0, None),
                                    ("T2", D(2025, 3, 17), "PURCHASE", 5000001, 101, SLCGX, 1.0, None)]), {})
    two = read_flow_file(write_parquet(tmp_path / "flows" / "b.parquet", FLOW_HEADER,
                                       [["T9", str(day), "PURCHASE", "5000001", "101", cusip("86000110"), "2.5",
                                         None]]), {})
    both = flow_day([one, two], day, tmp_path)
    assert both.rows["transaction_id"].sort().to_list() == ["T1", "T9"]
    assert flow_day([one, two], D(2025, 3, 17), tmp_path).rows.height == 1
    assert flow_day([one, two], D(2025, 3, 15), tmp_path).rows.is_empty()  # a Saturday
    with pytest.raises(NoLandedFlowsError, match="no landed flows for 2025-03-18"):
        flow_day([one, two], D(2025, 3, 18), tmp_path)
    covering = covering_wholesalers(_dims()["wholesaler_assignments"], D(2025, 3, 14))
    assert dict(covering.iter_rows()) == {1: 1, 2: 3}


def test_the_loaded_total_is_summed_in_whole_cents_or_left_to_the_table():
    """NUMERIC(18, 2) stores whole cents unchanged: their sum is exact as integer cents (a float sum of
    1M amounts could be off in the last cent); a value with a fraction of a cent is the table's to round."""
    from decimal import Decimal

    from pipeline.assets.dist_perf_dw_landed import _loaded_totals

    amounts = [0.1] * 10 + [-0.3, 1250000.07]
    exact = sum(Decimal(str(a)) for a in amounts)  # 1250000.77, as PostgreSQL's NUMERIC sums them
    assert _loaded_totals(pl.DataFrame({"net_amount": amounts})) == (12, float(exact))
    assert _loaded_totals(pl.DataFrame({"net_amount": [0.125, 1.0]})) is None
    assert _loaded_totals(pl.DataFrame({"net_amount": []}, schema={"net_amount": pl.Float64})) == (0, 0.0)
