"""Merging landed masters into the dimensions: stable surrogate keys, effective-dated assignments,
inferred members, and Kimball's 'Unassigned' members. Pure functions on Polars frames.

- **Keys.** A member is found by its natural key (CRD number, CUSIP, employee code). An existing
  member keeps its surrogate key whatever the files' row order; new members get the next keys in
  the order of their natural keys; nothing is deleted (a member missing from a later file stays,
  inactive only if a file says so).
- **History (effective-dated assignments, not type 2 rows).** The dimension row holds the member's
  current state under one key; `advisor_assignments` / `wholesaler_assignments` hold who was where
  from which day. A fact takes the assignment in force on its date (`in_force`). Chosen over type 2
  rows because the advisor's key then never changes (facts loaded earlier stay valid, and
  `flow.advisor` is one person), while `flow.firm` and `flow.wholesaler` are the ones in force
  when the flow happened. Assignments are only added to or corrected (same member, same date, later
  file), never dropped because a later export omits them.
- **Inferred advisors.** A flow naming an unknown advisor CRD creates 'Unknown advisor <CRD>' at the
  flow's firm in the Unassigned territory (`is_inferred`); a master that later brings the CRD
  completes the same key in place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.dist_perf_dw.calendar import generate_dim_dates
from pipeline.dist_perf_dw.dimensions import expenses, organisation, products, transaction_types
from pipeline.dist_perf_dw.landed.masters import FILE, MasterRows, territory_codes
from pipeline.dist_perf_dw.tables import columns, polars_schema
from pipeline.dist_perf_dw.vocabulary import ASSET_CLASSES, CHANNELS, FIRM_TYPES, REGIONS, VEHICLE_TYPES
from pipeline.landed_files.folders import LandedFileError, listing
from pipeline.landed_files.tables import LINE

# Kimball's unknown member: key 0 in dim_regions, dim_territories and dim_wholesalers.
UNASSIGNED_ID = 0
UNASSIGNED_CODE = "UNASSIGNED"
UNASSIGNED_NAME = "Unassigned"
# What an inferred member's dates are before a master says (no dim_dates foreign key on them).
INFERRED_SEGMENT = "Unknown"

FIRM_TYPE_ID = {f[0]: index + 1 for index, f in enumerate(FIRM_TYPES)}
CHANNEL_ID = {c[0]: index + 1 for index, c in enumerate(CHANNELS)}
FIRM_TYPE_CHANNEL_ID = {f[0]: CHANNEL_ID[f[2]] for f in FIRM_TYPES}
REGION_ID = {r[0]: index + 1 for index, r in enumerate(REGIONS)}
TERRITORY_ID = {code: index + 1 for index, code in enumerate(territory_codes())}
ASSET_CLASS_ID = {a[0]: index + 1 for index, a in enumerate(ASSET_CLASSES)}
VEHICLE_TYPE_ID = {v[0]: index + 1 for index, v in enumerate(VEHICLE_TYPES)}

# The dimensions landed mode takes from the project's vocabularies (plus the Unassigned members).
VOCABULARY_TABLES = (
    "dim_dates", "dim_regions", "dim_channels", "dim_firm_types", "dim_territories", "dim_asset_classes",
    "dim_vehicle_types", "dim_expense_categories", "dim_expense_types", "dim_transaction_types",
)
MASTER_TABLES = {"dim_firms": "firms", "dim_advisors": "advisors", "dim_products": "products",
                 "dim_wholesalers": "wholesalers"}


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(table), orient="row").select(columns(table))


def vocabulary_dimensions() -> dict[str, pl.DataFrame]:
    """The vocabulary dimensions of landed mode: the project's lists, and the Unassigned region and
    territory (key 0) that the flows of an advisor without a known territory are credited to."""
    unassigned_region = {"region_id": UNASSIGNED_ID, "region_code": UNASSIGNED_CODE, "region_name": UNASSIGNED_NAME,
                         "is_unassigned": True}
    unassigned_territory = {"territory_id": UNASSIGNED_ID, "territory_code": UNASSIGNED_CODE,
                            "territory_name": UNASSIGNED_NAME, "region_id": UNASSIGNED_ID, "is_unassigned": True}
    frames = {
        "dim_dates": generate_dim_dates(),
        "dim_regions": pl.concat([_frame("dim_regions", [unassigned_region]), organisation.regions()]),
        "dim_channels": organisation.channels(),
        "dim_firm_types": organisation.firm_types(),
        "dim_territories": pl.concat([_frame("dim_territories", [unassigned_territory]), organisation.territories()]),
        "dim_asset_classes": products.asset_classes(),
        "dim_vehicle_types": products.vehicle_types(),
        "dim_expense_categories": expenses.expense_categories(),
        "dim_expense_types": expenses.expense_types(),
        "dim_transaction_types": transaction_types.transaction_types(),
    }
    return {table: frame.select(columns(table)) for table, frame in frames.items()}


def unassigned_wholesaler() -> dict:
    return {
        "wholesaler_id": UNASSIGNED_ID, "wholesaler_name": UNASSIGNED_NAME, "employee_code": UNASSIGNED_CODE,
        "territory_id": UNASSIGNED_ID, "team_name": UNASSIGNED_NAME, "hire_date": dt.date(1900, 1, 1),
        "annual_base_salary": 0.0, "incentive_rate": 0.0, "is_unassigned": True,
    }


@dataclass
class MergeReport:
    """What merging a master did, for the run's metadata."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: int = 0
    completed: list[str] = field(default_factory=list)  # inferred members a master completed in place
    moves: list[str] = field(default_factory=list)  # new assignments that change firm or territory
    assignments_added: int = 0

    def summary(self) -> str:
        parts = [f"{len(self.added)} added" + (f" ({listing(self.added)})" if self.added else ""),
                 f"{len(self.changed)} changed" + (f" ({listing(self.changed)})" if self.changed else ""),
                 f"{self.unchanged} unchanged", f"{self.kept} kept (not in the files)"]
        if self.completed:
            parts.append(f"{len(self.completed)} inferred completed ({listing(self.completed)})")
        if self.moves:
            parts.append(f"{len(self.moves)} move(s): {listing(self.moves, 5)}")
        return ", ".join(parts)


def _by_key(frame: pl.DataFrame, key: str) -> dict[str, dict]:
    return {row[key]: row for row in frame.iter_rows(named=True)}


def _sorted_keys(keys: set[str]) -> list[str]:
    return sorted(keys, key=lambda k: (len(k), k))


def _apply(table: str, key: str, id_column: str, current: pl.DataFrame, landed: dict[str, dict],
           report: MergeReport) -> pl.DataFrame:
    """`current` with the landed rows (natural key -> dimension row without its id) applied: existing
    members keep their id, new ones get the next ids in natural-key order."""
    existing = _by_key(current, key)
    next_id = max([UNASSIGNED_ID, *current[id_column].to_list()]) + 1
    rows = []
    for natural, row in existing.items():
        new = landed.get(natural)
        if new is None:
            report.kept += 1
            rows.append(row)
            continue
        merged = {**row, **new, id_column: row[id_column]}
        if merged != row:
            report.changed.append(natural)
        else:
            report.unchanged += 1
        rows.append(merged)
    for natural in _sorted_keys(set(landed) - set(existing)):
        rows.append({**landed[natural], id_column: next_id})
        report.added.append(natural)
        next_id += 1
    return _frame(table, rows).sort(id_column)


def merge_firms(current: pl.DataFrame, landed: MasterRows) -> tuple[pl.DataFrame, MergeReport]:
    """dim_firms with the landed firms applied (channel from the firm type)."""
    report = MergeReport()
    rows = {
        r["crd_number"]: {
            "firm_name": r["firm_name"], "crd_number": r["crd_number"],
            "firm_type_id": FIRM_TYPE_ID[r["firm_type_code"]],
            "channel_id": FIRM_TYPE_CHANNEL_ID[r["firm_type_code"]],
            "region_id": REGION_ID[r["region_code"]], "headquarters_state": r["headquarters_state"],
            "relationship_start_date": r["relationship_start_date"], "is_active": r["is_active"],
        }
        for r in landed.rows.iter_rows(named=True)
    }
    return _apply("dim_firms", "crd_number", "firm_id", current, rows, report), report


def merge_products(current: pl.DataFrame, landed: MasterRows) -> tuple[pl.DataFrame, MergeReport]:
    """dim_products with the landed products applied, keyed by CUSIP. Two CUSIPs with one product name
    or one ticker are refused (both are unique in the warehouse)."""
    report = MergeReport()
    rows = {
        r["cusip"]: {
            "product_name": r["product_name"], "ticker": r["ticker"],
            "asset_class_id": ASSET_CLASS_ID[r["asset_class_code"]],
            "vehicle_type_id": VEHICLE_TYPE_ID[r["vehicle_type_code"]],
            "management_fee_rate": r["management_fee_rate"], "inception_date": r["inception_date"],
            "is_active": r["is_active"], "cusip": r["cusip"],
        }
        for r in landed.rows.iter_rows(named=True)
    }
    merged = _apply("dim_products", "cusip", "product_id", current, rows, report)
    problems = []
    for column in ("product_name", "ticker"):
        shared = (
            merged.filter(pl.col(column).is_not_null()).group_by(column).agg(pl.col("cusip").sort())
            .filter(pl.col("cusip").list.len() > 1).sort(column)
        )
        for value, cusips in shared.iter_rows():
            problems.append(
                f"{column} {value!r} belongs to more than one CUSIP ({', '.join(c or 'none' for c in cusips)}): "
                f"a {column} is unique; correct the product master"
            )
    if problems:
        raise LandedFileError(landed.files[-1] if landed.files else Path("products"), problems)
    return merged, report


def _unknown_firms(landed: MasterRows, firm_ids: dict[str, int], column: str = "firm_crd_number") -> None:
    unknown = landed.rows.filter(~pl.col(column).is_in(list(firm_ids)))
    if unknown.is_empty():
        return
    first = unknown[FILE][0]
    problems = [
        f"{landed.where(file, line).removeprefix(first + ' ')} ({crd!r}): no firm with CRD {crd} in dim_firms or "
        "firms/: land the firm in firms/ first (an advisor without a known firm has no channel)"
        for file, line, crd in unknown.select(FILE, LINE, column).head(10).rows()
    ]
    raise LandedFileError(next(p for p in landed.files if p.name == first), problems)


@dataclass(frozen=True)
class Assignments:
    """Effective-dated assignments of members: member id -> [(effective_date, values), ...] by date."""

    by_member: dict[int, list[tuple[dt.date, tuple]]]

    @classmethod
    def of(cls, frame: pl.DataFrame, id_column: str, value_columns: list[str]) -> Assignments:
        by_member: dict[int, list] = {}
        for row in frame.sort(id_column, "effective_date").iter_rows(named=True):
            by_member.setdefault(row[id_column], []).append(
                (row["effective_date"], tuple(row[c] for c in value_columns))
            )
        return cls(by_member)


def _merge_assignments(
    current: pl.DataFrame, landed: dict[tuple[int, dt.date], tuple], id_column: str, value_columns: list[str],
    table: str, report: MergeReport, describe,
) -> pl.DataFrame:
    """The current assignments with the landed ones added (same member and date: the landed one wins);
    each added assignment that changes the values in force before it is a move."""
    merged = {(r[id_column], r["effective_date"]): tuple(r[c] for c in value_columns)
              for r in current.iter_rows(named=True)}
    added = {key for key, values in landed.items() if merged.get(key) != values}
    merged.update(landed)
    report.assignments_added = len(added)
    by_member: dict[int, list] = {}
    for (member, day), values in sorted(merged.items()):
        by_member.setdefault(member, []).append((day, values))
    for member, history in by_member.items():
        for (_, before), (day, after) in zip(history, history[1:]):
            if (member, day) in added and before != after:
                report.moves.append(describe(member, day, before, after))
    rows = [{id_column: member, "effective_date": day, **dict(zip(value_columns, values))}
            for (member, day), values in sorted(merged.items())]
    return _frame(table, rows)


def merge_advisors(
    current: pl.DataFrame, current_assignments: pl.DataFrame, landed: MasterRows, firms: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, MergeReport]:
    """dim_advisors and advisor_assignments with the landed advisors applied. Each landed row is an
    assignment (firm, territory) effective on its firm_start_date; the dimension row shows the latest
    assignment and the attributes of the latest-dated landed row. An inferred advisor whose CRD a
    master brings is completed under its key. A firm CRD unknown to `firms` is refused."""
    firm_ids = dict(zip(firms["crd_number"], firms["firm_id"]))
    _unknown_firms(landed, firm_ids)
    report = MergeReport()
    inferred = set(current.filter(pl.col("is_inferred"))["crd_number"].to_list())
    latest = landed.rows.sort("crd_number", "firm_start_date").unique("crd_number", keep="last")
    rows = {
        r["crd_number"]: {
            "advisor_name": r["advisor_name"], "crd_number": r["crd_number"],
            "career_start_date": r["career_start_date"], "segment": r["segment"], "is_active": r["is_active"],
            "is_inferred": False,
            # Place-holders: the latest assignment (landed or loaded before) sets them below.
            "firm_id": firm_ids[r["firm_crd_number"]], "territory_id": UNASSIGNED_ID,
            "firm_start_date": r["firm_start_date"],
        }
        for r in latest.iter_rows(named=True)
    }
    provisional = _apply("dim_advisors", "crd_number", "advisor_id", current, rows, MergeReport())
    advisor_id = dict(zip(provisional["crd_number"], provisional["advisor_id"]))
    landed_assignments = {
        (advisor_id[r["crd_number"]], r["firm_start_date"]): (firm_ids[r["firm_crd_number"]],
                                                              TERRITORY_ID[r["territory_code"]])
        for r in landed.rows.iter_rows(named=True)
    }
    firm_name = dict(zip(firms["firm_id"], firms["firm_name"]))
    territory_code = {v: k for k, v in TERRITORY_ID.items()} | {UNASSIGNED_ID: UNASSIGNED_CODE}
    crd_of = {v: k for k, v in advisor_id.items()}

    def describe(member, day, before, after):
        return (f"advisor {crd_of[member]} from {day}: {firm_name.get(before[0])} / {territory_code[before[1]]} -> "
                f"{firm_name.get(after[0])} / {territory_code[after[1]]}")

    assignments = _merge_assignments(current_assignments, landed_assignments, "advisor_id",
                                     ["firm_id", "territory_id"], "advisor_assignments", report, describe)
    in_force = Assignments.of(assignments, "advisor_id", ["firm_id", "territory_id"]).by_member
    # The dimension row: the latest assignment of every landed (or already assigned) advisor.
    final = {}
    for crd, row in rows.items():
        day, (firm, territory) = in_force[advisor_id[crd]][-1]
        final[crd] = {**row, "firm_id": firm, "territory_id": territory, "firm_start_date": day}
    merged = _apply("dim_advisors", "crd_number", "advisor_id", current, final, report)
    report.completed = sorted(inferred & set(rows), key=lambda k: (len(k), k))
    return merged, assignments, report


def merge_wholesalers(
    current: pl.DataFrame, current_assignments: pl.DataFrame, landed: MasterRows
) -> tuple[pl.DataFrame, pl.DataFrame, MergeReport]:
    """dim_wholesalers and wholesaler_assignments with the landed wholesalers applied: each row is a
    territory assignment effective on its territory_start_date (default hire_date). The Unassigned
    wholesaler (key 0) is always there."""
    report = MergeReport()
    if current.filter(pl.col("wholesaler_id") == UNASSIGNED_ID).is_empty():
        current = pl.concat([_frame("dim_wholesalers", [unassigned_wholesaler()]), current])
    latest = landed.rows.sort("employee_code", "territory_start_date").unique("employee_code", keep="last")
    rows = {
        r["employee_code"]: {
            "wholesaler_name": r["wholesaler_name"], "employee_code": r["employee_code"],
            "territory_id": TERRITORY_ID[r["territory_code"]], "team_name": r["team_name"],
            "hire_date": r["hire_date"], "annual_base_salary": r["annual_base_salary"],
            "incentive_rate": r["incentive_rate"], "is_unassigned": False,
        }
        for r in latest.iter_rows(named=True)
    }
    provisional = _apply("dim_wholesalers", "employee_code", "wholesaler_id", current, rows, MergeReport())
    wholesaler_id = dict(zip(provisional["employee_code"], provisional["wholesaler_id"]))
    code_of = {v: k for k, v in wholesaler_id.items()}
    territory_code = {v: k for k, v in TERRITORY_ID.items()}
    landed_assignments = {
        (wholesaler_id[r["employee_code"]], r["territory_start_date"]): (TERRITORY_ID[r["territory_code"]],)
        for r in landed.rows.iter_rows(named=True)
    }

    def describe(member, day, before, after):
        return f"wholesaler {code_of[member]} from {day}: {territory_code[before[0]]} -> {territory_code[after[0]]}"

    assignments = _merge_assignments(current_assignments, landed_assignments, "wholesaler_id", ["territory_id"],
                                     "wholesaler_assignments", report, describe)
    in_force = Assignments.of(assignments, "wholesaler_id", ["territory_id"]).by_member
    final = {code: {**row, "territory_id": in_force[wholesaler_id[code]][-1][1][0]} for code, row in rows.items()}
    merged = _apply("dim_wholesalers", "employee_code", "wholesaler_id", current, final, report)
    report.kept -= int(UNASSIGNED_CODE not in rows)  # the Unassigned member is not a kept master row
    return merged, assignments, report


def inferred_advisors(current: pl.DataFrame, unknown: pl.DataFrame) -> pl.DataFrame:
    """New dim_advisors rows for advisor CRDs the warehouse does not hold yet (`unknown`: crd_number,
    firm_id, first_date): 'Unknown advisor <CRD>' at that firm, in the Unassigned territory, flagged
    is_inferred, keyed after the existing advisors in CRD order."""
    next_id = max([UNASSIGNED_ID, *current["advisor_id"].to_list()]) + 1
    rows = []
    for offset, row in enumerate(sorted(unknown.iter_rows(named=True), key=lambda r: (len(r["crd_number"]),
                                                                                       r["crd_number"]))):
        rows.append({
            "advisor_id": next_id + offset, "advisor_name": f"Unknown advisor {row['crd_number']}",
            "crd_number": row["crd_number"], "firm_id": row["firm_id"], "territory_id": UNASSIGNED_ID,
            "career_start_date": row["first_date"], "firm_start_date": row["first_date"],
            "segment": INFERRED_SEGMENT, "is_active": True, "is_inferred": True,
        })
    return _frame("dim_advisors", rows)


# The tables each master's merge reads (and writes back, merged).
MASTER_READS = {
    "dim_firms": ["dim_firms"],
    "dim_products": ["dim_products"],
    "dim_advisors": ["dim_advisors", "advisor_assignments", "dim_firms"],
    "dim_wholesalers": ["dim_wholesalers", "wholesaler_assignments"],
}


def merge_master(table: str, current: dict[str, pl.DataFrame], landed: MasterRows
                 ) -> tuple[dict[str, pl.DataFrame], MergeReport]:
    """What `table` (and its assignments) must hold once `landed` is merged into `current`
    (the MASTER_READS tables as the warehouse holds them)."""
    if table == "dim_firms":
        frame, report = merge_firms(current["dim_firms"], landed)
        return {"dim_firms": frame}, report
    if table == "dim_products":
        frame, report = merge_products(current["dim_products"], landed)
        return {"dim_products": frame}, report
    if table == "dim_advisors":
        frame, assignments, report = merge_advisors(
            current["dim_advisors"], current["advisor_assignments"], landed, current["dim_firms"]
        )
        return {"dim_advisors": frame, "advisor_assignments": assignments}, report
    frame, assignments, report = merge_wholesalers(current["dim_wholesalers"], current["wholesaler_assignments"],
                                                   landed)
    return {"dim_wholesalers": frame, "wholesaler_assignments": assignments}, report
