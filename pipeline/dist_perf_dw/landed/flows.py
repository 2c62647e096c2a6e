"""A date's landed flows (`flows/`): every file holding the date checked, then resolved against the
dimensions and the assignments in force on that date into fact_aum_flows rows.

Files. A file may hold one or several dates (its trade_date column says which); all files holding a
date are that date's data. A header-only file with the date in its name (`flows_2025-03-03.csv`)
declares the date empty. A business day no file holds fails naming the folder and the date (a
missing transfer-agent file must not look like a day without sales); a weekend or holiday loads empty.
A file whose name carries a date holds that date only. `transaction_id` is unique across the date's
files (a repeat names both files); amounts are positive USD; `transaction_code` is a
dim_transaction_types code or mapped to one by mappings/transaction_codes.csv.

Resolution (`resolve_flows`). Firm (CRD) and product (CUSIP) must be known: an unknown one refuses the
file at its line. An unknown advisor CRD is a late-arriving member: an inferred advisor is created at
the flow's firm. The firm is the record's (what happened), its channel the firm's; the territory is the
advisor's assignment in force on the date (none: Unassigned) and the wholesaler the one covering that
territory on the date (none: Unassigned). Where the record's firm differs from the advisor's assigned
firm on that date, the record wins and the difference is reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.dist_perf_dw.calendar import is_business_day
from pipeline.dist_perf_dw.facts.flows import FLOW_IDS_PER_DAY
from pipeline.dist_perf_dw.landed.feeds import (
    FLOWS,
    MAPPINGS_FOLDER,
    TRANSACTION_CODE_MAPPING,
    problems_at,
    read_feed_file,
)
from pipeline.dist_perf_dw.landed.members import UNASSIGNED_ID, inferred_advisors
from pipeline.dist_perf_dw.randomness import day_number
from pipeline.dist_perf_dw.tables import columns, polars_schema
from pipeline.dist_perf_dw.vocabulary import TRANSACTION_TYPES
from pipeline.landed_files.folders import (
    MAX_SHOWN,
    FolderSettings,
    LandedFileError,
    date_in_name,
    listing,
)
from pipeline.landed_files.tables import LINE, TextTable, read_table

FLOW_COLUMNS = columns("fact_aum_flows")
TRANSACTION_CODES = [t[0] for t in TRANSACTION_TYPES]
_SIGN = {t[0]: t[4] for t in TRANSACTION_TYPES}
_TYPE_ID = {t[0]: index + 1 for index, t in enumerate(TRANSACTION_TYPES)}
# The tables a date's resolution reads (under the members' lock, in the load's transaction).
RESOLUTION_TABLES = ["dim_firms", "dim_products", "dim_advisors", "advisor_assignments", "wholesaler_assignments"]


class NoLandedFlowsError(LandedFileError):
    """A business day no flows file holds or declares empty."""


@dataclass(frozen=True)
class FlowFile:
    """One flows file read whole: its text table and its typed rows."""

    path: Path
    table: TextTable
    rows: pl.DataFrame

    @property
    def dates(self) -> frozenset[dt.date]:
        return frozenset(self.rows["trade_date"].unique().to_list())

    def declares_empty(self, day: dt.date) -> bool:
        return self.rows.is_empty() and date_in_name(self.path) == day


def read_transaction_code_mapping(landing: Path) -> dict[str, str]:
    """mappings/transaction_codes.csv (source_code -> transaction_type_code), or {} when absent."""
    path = Path(landing) / MAPPINGS_FOLDER / TRANSACTION_CODE_MAPPING
    if not path.is_file():
        return {}
    table = read_table(path, FolderSettings(), lower_case=True)
    missing = [c for c in ("source_code", "transaction_type_code") if c not in table.columns]
    if missing:
        raise LandedFileError(path, f"missing column(s) {listing(missing)}: write source_code,transaction_type_code")
    frame = table.frame.with_columns(
        pl.col("source_code").str.strip_chars().str.to_uppercase(),
        pl.col("transaction_type_code").str.strip_chars().str.to_uppercase(),
    )
    bad = frame.filter(~pl.col("transaction_type_code").is_in(TRANSACTION_CODES))
    if bad.height:
        raise LandedFileError(path, problems_at(table, bad, "transaction_type_code",
                                                f"not a transaction type: use one of {', '.join(TRANSACTION_CODES)}"))
    return dict(zip(frame["source_code"], frame["transaction_type_code"]))


def read_flow_file(path: Path, mapping: Mapping[str, str], settings: FolderSettings | None = None) -> FlowFile:
    """A flows file checked on its own: values, positive amounts, codes, unique ids, dates its name allows."""
    table, typed = read_feed_file(path, FLOWS, settings)
    typed = typed.with_columns(
        transaction_type_code=pl.col("transaction_code").replace(dict(mapping)) if mapping else pl.col(
            "transaction_code")
    )
    problems = []
    bad = typed.filter(pl.col("amount") <= 0)
    if bad.height:
        problems.append(problems_at(table, bad.with_columns(pl.col("amount").cast(pl.String)), "amount",
                                    "amount must be positive USD: the transaction code gives the direction"))
    bad = typed.filter(~pl.col("transaction_type_code").is_in(TRANSACTION_CODES))
    if bad.height:
        problems.append(problems_at(
            table, bad, "transaction_code",
            f"unknown transaction_code: use one of {', '.join(TRANSACTION_CODES)}, or map the source's code in "
            f"{MAPPINGS_FOLDER}/{TRANSACTION_CODE_MAPPING} (source_code,transaction_type_code)",
        ))
    named = date_in_name(path)
    if named is not None:
        bad = typed.filter(pl.col("trade_date") != named)
        if bad.height:
            problems.append(problems_at(
                table, bad.with_columns(pl.col("trade_date").cast(pl.String)), "trade_date",
                f"the file's name says it holds {named}: move these rows to a file of their date, or rename the file",
            ))
    # Counting 1M distinct ids costs ~0.05 s, is_duplicated ~0.2 s, grouping them ~1 s: the repeated
    # rows are only looked for when there are some.
    ids = typed.get_column("transaction_id")
    repeated = (
        typed.filter(pl.col("transaction_id").is_duplicated())
        .group_by("transaction_id", maintain_order=True).agg(pl.col(LINE).sort())
        .filter(pl.col(LINE).list.len() > 1)
        if ids.drop_nulls().n_unique() < ids.drop_nulls().len() else typed.clear()
    )
    for transaction_id, lines in repeated.head(MAX_SHOWN).iter_rows():
        problems.append(f"{' and '.join(table.where(line) for line in lines)}: transaction_id {transaction_id!r} is "
                        "listed more than once: a transaction_id is unique; remove the repeated row")
    if problems:
        raise LandedFileError(path, problems)
    return FlowFile(Path(path), table, typed)


@dataclass(frozen=True)
class FlowDay:
    """One date's landed flows: the rows of every file holding it, with the file each row is from."""

    day: dt.date
    files: tuple[FlowFile, ...]
    rows: pl.DataFrame  # the flows feed's columns, transaction_type_code, LINE, __file (index in files)

    @property
    def rows_by_file(self) -> dict[Path, int]:
        counts = dict(self.rows.group_by("__file").len().iter_rows())
        return {f.path: counts.get(index, 0) for index, f in enumerate(self.files)}

    def where(self, file_index: int, line: int) -> str:
        flow_file = self.files[file_index]
        return f"{flow_file.path.name} {flow_file.table.where(line)}"


def flow_day(files: Sequence[FlowFile], day: dt.date, folder: Path) -> FlowDay:
    """The files holding `day` (or declaring it empty), their rows of `day`, transaction ids unique
    across them. NoLandedFlowsError for a business day no file holds; an empty day on other days."""
    holding = [f for f in files if day in f.dates or f.declares_empty(day)]
    if not holding and is_business_day(day):
        raise NoLandedFlowsError(
            Path(folder) / f"*{day}*",
            f"no landed flows for {day} in {folder}: land the transfer agent's file with the flows of {day}, or a "
            f"header-only file named with the date (e.g. flows_{day}.csv) if there were none (a business day "
            "without a file is not taken for a day without sales)",
        )
    frames = [
        f.rows.filter(pl.col("trade_date") == day).with_columns(pl.lit(i, dtype=pl.Int32).alias("__file"))
        for i, f in enumerate(holding)
    ]
    schema = {**holding[0].rows.schema, "__file": pl.Int32} if holding else None
    rows = pl.concat(frames) if frames else pl.DataFrame(schema=schema or {"__file": pl.Int32})
    result = FlowDay(day, tuple(holding), rows)
    # One file's ids are unique already (read_flow_file): only several files can share one.
    shared = (
        rows.filter(pl.col("transaction_id").is_duplicated())
        .group_by("transaction_id").agg(pl.col("__file"), pl.col(LINE))
        .filter(pl.col("__file").list.n_unique() > 1).sort("transaction_id")
        if rows.height and len(holding) > 1 else rows.clear()
    )
    if shared.height:
        problems = [
            f"transaction_id {tid!r} on {day} is in {' and '.join(result.where(f, ln) for f, ln in zip(fs, lines))}: "
            "a transaction_id is unique across all files of a date; remove it from one of them (a corrected file "
            "replaces its old version under the same name)"
            for tid, fs, lines in shared.head(MAX_SHOWN).iter_rows()
        ]
        raise LandedFileError(holding[shared["__file"][0][-1]].path, problems)
    return result


@dataclass
class FlowReport:
    """What resolving a date's flows did, for the run's metadata."""

    inferred_advisors: list[str] = field(default_factory=list)
    unassigned_flows: int = 0
    firm_disagreements: list[str] = field(default_factory=list)
    firm_disagreement_count: int = 0


def in_force(assignments: pl.DataFrame, member: str, day: dt.date) -> pl.DataFrame:
    """Each member's assignment in force on `day`: the latest effective on or before it."""
    return (
        assignments.filter(pl.col("effective_date") <= day)
        .sort(member, "effective_date").group_by(member, maintain_order=True).last()
    )


def covering_wholesalers(wholesaler_assignments: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """territory_id -> wholesaler_id on `day`: where a territory has several, the one assigned there
    longest (then the lowest key), so the choice never depends on file order."""
    current = in_force(wholesaler_assignments, "wholesaler_id", day)
    return (
        current.sort("territory_id", "effective_date", "wholesaler_id")
        .group_by("territory_id", maintain_order=True).first()
        .select("territory_id", "wholesaler_id")
    )


def _refuse_unknown(flows: FlowDay, frame: pl.DataFrame, column: str, what: str) -> None:
    if frame.is_empty():
        return
    first = frame["__file"][0]
    mine = frame.filter(pl.col("__file") == first)
    table = flows.files[first].table
    raise LandedFileError(flows.files[first].path, problems_at(table, mine, column, what))


def resolve_flows(flows: FlowDay, dims: Mapping[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame, FlowReport]:
    """(fact_aum_flows rows of the date, new inferred dim_advisors rows, report). `dims`: the
    RESOLUTION_TABLES as the warehouse holds them. LandedFileError for an unknown firm or CUSIP."""
    day, rows, report = flows.day, flows.rows, FlowReport()
    if rows.is_empty():
        return pl.DataFrame(schema=polars_schema("fact_aum_flows")), dims["dim_advisors"].clear(), report
    firms = dims["dim_firms"].select(firm_crd_number="crd_number", firm_id="firm_id", channel_id="channel_id")
    products = dims["dim_products"].select("cusip", "product_id").filter(pl.col("cusip").is_not_null())
    joined = rows.join(firms, on="firm_crd_number", how="left").join(products, on="cusip", how="left")
    _refuse_unknown(flows, joined.filter(pl.col("firm_id").is_null()), "firm_crd_number",
                    "no firm with this CRD in dim_firms: land it in firms/ and load the dimensions first (a flow "
                    "without a known firm has no channel)")
    _refuse_unknown(flows, joined.filter(pl.col("product_id").is_null()), "cusip",
                    "no product with this CUSIP in dim_products: land it in products/ and load the dimensions "
                    "first (a product without a fee rate cannot be priced)")

    advisors = dims["dim_advisors"]
    known = set(advisors["crd_number"].to_list())
    unknown = (
        joined.filter(~pl.col("advisor_crd_number").is_in(list(known)))
        .sort("transaction_id").group_by("advisor_crd_number", maintain_order=True)
        .agg(pl.col("firm_id").first(), first_date=pl.lit(day))
        .rename({"advisor_crd_number": "crd_number"})
    )
    new_advisors = inferred_advisors(advisors, unknown)
    report.inferred_advisors = new_advisors["crd_number"].to_list()
    advisor_ids = pl.concat([advisors, new_advisors]).select(advisor_crd_number="crd_number", advisor_id="advisor_id")

    assigned = in_force(dims["advisor_assignments"], "advisor_id", day).select(
        "advisor_id", assigned_firm_id="firm_id", territory_id="territory_id")
    wholesalers = covering_wholesalers(dims["wholesaler_assignments"], day)
    resolved = (
        joined.join(advisor_ids, on="advisor_crd_number", how="left")
        .join(assigned, on="advisor_id", how="left")
        .with_columns(pl.col("territory_id").fill_null(UNASSIGNED_ID))
        .join(wholesalers, on="territory_id", how="left")
        .with_columns(pl.col("wholesaler_id").fill_null(UNASSIGNED_ID))
        .sort("transaction_id")
    )
    report.unassigned_flows = resolved.filter(pl.col("wholesaler_id") == UNASSIGNED_ID).height
    differs = resolved.filter(pl.col("assigned_firm_id").is_not_null() & (pl.col("assigned_firm_id") != pl.col(
        "firm_id")))
    report.firm_disagreement_count = differs.height
    firm_crd = dict(zip(dims["dim_firms"]["firm_id"], dims["dim_firms"]["crd_number"]))
    report.firm_disagreements = [
        f"{flows.where(f, ln)}: transaction {tid} names firm {crd}, the master has advisor {adv} at firm "
        f"{firm_crd.get(assigned)} on {day}: the record's firm is used"
        for f, ln, tid, crd, adv, assigned in differs.select(
            "__file", LINE, "transaction_id", "firm_crd_number", "advisor_crd_number", "assigned_firm_id"
        ).head(MAX_SHOWN).rows()
    ]
    first_id = day_number(day) * FLOW_IDS_PER_DAY
    resolved = resolved.with_columns(flow_id=pl.int_range(first_id, first_id + resolved.height, dtype=pl.Int64))
    if resolved["related_transaction_id"].null_count() < resolved.height:
        related = resolved.select(related_transaction_id="transaction_id", related_flow_id="flow_id")
        resolved = resolved.join(related, on="related_transaction_id", how="left")
    else:  # no exchange legs: no join of the date's ids with themselves (a hash table of 1M strings)
        resolved = resolved.with_columns(related_flow_id=pl.lit(None, dtype=pl.Int64))
    fact = (
        resolved
        .with_columns(
            flow_date=pl.lit(day, dtype=pl.Date),
            transaction_type_id=pl.col("transaction_type_code").replace_strict(_TYPE_ID, return_dtype=pl.Int32),
            net_amount=pl.col("amount") * pl.col("transaction_type_code").replace_strict(_SIGN, return_dtype=pl.Int32),
            source_transaction_id=pl.col("transaction_id"),
        )
        .sort("flow_id")
    )
    schema = polars_schema("fact_aum_flows")
    return fact.select([pl.col(c).cast(t) for c, t in schema.items()]), new_advisors, report
