"""The facts derived from landed feeds besides the flows: revenue from positions, retention by FIFO,
compensation and distribution expenses. Pure functions on Polars frames.

- **Positions** (`positions/`): a file is a full snapshot of its `as_of_date` (a pair missing from it
  holds nothing); a date uses the latest snapshot on or before it (weekends and holidays accrue on
  Friday's). One (advisor, CUSIP) appears once per snapshot.
- **Revenue**: market_value x management_fee_rate / 365 per (advisor, product) of the snapshot;
  net_flow_amount = the pair's loaded net flows of the date, aum_amount = market_value - net flows (so
  aum + net flows = the market value); firm from the record, wholesaler the one covering the
  advisor's territory on the date. An unknown advisor is inferred, as for flows.
- **Retention (FIFO)**: redemptions, exchanges out and transfers out relieve the advisor's purchases
  of the same product first in, first out; a purchase's retained amount on a snapshot date is what FIFO
  leaves of it; an outflow beyond the loaded purchases relieves holdings from before the warehouse's
  first flow (not attributed).
- **Compensation**: the month's loaded flows, each already credited to the wholesaler covering its
  territory on its date; base = annual salary / 12 rounded half up to the cent; incentive = rate x
  max(net flows, 0); wholesalers hired by the month's end.
- **Expenses** (`expenses/`): territory from the wholesaler's assignment on the date, category from the
  type, firm when given; a date without rows loads empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from pipeline.dist_perf_dw.calendar import month_close_date, month_days
from pipeline.dist_perf_dw.facts.compensation import compute_wholesaler_comp
from pipeline.dist_perf_dw.facts.expenses import EXPENSE_IDS_PER_DAY
from pipeline.dist_perf_dw.facts.retention import RETENTION_AGES_DAYS
from pipeline.dist_perf_dw.landed.feeds import Feed, problems_at, read_feed_file
from pipeline.dist_perf_dw.landed.flows import covering_wholesalers, in_force
from pipeline.dist_perf_dw.landed.members import UNASSIGNED_ID, inferred_advisors
from pipeline.dist_perf_dw.randomness import day_number
from pipeline.dist_perf_dw.tables import polars_schema
from pipeline.dist_perf_dw.vocabulary import EXPENSE_CATEGORIES, EXPENSE_TYPES, TRANSACTION_TYPES
from pipeline.landed_files.folders import MAX_SHOWN, FolderSettings, LandedFileError, date_in_name
from pipeline.landed_files.tables import LINE, TextTable

OUTFLOW_TYPE_IDS = [index + 1 for index, t in enumerate(TRANSACTION_TYPES) if t[3] == "outflow"]
PURCHASE_TYPE_ID = next(index + 1 for index, t in enumerate(TRANSACTION_TYPES) if t[0] == "PURCHASE")
EXPENSE_TYPE_ID = {e[0]: index + 1 for index, e in enumerate(EXPENSE_TYPES)}
_CATEGORY_ID = {c[0]: index + 1 for index, c in enumerate(EXPENSE_CATEGORIES)}
EXPENSE_CATEGORY_OF_TYPE = {index + 1: _CATEGORY_ID[e[2]] for index, e in enumerate(EXPENSE_TYPES)}
# What a file's rows may not repeat: (feed folder) -> (key columns, what they are)
UNIQUE_IN_FILE = {
    "positions": (["as_of_date", "advisor_crd_number", "cusip"], "an advisor's position in a product on a date"),
    "expenses": (["expense_id"], "an expense_id"),
}
DATE_COLUMN = {"positions": "as_of_date", "expenses": "expense_date"}


class NoPositionsError(LandedFileError):
    """A revenue date with no positions snapshot on or before it."""


@dataclass(frozen=True)
class FactFile:
    """One positions or expenses file read whole: its text table and its typed rows."""

    path: Path
    table: TextTable
    rows: pl.DataFrame
    date_column: str

    @property
    def dates(self) -> frozenset[dt.date]:
        return frozenset(self.rows[self.date_column].unique().to_list())


def read_fact_file(path: Path, feed: Feed, settings: FolderSettings | None = None) -> FactFile:
    """A positions or expenses file checked on its own: values, amounts, keys, dates its name allows."""
    table, typed = read_feed_file(path, feed, settings)
    date_column = DATE_COLUMN[feed.folder]
    problems = []
    amount, rule = ("market_value", "not negative") if feed.folder == "positions" else ("amount", "positive")
    bad = typed.filter(pl.col(amount) < 0) if feed.folder == "positions" else typed.filter(pl.col(amount) <= 0)
    if bad.height:
        problems.append(problems_at(table, bad.with_columns(pl.col(amount).cast(pl.String)), amount,
                                    f"{amount} must be {rule}, in USD"))
    if feed.folder == "expenses":
        bad = typed.filter(~pl.col("expense_type_code").is_in(list(EXPENSE_TYPE_ID)))
        if bad.height:
            problems.append(problems_at(table, bad, "expense_type_code",
                                        f"unknown expense_type_code: use one of {', '.join(EXPENSE_TYPE_ID)}"))
    named = date_in_name(path)
    if named is not None:
        bad = typed.filter(pl.col(date_column) != named)
        if bad.height:
            problems.append(problems_at(
                table, bad.with_columns(pl.col(date_column).cast(pl.String)), date_column,
                f"the file's name says it holds {named}: move these rows to a file of their date, or rename the file",
            ))
    keys, what = UNIQUE_IN_FILE[feed.folder]
    repeated = typed.group_by(keys, maintain_order=True).agg(pl.col(LINE).sort()).filter(pl.col(LINE).list.len() > 1)
    for row in repeated.head(MAX_SHOWN).iter_rows(named=True):
        lines = " and ".join(table.where(line) for line in row[LINE])
        problems.append(f"{lines}: {what} is listed more than once ({', '.join(str(row[k]) for k in keys)}); keep one")
    if problems:
        raise LandedFileError(path, problems)
    return FactFile(Path(path), table, typed, date_column)


def _rows_of(files: Sequence[FactFile], day: dt.date) -> tuple[list[FactFile], pl.DataFrame]:
    holding = [f for f in files if day in f.dates]
    frames = [f.rows.filter(pl.col(f.date_column) == day).with_columns(pl.lit(i, dtype=pl.Int32).alias("__file"))
              for i, f in enumerate(holding)]
    return holding, pl.concat(frames) if frames else pl.DataFrame()


def _repeated_across(holding: Sequence[FactFile], rows: pl.DataFrame, keys: list[str], what: str) -> None:
    if len(holding) < 2:
        return
    shared = rows.group_by(keys).agg(pl.col("__file"), pl.col(LINE)).filter(pl.col("__file").list.n_unique() > 1)
    if shared.height:
        problems = []
        for row in shared.head(MAX_SHOWN).iter_rows(named=True):
            places = " and ".join(f"{holding[f].path.name} {holding[f].table.where(line)}"
                                  for f, line in zip(row["__file"], row[LINE]))
            problems.append(f"{what} {', '.join(str(row[k]) for k in keys)} is in {places}: remove it from one of "
                            "them (a corrected file replaces its old version under the same name)")
        raise LandedFileError(holding[shared["__file"][0][-1]].path, problems)


@dataclass(frozen=True)
class FactDay:
    """The rows of one date (or snapshot) from the files holding it."""

    day: dt.date
    files: tuple[FactFile, ...]
    rows: pl.DataFrame

    @property
    def rows_by_file(self) -> dict[Path, int]:
        counts = dict(self.rows.group_by("__file").len().iter_rows()) if self.rows.height else {}
        return {f.path: counts.get(index, 0) for index, f in enumerate(self.files)}


def positions_snapshot(files: Sequence[FactFile], day: dt.date, folder: Path) -> FactDay:
    """The latest snapshot on or before `day` (all files holding that as_of_date)."""
    dates = sorted({d for f in files for d in f.dates if d <= day})
    if not dates:
        raise NoPositionsError(
            Path(folder) / f"*{day}*",
            f"no positions snapshot on or before {day} in {folder}: land the positions file of {day} (or of an "
            "earlier date); revenue is accrued on the latest snapshot",
        )
    holding, rows = _rows_of(files, dates[-1])
    _repeated_across(holding, rows, ["advisor_crd_number", "cusip"], "the position of advisor/CUSIP")
    return FactDay(dates[-1], tuple(holding), rows)


def expenses_of(files: Sequence[FactFile], day: dt.date) -> FactDay:
    holding, rows = _rows_of(files, day)
    if holding:
        _repeated_across(holding, rows, ["expense_id"], "expense_id")
    return FactDay(day, tuple(holding), rows)


def _refuse(day: FactDay, frame: pl.DataFrame, column: str, what: str) -> None:
    if frame.is_empty():
        return
    first = frame["__file"][0]
    holder = day.files[first]
    raise LandedFileError(holder.path, problems_at(holder.table, frame.filter(pl.col("__file") == first), column, what))


@dataclass
class FactReport:
    inferred_advisors: list[str] = field(default_factory=list)
    unassigned_rows: int = 0


_UNKNOWN_FIRM = "no firm with this CRD in dim_firms: land it in firms/ and load the dimensions first"
_UNKNOWN_CUSIP = ("no product with this CUSIP in dim_products: land it in products/ and load the dimensions first "
                  "(a product without a fee rate cannot be priced)")


def revenue_rows(
    snapshot: FactDay, day: dt.date, dims: Mapping[str, pl.DataFrame], day_flows: pl.DataFrame, as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame, FactReport]:
    """(fact_revenue rows of `day`, new inferred advisors, report) from the snapshot in force on `day`.
    `day_flows`: the loaded fact_aum_flows of `day` (advisor_id, product_id, firm_id, channel_id,
    wholesaler_id, net_amount). A pair with flows that the snapshot does not hold holds nothing at the
    day's end: market value 0, so aum = - net flows (a position redeemed in full), revenue 0."""
    schema = polars_schema("fact_revenue")
    report = FactReport()
    if snapshot.rows.is_empty() and day_flows.is_empty():
        return pl.DataFrame(schema=schema), dims["dim_advisors"].clear(), report
    firms = dims["dim_firms"].select(firm_crd_number="crd_number", firm_id="firm_id", channel_id="channel_id")
    products = dims["dim_products"].select("cusip", "product_id", fee_rate="management_fee_rate")
    rows = snapshot.rows if snapshot.rows.height else pl.DataFrame(
        schema={"advisor_crd_number": pl.String, "firm_crd_number": pl.String, "cusip": pl.String,
                "market_value": pl.Float64, "__file": pl.Int32, LINE: pl.UInt32})
    joined = rows.join(firms, on="firm_crd_number", how="left").join(products, on="cusip", how="left")
    _refuse(snapshot, joined.filter(pl.col("firm_id").is_null()), "firm_crd_number", _UNKNOWN_FIRM)
    _refuse(snapshot, joined.filter(pl.col("product_id").is_null()), "cusip", _UNKNOWN_CUSIP)
    joined, new_advisors = _with_advisors(joined, dims, snapshot.day)
    report.inferred_advisors = new_advisors["crd_number"].to_list()
    joined = _with_wholesalers(joined, dims, day)
    report.unassigned_rows = joined.filter(pl.col("wholesaler_id") == UNASSIGNED_ID).height
    net = day_flows.group_by("advisor_id", "product_id", maintain_order=True).agg(
        pl.col("firm_id", "channel_id", "wholesaler_id").first(), net_flow_amount=pl.col("net_amount").sum())
    held = joined.select("advisor_id", "product_id", "firm_id", "channel_id", "wholesaler_id", "fee_rate",
                         "market_value")
    emptied = net.join(held, on=["advisor_id", "product_id"], how="anti").join(
        dims["dim_products"].select("product_id", fee_rate="management_fee_rate"), on="product_id", how="left"
    ).select(*held.columns[:-1], market_value=pl.lit(0.0))
    revenue = (
        pl.concat([held, emptied.select([pl.col(c).cast(held.schema[c]) for c in held.columns])])
        .join(net.select("advisor_id", "product_id", "net_flow_amount"), on=["advisor_id", "product_id"], how="left")
        .with_columns(pl.col("net_flow_amount").fill_null(0.0).round(2))
        .with_columns(
            revenue_date=pl.lit(day, dtype=pl.Date),
            aum_amount=(pl.col("market_value") - pl.col("net_flow_amount")).round(2),
            revenue_amount=(pl.col("market_value") * pl.col("fee_rate") / 365).round(2),
            is_estimate=pl.lit(as_of < month_close_date(day)),
        )
        .sort("advisor_id", "product_id")
    )
    return revenue.select([pl.col(c).cast(t) for c, t in schema.items()]), new_advisors, report


def _with_advisors(joined: pl.DataFrame, dims: Mapping[str, pl.DataFrame], day: dt.date):
    advisors = dims["dim_advisors"]
    unknown = (
        joined.filter(~pl.col("advisor_crd_number").is_in(advisors["crd_number"].to_list()))
        .group_by("advisor_crd_number", maintain_order=True)
        .agg(pl.col("firm_id").first(), first_date=pl.lit(day))
        .rename({"advisor_crd_number": "crd_number"})
    )
    new_advisors = inferred_advisors(advisors, unknown)
    ids = pl.concat([advisors, new_advisors]).select(advisor_crd_number="crd_number", advisor_id="advisor_id")
    return joined.join(ids, on="advisor_crd_number", how="left"), new_advisors


def _with_wholesalers(joined: pl.DataFrame, dims: Mapping[str, pl.DataFrame], day: dt.date) -> pl.DataFrame:
    territory = in_force(dims["advisor_assignments"], "advisor_id", day).select("advisor_id", "territory_id")
    return (
        joined.join(territory, on="advisor_id", how="left")
        .with_columns(pl.col("territory_id").fill_null(UNASSIGNED_ID))
        .join(covering_wholesalers(dims["wholesaler_assignments"], day), on="territory_id", how="left")
        .with_columns(pl.col("wholesaler_id").fill_null(UNASSIGNED_ID))
    )


def fifo_redeemed(flows: pl.DataFrame, snapshot_date: dt.date) -> dict[int, float]:
    """purchase flow_id -> amount relieved by snapshot_date, first in, first out, per (advisor,
    product). `flows`: flow_id, flow_date, advisor_id, product_id, transaction_type_id, amount."""
    relieved: dict[int, float] = {}
    events = flows.filter(pl.col("flow_date") <= snapshot_date).sort("advisor_id", "product_id", "flow_date",
                                                                      "flow_id")
    pair, lots = None, []
    for flow_id, _, advisor, product, type_id, amount in events.select(
        "flow_id", "flow_date", "advisor_id", "product_id", "transaction_type_id", "amount"
    ).iter_rows():
        if (advisor, product) != pair:
            pair, lots = (advisor, product), []
        if type_id == PURCHASE_TYPE_ID:
            lots.append([flow_id, amount])
            relieved.setdefault(flow_id, 0.0)
        elif type_id in OUTFLOW_TYPE_IDS:
            left = amount
            while left > 1e-9 and lots:
                lot = lots[0]
                taken = min(lot[1], left)
                lot[1] -= taken
                left -= taken
                relieved[lot[0]] += taken
                if lot[1] <= 1e-9:
                    lots.pop(0)
    return relieved


def retention_rows(snapshot_date: dt.date, flows: pl.DataFrame) -> pl.DataFrame:
    """fact_retention_snapshots of `snapshot_date`: every loaded purchase made exactly 30, 90, 180 or 365
    days earlier, with what FIFO leaves of it. `flows`: the loaded fact_aum_flows of the purchases'
    (advisor, product) pairs up to snapshot_date."""
    schema = polars_schema("fact_retention_snapshots")
    cohorts = {snapshot_date - dt.timedelta(days=age): age for age in RETENTION_AGES_DAYS}
    purchases = flows.filter(
        pl.col("transaction_type_id") == PURCHASE_TYPE_ID, pl.col("flow_date").is_in(list(cohorts))
    )
    if purchases.is_empty():
        return pl.DataFrame(schema=schema)
    relieved = fifo_redeemed(flows, snapshot_date)
    rows = purchases.with_columns(
        age_days=pl.col("flow_date").replace_strict(cohorts, return_dtype=pl.Int32),
        snapshot_date=pl.lit(snapshot_date, dtype=pl.Date),
        original_amount=pl.col("amount"),
        redeemed_amount=pl.col("flow_id").replace_strict(relieved, default=0.0, return_dtype=pl.Float64).round(2),
    ).with_columns(
        retained_amount=(pl.col("original_amount") - pl.col("redeemed_amount")).round(2),
    ).with_columns(
        retention_pct=(100 * pl.col("retained_amount") / pl.col("original_amount")).round(2),
    )
    return rows.select([pl.col(c).cast(t) for c, t in schema.items()]).sort("flow_id", "age_days")


def comp_rows(month_start: dt.date, wholesalers: pl.DataFrame, transaction_types: pl.DataFrame,
              month_flows: pl.DataFrame) -> pl.DataFrame:
    """fact_wholesaler_comp of a month from its loaded flows: base = annual salary / 12, half up to
    the cent (exactly, on the salary's decimal value), for every wholesaler hired by the month's end."""
    month_end = month_days(month_start)[-1]
    hired = wholesalers.filter(pl.col("hire_date") <= month_end)
    comp = compute_wholesaler_comp(hired, transaction_types, month_flows, month_start)
    bases = {w: float((Decimal(repr(s)) / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
             for w, s in hired.select("wholesaler_id", "annual_base_salary").iter_rows()}
    return comp.with_columns(
        base_salary_amount=pl.col("wholesaler_id").replace_strict(bases, return_dtype=pl.Float64),
    ).with_columns(total_comp_amount=(pl.col("base_salary_amount") + pl.col("incentive_amount")).round(2))


def expense_rows(expenses: FactDay, dims: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """fact_distribution_expense of a date: territory from the wholesaler's assignment in force (none:
    Unassigned), category from the type, firm when given. Unknown employee codes and firms refused."""
    schema = polars_schema("fact_distribution_expense")
    if expenses.rows.is_empty():
        return pl.DataFrame(schema=schema)
    day = expenses.day
    wholesalers = dims["dim_wholesalers"].select("employee_code", "wholesaler_id")
    firms = dims["dim_firms"].select(firm_crd_number="crd_number", firm_id="firm_id")
    joined = expenses.rows.join(wholesalers, on="employee_code", how="left").join(firms, on="firm_crd_number",
                                                                                   how="left")
    _refuse(expenses, joined.filter(pl.col("wholesaler_id").is_null()), "employee_code",
            "no wholesaler with this employee code in dim_wholesalers: land it in wholesalers/ first (an expense "
            "without a wholesaler cannot be credited)")
    _refuse(expenses, joined.filter(pl.col("firm_crd_number").is_not_null() & pl.col("firm_id").is_null()),
            "firm_crd_number", _UNKNOWN_FIRM)
    territory = in_force(dims["wholesaler_assignments"], "wholesaler_id", day).select("wholesaler_id", "territory_id")
    first_id = day_number(day) * EXPENSE_IDS_PER_DAY
    rows = (
        joined.join(territory, on="wholesaler_id", how="left")
        .with_columns(pl.col("territory_id").fill_null(UNASSIGNED_ID))
        .sort("expense_id")
        .with_columns(
            expense_id=pl.int_range(first_id, first_id + joined.height, dtype=pl.Int64),
            expense_type_id=pl.col("expense_type_code").replace_strict(EXPENSE_TYPE_ID, return_dtype=pl.Int32),
        )
        .with_columns(expense_category_id=pl.col("expense_type_id").replace_strict(EXPENSE_CATEGORY_OF_TYPE,
                                                                                   return_dtype=pl.Int32))
    )
    return rows.select([pl.col(c).cast(t) for c, t in schema.items()])
