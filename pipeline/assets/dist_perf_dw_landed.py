"""The landed source of the dist_perf_dw assets ($PIVOT_DIST_SOURCE=landed, or run config
`source: landed`): thin wiring between the pure readers and rules of `pipeline.dist_perf_dw.landed`
and the PostgresResource. Every function returns the materialization's metadata."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field

from pipeline.assets.metadata import row_counts
from pipeline.dist_perf_dw.landed.feeds import feed_directory, feed_files
from pipeline.dist_perf_dw.landed.masters import MASTERS, read_master_folder
from pipeline.dist_perf_dw.landed.members import (
    MASTER_READS,
    MASTER_TABLES,
    UNASSIGNED_ID,
    VOCABULARY_TABLES,
    merge_master,
    vocabulary_dimensions,
)
from pipeline.landed_files.folders import FileState, content_digest, require_unchanged, settled_state
from pipeline.resources.postgres import PostgresResource
from pipeline.settings import DIST_LANDING_FOLDER, ENV_DIST_SOURCE, dist_landing_dir, dist_source, landed_settle_seconds

SOURCE_KEY = "dist_perf_dw/source"


class DistSourceConfig(dg.Config):
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
    lines += [f"| {path.name} | {rows:,} | `{content_digest(path)}` |" for path, rows in rows_by_file.items()]
    return dg.MetadataValue.md("\n".join(lines) if rows_by_file else "no files")


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
