"""Builders of a distribution team's landed feeds in the shapes they arrive in: transfer-agent
extracts as CSV with a UTF-8 BOM, CRLF line ends and quoted amounts with thousands separators
(`"1,250,000.00"`), CSV.gz and Parquet; CRM master exports as XLSX workbooks written with openpyxl,
with typed cells (numbers, dates) beside text cells."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import polars as pl

from pipeline.dist_perf_dw.dimensions.products import cusip_check_digit


def cusip(stem: str) -> str:
    """A valid CUSIP from its first eight characters."""
    return stem + cusip_check_digit(stem)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"  # the transfer agent's amounts: 1,250,000.00, quoted in the CSV
    return str(value)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence], *, bom: bool = True,
              crlf: bool = True, gz: bool = False) -> Path:
    """A CSV as exports write it: BOM, CRLF, every field with a comma quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    data = ("\ufeff" if bom else "") + buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.write_bytes(gzip.compress(data.encode("utf-8")))
    else:
        path.write_bytes(data.encode("utf-8"))
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """A CRM export: header in row 1, dates as date cells, numbers as number cells, the rest text."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    sheet.append(list(header))
    for row in rows:
        sheet.append([v for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_parquet(path: Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame([list(r) for r in rows], schema=list(header), orient="row").write_parquet(path)
    return path


FIRM_HEADER = ["crd_number", "firm_name", "firm_type_code", "region_code", "headquarters_state",
               "relationship_start_date", "is_active"]
ADVISOR_HEADER = ["crd_number", "advisor_name", "firm_crd_number", "territory_code", "career_start_date",
                  "firm_start_date", "segment", "is_active"]
PRODUCT_HEADER = ["cusip", "ticker", "product_name", "asset_class_code", "vehicle_type_code",
                  "management_fee_rate", "inception_date", "is_active"]
WHOLESALER_HEADER = ["employee_code", "wholesaler_name", "territory_code", "team_name", "hire_date",
                     "annual_base_salary", "incentive_rate", "territory_start_date"]
FLOW_HEADER = ["transaction_id", "trade_date", "transaction_code", "advisor_crd_number", "firm_crd_number",
               "cusip", "amount", "related_transaction_id"]

D = dt.date
FIRMS = [
    (101, "Atlas Securities", "WIREHOUSE", "NE", "NY", D(2010, 1, 4), True),
    (202, "Beacon Wealth Advisors", "RIA", "SE", "FL", D(2015, 6, 1), True),
    (303, "Cedar Financial", "REGIONAL_BD", "MW", "IL", D(2012, 3, 1), True),
]
ADVISORS = [
    # Ann moves from Atlas (NE1) to Beacon (SE2) on 2025-03-17: two rows of one advisor.
    (5000001, "Ann Lee", 101, "NE1", D(2001, 5, 1), D(2015, 1, 5), "Core", True),
    (5000001, "Ann Lee", 202, "SE2", D(2001, 5, 1), D(2025, 3, 17), "Core", True),
    (5000002, "Bo Chen", 303, "MW1", D(2010, 9, 1), D(2018, 2, 1), "Top producer", True),
]
PRODUCTS = [
    (cusip("86000110"), "SLCGX", "Summit Large Cap Growth Fund", "EQ", "MF", "0.65%", D(2001, 1, 2), True),
    (cusip("86000210"), None, "Summit Core Bond SMA", "FI", "SMA", "0.0035", D(2012, 1, 3), True),
]
WHOLESALERS = [
    ("W100", "Wes Hart", "NE1", "Northeast Team", D(2015, 1, 5), 120000.06, "0.0010", None),
    ("W200", "Sue Park", "SE2", "Southeast Team", D(2016, 4, 1), 130000.0, "0.09%", None),
    ("W300", "Max Ruiz", "MW1", "Midwest Team", D(2014, 2, 3), 125000.0, "0.0011", None),
]
POSITION_HEADER = ["as_of_date", "advisor_crd_number", "firm_crd_number", "cusip", "market_value"]
EXPENSE_HEADER = ["expense_id", "expense_date", "employee_code", "expense_type_code", "amount", "firm_crd_number"]
