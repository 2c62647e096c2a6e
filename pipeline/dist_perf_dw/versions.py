"""Versions of a date of dist_perf_dw's date-partitioned facts: a reload or a restore keeps the rows it replaces.

A fact's date (a month for fact_wholesaler_comp) is swapped by DELETE + COPY in one transaction
(pipeline/resources/postgres.py). In that same transaction the rows it replaces move to the fact's
history table (`dist_perf_dw.<fact>_history`: the fact's columns plus `version`,
ddl/postgres/030_fact_history.sql) and `dist_perf_dw.partition_versions` records every version of the
date: its number (1, 2, ... in the order the versions went live), state (`live`, `kept`, `dropped`),
when it went live and was replaced, by which run, its source (synthetic seed, or the landed files with
their SHA-256), rows and amount total. A transaction either commits all of it or none, so no pending
state and nothing to settle after a killed process (unlike pivot's, pipeline/pivot/versions.py).

This module decides, the resource layer (pipeline/resources/postgres_versions.py) does the SQL: which
number a new version gets, which version a reload or restore keeps, which kept ones are dropped (all
but the newest `kept`, PIVOT_VERSIONS_KEPT), and how a date's versions are listed (the columns of
pivot's listing: `notional_usd` there is the fact's amount total, see AMOUNT_COLUMNS).
Dagster-free and client-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from pipeline.pivot.versions import LISTING_COLUMNS, VersionError, versions_frame

__all__ = [
    "AMOUNT_COLUMNS",
    "DATE_COLUMNS",
    "LISTING_COLUMNS",
    "PartitionVersion",
    "Replacement",
    "VersionError",
    "asset_table",
    "history_table",
    "landed_source",
    "listing",
    "partition_window",
    "plan_replacement",
    "plan_restore",
    "restored_source",
    "synthetic_source",
]

# The date-partitioned facts and the column their partition is cut on (the assets' FactSpec.date_column).
DATE_COLUMNS = {
    "fact_aum_flows": "flow_date",
    "fact_revenue": "revenue_date",
    "fact_retention_snapshots": "snapshot_date",
    "fact_distribution_expense": "expense_date",
    "fact_wholesaler_comp": "comp_month",
}
# The amount a version's total sums, in USD: what the listing's `notional_usd` column shows for the fact.
# Net flows for fact_aum_flows (the figure the landed flows' "net before / after" report), the revenue,
# the retained amount, the expense, the total compensation.
AMOUNT_COLUMNS = {
    "fact_aum_flows": "net_amount",
    "fact_revenue": "revenue_amount",
    "fact_retention_snapshots": "retained_amount",
    "fact_distribution_expense": "amount",
    "fact_wholesaler_comp": "total_comp_amount",
}
HISTORY_SUFFIX = "_history"
BEFORE_VERSIONS = "loaded before versions were kept"


def history_table(table: str) -> str:
    return f"{table}{HISTORY_SUFFIX}"


VERSIONED_ASSETS = tuple(f"dist_perf_dw/{table}" for table in DATE_COLUMNS)


def asset_table(asset: str) -> str:
    """`dist_perf_dw/fact_aum_flows` -> `fact_aum_flows`; a clear error for a fact that keeps no versions."""
    table = asset.removeprefix("dist_perf_dw/")
    if table not in DATE_COLUMNS:
        raise VersionError(f"{asset}: versions are kept for {', '.join(VERSIONED_ASSETS)} only")
    return table


def partition_window(table: str, day: date) -> tuple[date, date]:
    """The partition holding `day`: [day, next day), or its month for the monthly fact_wholesaler_comp."""
    if DATE_COLUMNS[table] == "comp_month":
        start = day.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1)
    return day, day + timedelta(days=1)


@dataclass(frozen=True)
class PartitionVersion:
    """One version of a fact's date (partition_start: the day, or the month's first day), as
    partition_versions records it."""

    table: str
    partition_start: date
    version: int
    state: str
    loaded_at: datetime | None  # None: loaded before versions were kept
    replaced_at: datetime | None
    run_id: str
    source: str
    rows: int
    amount_usd: float

    @property
    def notional_usd(self) -> float:
        # The listing's column name (the CLI's contract, shared with pivot): the fact's amount total.
        return self.amount_usd


@dataclass(frozen=True)
class Replacement:
    """What a reload or restore of a date does to its versions, decided before any row moves.

    number: the new live version's number. keep: the live version's number when its rows go to the
    history (None: nothing live, or nothing kept). drop: the kept versions whose history rows go."""

    number: int
    live: int | None
    keep: int | None
    drop: tuple[int, ...]


def _held(versions: Iterable[PartitionVersion]) -> list[PartitionVersion]:
    return sorted((v for v in versions if v.state in ("live", "kept")), key=lambda v: -v.version)


def plan_replacement(versions: list[PartitionVersion], *, live_rows_present: bool, kept: int) -> Replacement:
    """A new version replaces the date's live one. `versions`: every version the catalog holds for the
    date (any state); `live_rows_present`: the fact holds rows of the date (a date loaded before versions
    were kept has rows and no live version: it becomes one); `kept`: PIVOT_VERSIONS_KEPT."""
    live = next((v.version for v in versions if v.state == "live"), None)
    last = max((v.version for v in versions), default=0)
    if live is None and live_rows_present:
        live = last = last + 1
    number = last + 1
    keep = live if live is not None and kept > 0 else None
    kept_now = sorted((v.version for v in versions if v.state == "kept"), reverse=True)
    if keep is not None:
        kept_now.insert(0, keep)
    return Replacement(number, live, keep, tuple(kept_now[max(kept, 0) :]))


def plan_restore(versions: list[PartitionVersion], number: int, *, kept: int, name: str) -> PartitionVersion:
    """The kept version `number` a restore puts live again; VersionError (nothing changed) when the date
    holds no such kept version or none can be kept (the live rows would be lost). `name`: the asset key
    and date, for the message."""
    wanted = next((v for v in versions if v.version == number), None)
    if wanted is None or wanted.state != "kept":
        held = ", ".join(f"{v.version} ({v.state})" for v in _held(versions)) or "none"
        why = f"is {wanted.state}" if wanted else "does not exist"
        asset, day = name.rsplit(" ", 1)
        raise VersionError(
            f"{day}: version {number} of {asset} {why}, nothing changed; the versions it holds: {held} "
            f"(python -m pipeline.restore {asset} {day} lists them)"
        )
    if kept <= 0:
        raise VersionError("PIVOT_VERSIONS_KEPT is 0: a restore would lose the live rows, nothing changed")
    return wanted


def restored_source(wanted: PartitionVersion) -> str:
    return f"restored version {wanted.version}: {wanted.source}"


def synthetic_source(seed: int, flow_scale: float) -> str:
    return f"synthetic: seed {seed}, flow scale {flow_scale:g}"


def landed_source(files: Iterable[tuple[str, int, str]], note: str = "") -> str:
    """A landed version's source: each file with its rows and SHA-256 (pivot's format), and what else
    the rows were derived from (`note`)."""
    described = "; ".join(f"{name} ({rows:,} rows, sha256 {sha256})" for name, rows, sha256 in files)
    return "landed: " + "; ".join(part for part in (described, note) if part) if described or note else "landed"


def listing(versions: list[PartitionVersion]) -> pl.DataFrame:
    """What the date holds, newest first, in the CLI's columns (version, replaced_at, rows,
    notional_usd, source); the live one with replaced_at null (empty in CSV)."""
    return versions_frame(_held(versions)).select(LISTING_COLUMNS)
