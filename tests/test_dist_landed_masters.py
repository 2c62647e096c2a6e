"""Pure tests of dist_perf_dw's landed masters: the readers (CSV with BOM/CRLF and quoted amounts,
CSV.gz, XLSX with typed cells, Parquet), their refusals, and the merge rules (stable surrogate keys,
effective-dated assignments, inferred advisors completed in place)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipeline.dist_perf_dw.landed import members
from pipeline.dist_perf_dw.landed.feeds import feed_files
from pipeline.dist_perf_dw.landed.masters import MASTERS, read_master_folder
from pipeline.dist_perf_dw.tables import polars_schema
from pipeline.landed_files.folders import LandedFileError
from tests.dist_landed_files import (
    ADVISOR_HEADER,
    ADVISORS,
    FIRM_HEADER,
    FIRMS,
    PRODUCT_HEADER,
    PRODUCTS,
    WHOLESALER_HEADER,
    WHOLESALERS,
    cusip,
    write_csv,
    write_parquet,
    write_xlsx,
)


def _empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(table))


def _read(root: Path, name: str):
    directory = root / name
    return read_master_folder(directory, MASTERS[name], feed_files(directory))


def _as_text(rows):
    return [[None if v is None else str(v) for v in row] for row in rows]


@pytest.fixture
def landing(tmp_path) -> Path:
    write_xlsx(tmp_path / "firms" / "crm_firms_2025-03-01.xlsx", FIRM_HEADER, FIRMS)
    write_csv(tmp_path / "advisors" / "advisors_2025-03-20.csv", ADVISOR_HEADER, ADVISORS)
    write_parquet(tmp_path / "products" / "products.parquet", PRODUCT_HEADER, _as_text(PRODUCTS))
    write_csv(tmp_path / "wholesalers" / "wholesalers.csv.gz", WHOLESALER_HEADER, WHOLESALERS, gz=True)
    return tmp_path


def test_masters_read_in_every_shape_they_arrive_in(landing):
    firms = _read(landing, "firms").rows
    # XLSX: the CRD a number cell, the date a date cell, the flag a boolean cell.
    assert firms.select("crd_number", "firm_type_code", "relationship_start_date", "is_active").row(0) == (
        "101", "WIREHOUSE", dt.date(2010, 1, 4), True)
    advisors = _read(landing, "advisors").rows
    assert advisors.height == 3 and advisors["firm_start_date"].to_list()[:2] == [dt.date(2015, 1, 5),
                                                                                  dt.date(2025, 3, 17)]
    products = _read(landing, "products").rows.sort("cusip")
    assert products["management_fee_rate"].to_list() == [0.0065, 0.0035]  # "0.65%" and 0.0035
    assert products["ticker"].to_list() == ["SLCGX", None]  # an SMA has no ticker
    wholesalers = _read(landing, "wholesalers").rows.sort("employee_code")
    # '"120,000.06"' quoted with its thousands separator; '0.09%' a percent; no territory_start_date: hire_date.
    assert wholesalers["annual_base_salary"].to_list() == [120_000.06, 130_000.0, 125_000.0]
    assert wholesalers["incentive_rate"].to_list() == [0.001, 0.0009, 0.0011]
    assert wholesalers["territory_start_date"].to_list() == wholesalers["hire_date"].to_list()


def test_bad_master_values_are_refused_at_their_line_with_what_to_do(tmp_path):
    rows = [list(FIRMS[0]), list(FIRMS[1])]
    rows[1][2] = "BOUTIQUE"
    write_csv(tmp_path / "firms" / "firms.csv", FIRM_HEADER, rows)
    with pytest.raises(LandedFileError) as refused:
        _read(tmp_path, "firms")
    assert "firms.csv: line 3 ('BOUTIQUE'): unknown firm type code in firm_type_code: use one of WIREHOUSE" in str(
        refused.value)

    bad = [list(PRODUCTS[0]), list(PRODUCTS[1])]
    bad[0][0] = "860001107"  # wrong check digit
    bad[1][5] = "35 bps"
    write_csv(tmp_path / "products" / "products.csv", PRODUCT_HEADER, bad)
    with pytest.raises(LandedFileError) as refused:
        _read(tmp_path, "products")
    message = str(refused.value)
    assert "2 problems" in message
    assert "line 2 ('860001107'): cusip not a CUSIP" in message
    assert "line 3 ('35 bps'): management_fee_rate not a number" in message

    write_csv(tmp_path / "advisors" / "a.csv", ADVISOR_HEADER[:-1], [row[:-1] for row in ADVISORS])
    with pytest.raises(LandedFileError, match=r"a.csv: missing required column\(s\) is_active"):
        _read(tmp_path, "advisors")

    twice = [ADVISORS[0], ADVISORS[0]]
    write_csv(tmp_path / "advisors" / "a.csv", ADVISOR_HEADER, twice)
    with pytest.raises(LandedFileError, match="line 2 and line 3: crd_number 5000001 effective 2015-01-05 is listed "
                                              "more than once in this file"):
        _read(tmp_path, "advisors")


def test_keys_are_stable_when_masters_are_relanded_in_another_order_with_new_members(landing, tmp_path):
    firms, report = members.merge_firms(_empty("dim_firms"), _read(landing, "firms"))
    assert dict(zip(firms["crd_number"], firms["firm_id"])) == {"101": 1, "202": 2, "303": 3}
    assert report.added == ["101", "202", "303"]

    relanded = tmp_path / "again"
    newcomer = (99, "Zenith Bank & Trust", "BANK", "WE", "CA", dt.date(2020, 1, 2), True)
    # Reversed, a new member first, Cedar (303) missing, Beacon renamed.
    rows = [newcomer, (202, "Beacon Wealth Partners", "RIA", "SE", "FL", dt.date(2015, 6, 1), True), FIRMS[0]]
    write_csv(relanded / "firms" / "firms.csv", FIRM_HEADER, rows)
    again, report = members.merge_firms(firms, _read(relanded, "firms"))
    ids = dict(zip(again["crd_number"], again["firm_id"]))
    assert ids == {"101": 1, "202": 2, "303": 3, "99": 4}  # nothing renumbered, Cedar kept, the newcomer next
    assert report.added == ["99"] and report.changed == ["202"] and report.kept == 1 and report.unchanged == 1
    assert again.filter(pl.col("crd_number") == "303")["is_active"].item() is True


def test_an_advisor_row_with_a_new_firm_start_date_is_a_move_and_history_is_only_added_to(landing, tmp_path):
    firms, _ = members.merge_firms(_empty("dim_firms"), _read(landing, "firms"))
    advisors, assignments, report = members.merge_advisors(
        _empty("dim_advisors"), _empty("advisor_assignments"), _read(landing, "advisors"), firms)
    ann = advisors.filter(pl.col("crd_number") == "5000001").row(0, named=True)
    assert (ann["firm_id"], ann["territory_id"], ann["firm_start_date"]) == (2, members.TERRITORY_ID["SE2"],
                                                                              dt.date(2025, 3, 17))
    assert assignments.filter(pl.col("advisor_id") == ann["advisor_id"]).rows() == [
        (ann["advisor_id"], dt.date(2015, 1, 5), 1, members.TERRITORY_ID["NE1"]),
        (ann["advisor_id"], dt.date(2025, 3, 17), 2, members.TERRITORY_ID["SE2"]),
    ]
    assert report.moves == ["advisor 5000001 from 2025-03-17: Atlas Securities / NE1 -> Beacon Wealth Advisors / SE2"]

    # A later export lists Ann's current assignment only: her history stays.
    later = tmp_path / "later"
    write_csv(later / "advisors" / "advisors.csv", ADVISOR_HEADER, [ADVISORS[1]])
    _, kept, report = members.merge_advisors(advisors, assignments, _read(later, "advisors"), firms)
    assert kept.equals(assignments) and report.moves == [] and report.assignments_added == 0

    unknown_firm = list(ADVISORS[2])
    unknown_firm[2] = 404
    write_csv(later / "advisors" / "advisors.csv", ADVISOR_HEADER, [ADVISORS[1], unknown_firm])
    with pytest.raises(LandedFileError, match=r"advisors.csv: line 3 \('404'\): no firm with CRD 404"):
        members.merge_advisors(advisors, assignments, _read(later, "advisors"), firms)


def test_an_inferred_advisor_is_completed_in_place_under_the_same_key(landing):
    firms, _ = members.merge_firms(_empty("dim_firms"), _read(landing, "firms"))
    inferred = members.inferred_advisors(
        _empty("dim_advisors"),
        pl.DataFrame({"crd_number": ["5000002"], "firm_id": [3], "first_date": [dt.date(2025, 3, 3)]}),
    )
    assert inferred.select("advisor_id", "advisor_name", "territory_id", "is_inferred").row(0) == (
        1, "Unknown advisor 5000002", members.UNASSIGNED_ID, True)
    advisors, _, report = members.merge_advisors(inferred, _empty("advisor_assignments"), _read(landing, "advisors"),
                                                 firms)
    bo = advisors.filter(pl.col("crd_number") == "5000002").row(0, named=True)
    assert (bo["advisor_id"], bo["advisor_name"], bo["is_inferred"]) == (1, "Bo Chen", False)
    assert bo["territory_id"] == members.TERRITORY_ID["MW1"]
    assert report.completed == ["5000002"]
    assert advisors.filter(pl.col("crd_number") == "5000001")["advisor_id"].item() == 2


def test_wholesaler_territory_changes_and_the_unassigned_member(tmp_path):
    rows = [WHOLESALERS[0], ("W100", "Wes Hart", "NE2", "Northeast Team", dt.date(2015, 1, 5), 120000.0, "0.0010",
                             dt.date(2025, 3, 10))]
    write_csv(tmp_path / "wholesalers" / "w.csv", WHOLESALER_HEADER, rows)
    wholesalers, assignments, report = members.merge_wholesalers(
        _empty("dim_wholesalers"), _empty("wholesaler_assignments"), _read(tmp_path, "wholesalers"))
    assert wholesalers.select("wholesaler_id", "employee_code", "is_unassigned").rows() == [
        (0, "UNASSIGNED", True), (1, "W100", False)]
    assert assignments["territory_id"].to_list() == [members.TERRITORY_ID["NE1"], members.TERRITORY_ID["NE2"]]
    assert report.moves == ["wholesaler W100 from 2025-03-10: NE1 -> NE2"]


def test_two_cusips_with_one_ticker_are_refused_naming_both(tmp_path):
    rows = [PRODUCTS[0], (cusip("86000310"), "SLCGX", "Summit Other Fund", "EQ", "MF", "0.5%", dt.date(2001, 1, 2),
                          True)]
    write_csv(tmp_path / "products" / "p.csv", PRODUCT_HEADER, rows)
    with pytest.raises(LandedFileError, match=r"ticker 'SLCGX' belongs to more than one CUSIP \(860001106, 86000310"):
        members.merge_products(_empty("dim_products"), _read(tmp_path, "products"))
