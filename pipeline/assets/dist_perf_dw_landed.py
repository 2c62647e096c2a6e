"""The landed source of the dist_perf_dw assets ($PIVOT_DIST_SOURCE=landed, or run config
`source: landed`): thin wiring between the pure readers and rules of `pipeline.dist_perf_dw.landed`
and the PostgresResource. Every function returns the materialization's metadata."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dagster as dg
import polars as pl
import psycopg
from pydantic import Field

from pipeline.assets.metadata import row_counts
from pipeline.assets.policies import LoadConfig
from pipeline.dist_perf_dw.calendar import month_days
from pipeline.dist_perf_dw.facts.retention import RETENTION_AGES_DAYS
from pipeline.dist_perf_dw.landed.facts import (
    PURCHASE_TYPE_ID,
    FactFile,
    comp_rows,
    expense_rows,
    expenses_of,
    positions_snapshot,
    read_fact_file,
    retention_rows,
    revenue_rows,
)
from pipeline.dist_perf_dw.landed.feeds import EXPENSES, FLOWS, POSITIONS, feed_directory, feed_files
from pipeline.dist_perf_dw.landed.flows import (
    RESOLUTION_TABLES,
    FlowDay,
    flow_day,
    read_flow_file,
    read_transaction_code_mapping,
    resolve_flows,
)
from pipeline.dist_perf_dw.landed.masters import MASTERS, read_master_folder
from pipeline.dist_perf_dw.landed.members import (
    MASTER_READS,
    MASTER_TABLES,
    UNASSIGNED_ID,
    VOCABULARY_TABLES,
    merge_master,
    vocabulary_dimensions,
)
from pipeline.dist_perf_dw.versions import landed_source
from pipeline.landed_files.folders import (
    FileState,
    LandedFileError,
    content_digest,
    date_in_name,
    folder_settings,
    require_unchanged,
    settled_state,
)
from pipeline.resources.postgres import LoadResult, PostgresResource
from pipeline.settings import DIST_LANDING_FOLDER, ENV_DIST_SOURCE, dist_landing_dir, dist_source, landed_settle_seconds

SOURCE_KEY = "dist_perf_dw/source"


class DistSourceConfig(LoadConfig):
    source: Literal["synthetic", "landed"] = Field(
        default=dist_source(),
        description=f"Where the rows come from: synthetic (generated from the seed) or landed (the distribution "
        f"team's feeds in $PIVOT_LANDING_DIR/{DIST_LANDING_FOLDER}/<feed>/). The default is ${ENV_DIST_SOURCE} "
        "(else synthetic), read when the definitions load.",
    )


def settled(paths: Sequence[Path]) -> dict[Path, FileState]:
    """Each file's state, refused while it changed within PIVOT_LANDED_SETTLE_SECONDS."""
    seconds = landed_settle_seconds()
    return {path: settled_state(path, seconds) for path in paths}


def still_unchanged(states: dict[Path, FileState]) -> None:
    for path, state in states.items():
        require_unchanged(path, state)


def files_metadata(rows_by_file: dict[Path, int]) -> dg.MetadataValue:
    lines = ["| file | rows | sha256 |", "|---|---:|---|"]
    lines += [f"| {path.name} | {rows:,} | `{_digest(path)}` |" for path, rows in rows_by_file.items()]
    return dg.MetadataValue.md("\n".join(lines) if rows_by_file else "no files")


def version_source(rows_by_file: dict[Path, int], note: str = "") -> str:
    """A landed date's source as its version records it: each file with its rows and SHA-256."""
    return landed_source(((path.name, rows, _digest(path)) for path, rows in rows_by_file.items()), note)


def _digest(path: Path) -> str:
    # The version's source and the metadata's file table both name a file's SHA-256: hash it once per
    # content, again whenever the file may have changed: any write (or a touch setting its mtime back)
    # moves its ctime, which no one can set.
    stat = path.stat()
    return _file_digest(path, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@functools.lru_cache(maxsize=256)
def _file_digest(path: Path, *_identity: int) -> str:
    return content_digest(path)


def load_landed_dimension(table: str, postgres: PostgresResource) -> dict:
    """A vocabulary dimension from the project's lists (plus the Unassigned members); a master's
    dimension merged with every file of its folder (stable keys, assignments, nothing deleted)."""
    if table in VOCABULARY_TABLES:
        frame = vocabulary_dimensions()[table]
        result = postgres.reload_dimension(table, frame)
        return {**row_counts(frame.height), "rows_written": result.rows_loaded, "rows_deleted": result.rows_deleted,
                SOURCE_KEY: "landed (the project's vocabulary)"}
    feed = MASTERS[MASTER_TABLES[table]]
    directory = feed_directory(dist_landing_dir(), feed)
    files = feed_files(directory)
    states = settled(files)
    landed = read_master_folder(directory, feed, files)
    still_unchanged(states)
    reports = []

    def merge(current):
        frames, report = merge_master(table, current, landed)
        reports.append(report)
        return frames

    results = postgres.merge_members(MASTER_READS[table], merge)
    report = reports[0]
    rows_by_file = {path: landed.rows.filter(landed.rows["__file"] == path.name).height for path in landed.files}
    metadata = {
        **row_counts(postgres.table_rows(table)),
        SOURCE_KEY: "landed",
        "source_files": files_metadata(rows_by_file),
        "members_added": len(report.added),
        "members_changed": len(report.changed),
        "members_unchanged": report.unchanged,
        "members_kept": report.kept,
        "rows_written": sum(r.rows_loaded for r in results),
        "merge": report.summary(),
    }
    if table in ("dim_advisors", "dim_wholesalers"):
        metadata["moves_applied"] = dg.MetadataValue.json(report.moves)
        metadata["assignments_added"] = report.assignments_added
    if table == "dim_advisors":
        metadata["inferred_completed"] = dg.MetadataValue.json(report.completed)
        metadata["dates_to_reload"] = dg.MetadataValue.json(unassigned_dates(postgres, report.completed))
    return metadata


def unassigned_dates(postgres: PostgresResource, crd_numbers: Sequence[str]) -> list[str]:
    """The flow dates whose flows of these advisors were credited to the Unassigned wholesaler: to be
    loaded again now that a master says where the advisors are."""
    if not crd_numbers:
        return []
    frame = postgres.read_frame(
        "SELECT DISTINCT f.flow_date FROM dist_perf_dw.fact_aum_flows f "
        "JOIN dist_perf_dw.dim_advisors a ON a.advisor_id = f.advisor_id "
        "WHERE a.crd_number = ANY(:crds) AND f.wholesaler_id = :unassigned ORDER BY 1",
        {"crds": list(crd_numbers), "unassigned": UNASSIGNED_ID},
    )
    return [day.isoformat() for day in frame["flow_date"]] if frame.height else []


# --------------------------------------------------------------------------- facts


@dataclass
class LandedFactLoad:
    """What a landed fact load did: one LoadResult and loaded frame per partition, and its metadata."""

    results: list[LoadResult]
    frames: list[pl.DataFrame]
    metadata: dict


def _flow_totals(postgres: PostgresResource, day: dt.date) -> tuple[int, float]:
    frame = postgres.read_frame(
        "SELECT count(*) AS n, coalesce(sum(net_amount), 0) AS net FROM dist_perf_dw.fact_aum_flows "
        "WHERE flow_date = :day", {"day": day})
    return int(frame["n"][0]), float(frame["net"][0])


def _loaded_totals(fact: pl.DataFrame) -> tuple[int, float] | None:
    """The rows and net total a swap just wrote, from its frame: exact when every net_amount is a whole number
    of cents (what NUMERIC(18, 2) stores unchanged: summed as integer cents); None otherwise (ask the table)."""
    cents = fact.get_column("net_amount") * 100
    whole = cents.round()
    if fact.height and not ((cents - whole).abs() < 1e-6).all():
        return None
    return fact.height, int(whole.cast(pl.Int64).sum()) / 100


def _already_loaded_elsewhere(postgres: PostgresResource, day: dt.date, fact: pl.DataFrame) -> list[str]:
    clashes = postgres.read_frame(
        "SELECT source_transaction_id AS id, flow_date FROM dist_perf_dw.fact_aum_flows "
        "WHERE source_transaction_id = ANY(:ids) AND flow_date <> :day ORDER BY 1 LIMIT 10",
        {"ids": fact["source_transaction_id"].to_list(), "day": day},
    )
    return [f"transaction_id {tid!r} is already loaded on {other}" for tid, other in clashes.iter_rows()]


def read_flow_days(days: Sequence[dt.date]) -> list[FlowDay]:
    """Every date's flows checked before any date changes (a range run refuses whole)."""
    landing = dist_landing_dir()
    folder = feed_directory(landing, FLOWS)
    if not folder.is_dir():
        raise LandedFileError(folder, f"the folder {folder} does not exist: create it and land the transfer "
                                      "agent's flow files there (or check PIVOT_LANDING_DIR)")
    paths = feed_files(folder)
    states = settled(paths)
    mapping = read_transaction_code_mapping(landing)
    settings = folder_settings(folder)
    files = []
    for path in paths:
        try:
            files.append(read_flow_file(path, mapping, settings))
        except LandedFileError:
            # A bad file blocks the dates it may hold: its name's date, or any when its name has none.
            if date_in_name(path) is None or date_in_name(path) in days:
                raise
    still_unchanged(states)
    return [flow_day(files, day, folder) for day in days]


def load_landed_flows(
    partition_keys: Sequence[str], postgres: PostgresResource, _as_of=None, *, run_id: str = ""
) -> LandedFactLoad:
    """fact_aum_flows of each date from flows/: checked and resolved for every date first (against the
    dimensions as they are), then each date swapped in whole with its inferred advisors."""
    days = [dt.date.fromisoformat(key) for key in partition_keys]
    # The dates' totals before (the metadata's restatement figures) are read while the files are checked.
    with ThreadPoolExecutor(max_workers=1) as pool:
        totals_before = pool.submit(lambda: {day: _flow_totals(postgres, day) for day in days})
        flow_days = read_flow_days(days)
        befores = totals_before.result()
    if len(flow_days) > 1:  # a range refuses an unknown firm or CUSIP of any date before any date changes
        snapshot = postgres.read_tables(RESOLUTION_TABLES)
        for flows in flow_days:
            resolve_flows(flows, snapshot)
    results, frames, rows = [], [], []
    for flows in flow_days:
        reports, facts = [], []

        def build(dims, flows=flows, reports=reports, facts=facts):
            fact, new_advisors, report = resolve_flows(flows, dims)
            reports.append(report)
            facts.append(fact)
            return {"dim_advisors": new_advisors}, fact

        before = befores[flows.day]
        try:
            result = postgres.replace_partition_with_members(
                "fact_aum_flows", "flow_date", flows.day, flows.day + dt.timedelta(days=1), RESOLUTION_TABLES, build,
                source=version_source(flows.rows_by_file), run_id=run_id,
            )
        except psycopg.errors.UniqueViolation as error:
            clashes = _already_loaded_elsewhere(postgres, flows.day, facts[-1]) or [str(error).splitlines()[0]]
            raise LandedFileError(
                flows.files[-1].path,
                [*clashes, f"a transaction_id is unique across dates: remove it from the files of {flows.day} or of "
                           "the other date (a corrected file replaces its old version under the same name)"],
            ) from None
        report = reports[-1]
        results.append(result)
        frames.append(facts[-1])
        rows.append((flows, report, before, _loaded_totals(facts[-1]) or _flow_totals(postgres, flows.day)))
    return LandedFactLoad(results, frames, _flows_metadata(rows))


def _flows_metadata(rows) -> dict:
    lines = [
        "| date | files | rows | inferred advisors | to Unassigned | record's firm differs | net before | net after |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for flows, report, before, after in rows:
        files = ", ".join(f"{p.name} ({n:,})" for p, n in flows.rows_by_file.items()) or "none (weekend or holiday)"
        lines.append(
            f"| {flows.day} | {files} | {flows.rows.height:,} | {', '.join(report.inferred_advisors) or '-'} | "
            f"{report.unassigned_flows:,} | {report.firm_disagreement_count:,} | {before[1]:,.2f} ({before[0]:,}) | "
            f"{after[1]:,.2f} ({after[0]:,}) |"
        )
    all_files = {p: n for flows, *_ in rows for p, n in flows.rows_by_file.items()}
    metadata = {
        SOURCE_KEY: "landed",
        "landed_dates": dg.MetadataValue.md("\n".join(lines)),
        "source_files": files_metadata(all_files),
        "inferred_advisors_created": dg.MetadataValue.json(
            sorted({crd for _, report, *_ in rows for crd in report.inferred_advisors})
        ),
        "flows_to_unassigned": sum(r.unassigned_flows for _, r, *_ in rows),
        "record_firm_differs": sum(r.firm_disagreement_count for _, r, *_ in rows),
        "record_firm_differs_examples": dg.MetadataValue.json([e for _, r, *_ in rows for e in r.firm_disagreements]),
    }
    if len(rows) == 1:
        _, _, before, after = rows[0]
        metadata["restated"] = before[0] > 0
        metadata["rows_before"], metadata["net_flows_before_usd"] = before[0], round(before[1], 2)
    return metadata


def _query(postgres: PostgresResource, query: str, params: dict, schema: dict) -> pl.DataFrame:
    frame = postgres.read_frame(query, params)
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])


def _fact_files(feed, days: Sequence[dt.date]) -> tuple[Path, list[FactFile]]:
    """Every file of a positions or expenses folder read, settled and unchanged while read; a bad file
    blocks the dates it may hold (its name's date; any, when its name has none)."""
    folder = feed_directory(dist_landing_dir(), feed)
    paths = feed_files(folder)
    states = settled(paths)
    settings = folder_settings(folder) if folder.is_dir() else None
    files = []
    for path in paths:
        try:
            files.append(read_fact_file(path, feed, settings))
        except LandedFileError:
            named = date_in_name(path)
            if named is None or named in days or (feed is POSITIONS and named <= max(days)):
                raise
    still_unchanged(states)
    return folder, files


def _day_flows(postgres: PostgresResource, day: dt.date) -> pl.DataFrame:
    return _query(postgres, "SELECT advisor_id, product_id, firm_id, channel_id, wholesaler_id, net_amount "
                  "FROM dist_perf_dw.fact_aum_flows WHERE flow_date = :day ORDER BY flow_id", {"day": day},
                  {"advisor_id": pl.Int32, "product_id": pl.Int32, "firm_id": pl.Int32, "channel_id": pl.Int32,
                   "wholesaler_id": pl.Int32, "net_amount": pl.Float64})


def _next_day(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


def load_landed_revenue(
    partition_keys: Sequence[str], postgres: PostgresResource, as_of: dt.date, *, run_id: str = ""
) -> LandedFactLoad:
    """fact_revenue of each date from the latest positions snapshot on or before it and the date's loaded
    flows; every date checked first, then each swapped in whole with its inferred advisors."""
    days = [dt.date.fromisoformat(key) for key in partition_keys]
    folder, files = _fact_files(POSITIONS, days)
    snapshots = {day: positions_snapshot(files, day, folder) for day in days}
    flows = {day: _day_flows(postgres, day) for day in days}
    dims = postgres.read_tables(RESOLUTION_TABLES)
    for day in days:
        revenue_rows(snapshots[day], day, dims, flows[day], as_of)
    results, frames, lines, inferred = [], [], [], set()
    for day in days:
        built = []

        def build(current, day=day, built=built):
            revenue, new_advisors, report = revenue_rows(snapshots[day], day, current, flows[day], as_of)
            built.append((revenue, report))
            return {"dim_advisors": new_advisors}, revenue

        source = version_source(snapshots[day].rows_by_file, f"positions of {snapshots[day].day}, the date's flows")
        results.append(postgres.replace_partition_with_members(
            "fact_revenue", "revenue_date", day, _next_day(day), RESOLUTION_TABLES, build, source=source,
            run_id=run_id))
        revenue, report = built[-1]
        frames.append(revenue)
        inferred |= set(report.inferred_advisors)
        snapshot = snapshots[day]
        lines.append(f"| {day} | {snapshot.day} | {', '.join(p.name for p in snapshot.rows_by_file) or '-'} | "
                     f"{revenue.height:,} | {report.unassigned_rows:,} |")
    table = ["| date | snapshot | files | rows | to Unassigned |", "|---|---|---|---:|---:|", *lines]
    all_files = {p: n for snapshot in snapshots.values() for p, n in snapshot.rows_by_file.items()}
    return LandedFactLoad(results, frames, {
        SOURCE_KEY: "landed", "landed_dates": dg.MetadataValue.md("\n".join(table)),
        "source_files": files_metadata(all_files), "inferred_advisors_created": dg.MetadataValue.json(sorted(inferred)),
    })


_RETENTION_FLOWS = """
WITH pairs AS (
    SELECT DISTINCT advisor_id, product_id FROM dist_perf_dw.fact_aum_flows
    WHERE flow_date = ANY(:cohorts) AND transaction_type_id = :purchase
)
SELECT f.flow_id, f.flow_date, f.advisor_id, f.product_id, f.channel_id, f.wholesaler_id, f.transaction_type_id,
       f.amount
FROM dist_perf_dw.fact_aum_flows f JOIN pairs USING (advisor_id, product_id)
WHERE f.flow_date <= :day
"""


RETENTION_SOURCE = "landed (from the loaded flows, FIFO)"
COMP_SOURCE = "landed (from the loaded flows and the wholesaler master)"


def load_landed_retention(
    partition_keys: Sequence[str], postgres: PostgresResource, _as_of=None, *, run_id: str = ""
) -> LandedFactLoad:
    """fact_retention_snapshots of each date from the loaded flows, redemptions relieving purchases FIFO."""
    schema = {"flow_id": pl.Int64, "flow_date": pl.Date, "advisor_id": pl.Int32, "product_id": pl.Int32,
              "channel_id": pl.Int32, "wholesaler_id": pl.Int32, "transaction_type_id": pl.Int32,
              "amount": pl.Float64}
    results, frames = [], []
    for key in partition_keys:
        day = dt.date.fromisoformat(key)
        cohorts = [day - dt.timedelta(days=age) for age in RETENTION_AGES_DAYS]
        flows = _query(postgres, _RETENTION_FLOWS, {"cohorts": cohorts, "purchase": PURCHASE_TYPE_ID, "day": day},
                       schema)
        frame = retention_rows(day, flows)
        results.append(postgres.replace_partition("fact_retention_snapshots", "snapshot_date", day, _next_day(day),
                                                  frame, source=RETENTION_SOURCE, run_id=run_id))
        frames.append(frame)
    return LandedFactLoad(results, frames, {SOURCE_KEY: RETENTION_SOURCE})


def load_landed_comp(
    partition_keys: Sequence[str], postgres: PostgresResource, _as_of=None, *, run_id: str = ""
) -> LandedFactLoad:
    """fact_wholesaler_comp of each month from its loaded flows and the wholesaler master."""
    dims = postgres.read_tables(["dim_wholesalers", "dim_transaction_types"])
    schema = {"wholesaler_id": pl.Int32, "transaction_type_id": pl.Int32, "amount": pl.Float64,
              "net_amount": pl.Float64}
    results, frames = [], []
    for key in partition_keys:
        month = dt.date.fromisoformat(key)
        end = _next_day(month_days(month)[-1])
        flows = _query(postgres, "SELECT wholesaler_id, transaction_type_id, amount, net_amount FROM "
                       "dist_perf_dw.fact_aum_flows WHERE flow_date >= :start AND flow_date < :end",
                       {"start": month, "end": end}, schema)
        frame = comp_rows(month, dims["dim_wholesalers"], dims["dim_transaction_types"], flows)
        results.append(postgres.replace_partition("fact_wholesaler_comp", "comp_month", month, end, frame,
                                                  source=COMP_SOURCE, run_id=run_id))
        frames.append(frame)
    return LandedFactLoad(results, frames, {SOURCE_KEY: COMP_SOURCE})


def load_landed_expenses(
    partition_keys: Sequence[str], postgres: PostgresResource, _as_of=None, *, run_id: str = ""
) -> LandedFactLoad:
    """fact_distribution_expense of each date from expenses/ (a date without rows loads empty)."""
    days = [dt.date.fromisoformat(key) for key in partition_keys]
    _, files = _fact_files(EXPENSES, days)
    dims = postgres.read_tables(["dim_wholesalers", "dim_firms", "wholesaler_assignments"])
    frames = [expense_rows(expenses_of(files, day), dims) for day in days]  # every date checked first
    results = [postgres.replace_partition("fact_distribution_expense", "expense_date", day, _next_day(day), frame,
                                          source=version_source(expenses_of(files, day).rows_by_file), run_id=run_id)
               for day, frame in zip(days, frames)]
    used = {p: n for day in days for p, n in expenses_of(files, day).rows_by_file.items()}
    return LandedFactLoad(results, frames, {SOURCE_KEY: "landed", "source_files": files_metadata(used)})


LANDED_FACTS = {
    "fact_aum_flows": load_landed_flows,
    "fact_revenue": load_landed_revenue,
    "fact_retention_snapshots": load_landed_retention,
    "fact_wholesaler_comp": load_landed_comp,
    "fact_distribution_expense": load_landed_expenses,
}
