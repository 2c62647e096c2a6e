"""The master feeds (firms/, advisors/, products/, wholesalers/): every file of a folder read, checked
against the project's vocabularies, and combined into one frame of natural-keyed rows.

A master folder may hold several files (exports of different days); all are read, by name. Rows of
one advisor (or wholesaler) with different effective dates (`firm_start_date`; for wholesalers
`territory_start_date`, default `hire_date`) are successive assignments; for the same key and date
the file whose name sorts last wins. A key repeated within one file is refused (the export is
ambiguous). Codes outside the vocabularies (firm types, regions, territories, asset classes, vehicle
types) are refused by name with the codes that exist. Whether a firm CRD an advisor names exists is
decided with the warehouse's firms (`members.merge_advisors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.dist_perf_dw.landed.feeds import (
    ADVISORS,
    FIRMS,
    PRODUCTS,
    WHOLESALERS,
    Feed,
    duplicates,
    problems_at,
    read_feed_file,
)
from pipeline.dist_perf_dw.vocabulary import ASSET_CLASSES, FIRM_TYPES, REGIONS, VEHICLE_TYPES
from pipeline.landed_files.folders import FolderSettings, LandedFileError, folder_settings, listing
from pipeline.landed_files.tables import LINE

FILE = "__file"
# The order of the files a row came from (a later file wins for the same key and date).
FILE_ORDER = "__file_order"


def territory_codes() -> list[str]:
    return [f"{code}{number}" for code, _, names, _ in REGIONS for number in range(1, len(names) + 1)]


# column -> (the codes it takes, what they are)
VOCABULARIES: dict[str, dict[str, tuple[list[str], str]]] = {
    "firms": {
        "firm_type_code": ([f[0] for f in FIRM_TYPES], "firm type"),
        "region_code": ([r[0] for r in REGIONS], "region"),
    },
    "advisors": {"territory_code": (territory_codes(), "territory")},
    "products": {
        "asset_class_code": ([a[0] for a in ASSET_CLASSES], "asset class"),
        "vehicle_type_code": ([v[0] for v in VEHICLE_TYPES], "vehicle type"),
    },
    "wholesalers": {"territory_code": (territory_codes(), "territory")},
}
# The natural key of each master and the column that dates a row (None: one current row per key).
KEYS: dict[str, tuple[str, str | None]] = {
    "firms": ("crd_number", None),
    "advisors": ("crd_number", "firm_start_date"),
    "products": ("cusip", None),
    "wholesalers": ("employee_code", "territory_start_date"),
}


@dataclass(frozen=True)
class MasterRows:
    """A master folder's rows (the feed's columns, FILE, FILE_ORDER, LINE), one per key (and date)."""

    feed: Feed
    rows: pl.DataFrame
    files: tuple[Path, ...]

    def where(self, file: str, line: int) -> str:
        kind = "row" if file.lower().endswith((".xlsx", ".parquet")) else "line"
        return f"{file} {kind} {line}"


def _range_problems(table, typed: pl.DataFrame, feed: Feed) -> list[str]:
    problems = []
    rate_columns = {"products": ["management_fee_rate"], "wholesalers": ["incentive_rate"]}.get(feed.folder, [])
    for column in rate_columns:
        bad = typed.filter((pl.col(column) < 0) | (pl.col(column) >= 1))
        if bad.height:
            problems.append(problems_at(
                table, bad.with_columns(pl.col(column).cast(pl.String)), column,
                f"{column} must be a fraction from 0 to 1: write 0.0045 or 0.45% (45 basis points)",
            ))
    if feed.folder == "wholesalers":
        bad = typed.filter(pl.col("annual_base_salary") < 0)
        if bad.height:
            problems.append(problems_at(
                table, bad.with_columns(pl.col("annual_base_salary").cast(pl.String)), "annual_base_salary",
                "annual_base_salary is negative: write the salary in USD",
            ))
    return problems


def _vocabulary_problems(table, typed: pl.DataFrame, feed: Feed) -> list[str]:
    problems = []
    for column, (codes, what) in VOCABULARIES.get(feed.folder, {}).items():
        bad = typed.filter(~pl.col(column).is_in(codes))
        if bad.height:
            problems.append(problems_at(
                table, bad, column, f"unknown {what} code in {column}: use one of {listing(codes, 40)}"
            ))
    return problems


def read_master_file(path: Path, feed: Feed, settings: FolderSettings | None = None) -> pl.DataFrame:
    """One master file as typed rows (LINE kept); LandedFileError naming every problem."""
    table, typed = read_feed_file(path, feed, settings)
    key, dated = KEYS[feed.folder]
    if feed.folder == "wholesalers":
        typed = typed.with_columns(territory_start_date=pl.coalesce("territory_start_date", "hire_date"))
    problems = _vocabulary_problems(table, typed, feed) + _range_problems(table, typed, feed)
    keys = [key] if dated is None else [key, dated]
    for row in duplicates(typed, keys).head(10).iter_rows(named=True):
        lines = " and ".join(table.where(line) for line in row[LINE])
        on = f" effective {row[dated]}" if dated else ""
        problems.append(f"{lines}: {key} {row[key]}{on} is listed more than once in this file; keep one row")
    if problems:
        raise LandedFileError(path, problems)
    return typed


def read_master_folder(directory: Path, feed: Feed, files: Sequence[Path]) -> MasterRows:
    """All files of a master folder combined: for the same key (and date) the last file by name wins."""
    settings = folder_settings(directory) if Path(directory).is_dir() else FolderSettings()
    frames = []
    files = sorted(files, key=lambda p: p.name)
    for order, path in enumerate(files):
        frames.append(
            read_master_file(path, feed, settings).with_columns(
                pl.lit(path.name).alias(FILE), pl.lit(order, dtype=pl.Int32).alias(FILE_ORDER)
            )
        )
    key, dated = KEYS[feed.folder]
    keys = [key] if dated is None else [key, dated]
    if not frames:
        from pipeline.dist_perf_dw.landed.feeds import feed_schema  # noqa: PLC0415

        empty = pl.DataFrame(schema={LINE: pl.UInt32, **feed_schema(feed), FILE: pl.String, FILE_ORDER: pl.Int32})
        return MasterRows(feed, empty, ())
    rows = pl.concat(frames, how="vertical_relaxed").sort(FILE_ORDER, LINE).unique(keys, keep="last")
    return MasterRows(feed, rows.sort(*keys), tuple(files))


MASTERS = {"firms": FIRMS, "advisors": ADVISORS, "products": PRODUCTS, "wholesalers": WHOLESALERS}
