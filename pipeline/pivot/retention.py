"""Retention of `pivot.trades_1d`: trade dates past `PIVOT_RETENTION_DAYS` leave the store for a Parquet archive.

A date older than the retention (as of a `today`) is first exported, the fact's rows of that date, to
one Parquet file `<archive dir>/<database>/trades_1d/<date>.parquet`, written under a temporary name
and renamed (a killed export leaves no half file under the final name). The file's SHA-256, rows and
the sums of notional, notional_usd and pnl are recorded in `pivot.trades_1d_archive`
(ddl/clickhouse/060_trades_1d_archive.sql, the manifest) and in a JSON sidecar next to the file. The
file is then read back: only when its rows and sums equal the live date's is the date dropped, from
`pivot.trades_1d`, `pivot.trades_1d_rollup` and every slot table of its kept versions (the archive
holds the date as it was live; the versions it replaced go with it, recorded `dropped` in
`pivot.trades_1d_versions`, their sources still listed there). Just before the drop the file is
checked once more against the manifest (present, same SHA-256, reads back to the recorded rows and
sums): a date whose archive is missing, corrupt or different is never dropped.

The fact's partition is first moved aside (`MOVE PARTITION … TO TABLE pivot.trades_1d_retiring`, atomic)
and the rows moved are compared with the manifest once more before they are dropped: what is dropped
is exactly what was compared, even if a reload lands between the checks (then the rows are put back and
the date refused). Then the rollup's and the slots' partitions are dropped (`DROP PARTITION`: a table
holds the date whole or not at all). A process killed anywhere leaves a date `verified` at worst, which
the next run finishes (a date still in the fact is exported and verified again; rows left in the
retiring table are compared and dropped; a date gone from the fact has its file checked against the
manifest). A date with a change under way (a `pending` version, pipeline/pivot/versions.py) is left
for the next run.

`restore_from_archive` brings an archived date back: the file checked as above, loaded into a staging
table, its rows and sums verified before the swap, swapped in as a new version of the date, the
date's rollup rebuilt. A date brought back is older than the retention: the next run archives it again
(the same rows), unless the retention is raised or unset.

Dagster-free: the store is the ClickHouse resource (`command`, `query_rows`, `query_arrow_batches`,
`replace_partition`, `database`). Not on a cluster (the fact there is a view over shards).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.failpoints import failpoint
from pipeline.pivot.versions import SLOT_PREFIX, DayVersions, Version

TABLE = "trades_1d"
ROLLUP = "trades_1d_rollup"
MANIFEST = "pivot.trades_1d_archive"
RETIRING = "pivot.trades_1d_retiring"
SUMMED = ("notional", "notional_usd", "pnl")
# Sums over the same rows in another order differ in the last bits only; the row count is exact.
REL_TOLERANCE, ABS_TOLERANCE = 1e-9, 1e-3
_MANIFEST_COLUMNS = (
    "trade_date",
    "state",
    "file",
    "sha256",
    "rows",
    "notional",
    "notional_usd",
    "pnl",
    "version",
    "run_id",
    "recorded_at",
)


class RetentionError(RuntimeError):
    """An archive drop or bring-back refused (a missing or corrupt file, a date live already): nothing dropped
    or changed."""


@dataclass(frozen=True)
class Figures:
    """What a day holds: rows and the sums verified on the way out and back in."""

    rows: int
    notional: float
    notional_usd: float
    pnl: float

    def matches(self, other: Figures) -> bool:
        return self.rows == other.rows and all(
            math.isclose(getattr(self, name), getattr(other, name), rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)
            for name in SUMMED
        )

    def __str__(self) -> str:
        return (
            f"{self.rows:,} rows, notional {self.notional:,.2f}, notional_usd {self.notional_usd:,.2f}, "
            f"pnl {self.pnl:,.2f}"
        )


@dataclass(frozen=True)
class Archive:
    """One trade date's archive, as its latest manifest row records it."""

    trade_date: date
    state: str
    file: str  # relative to the archive dir
    sha256: str
    figures: Figures
    version: int
    run_id: str


@dataclass(frozen=True)
class Retained:
    """A date archived and dropped by one run."""

    trade_date: date
    file: str
    sha256: str
    rows: int
    bytes: int
    seconds: float


@dataclass
class RetentionRun:
    """What one run did: the dates archived and dropped, the ones left (a change under way), the refusals."""

    retained: list[Retained]
    left: list[date]
    refused: dict[date, str]


def relative_file(database: str, day: date) -> str:
    return f"{database}/{TABLE}/{day}.parquet"


# -- figures ---------------------------------------------------------------------------------------


def live_figures(store, day: date, table: str = f"pivot.{TABLE}") -> Figures:
    rows, notional, notional_usd, pnl = store.query_rows(
        f"SELECT count(), sum(notional), sum(notional_usd), sum(pnl) FROM {table} WHERE trade_date = {{day:Date}}",
        parameters={"day": day},
    )[0]
    return Figures(int(rows), float(notional), float(notional_usd), float(pnl))


def file_figures(path: Path, day: date) -> Figures:
    """Read the file back (the summed columns only): rows and sums; every row must be of `day`. Raises
    RetentionError when it does not read as Parquet of the fact's rows."""
    rows, sums = 0, dict.fromkeys(SUMMED, 0.0)
    try:
        for batch in pq.ParquetFile(path).iter_batches(columns=["trade_date", *SUMMED]):
            if batch.num_rows == 0:
                continue
            days = pc.min_max(batch.column("trade_date"))
            if days["min"].as_py() != day or days["max"].as_py() != day:
                raise RetentionError(f"{path} holds rows of another date than {day}")
            rows += batch.num_rows
            for name in SUMMED:
                sums[name] += pc.sum(batch.column(name)).as_py() or 0.0
    except (pa.ArrowException, OSError, KeyError) as error:
        raise RetentionError(f"{path} does not read back as the Parquet of {day}'s rows: {error}") from error
    return Figures(rows, sums["notional"], sums["notional_usd"], sums["pnl"])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- files ------------------------------------------------------------------------------------------


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    # A temporary name in the same folder, then a rename: a kill leaves the old file or none, never half.
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):  # what a killed write left (SIGKILL skips `finally`)
        leftover.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        failpoint(f"retention.{path.suffix.lstrip('.')}.before_rename")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _dates_as_dates(batch: pa.RecordBatch) -> pa.RecordBatch:
    # A server may send a Date as UInt16 days since 1970 (ClickHouse's older Arrow mapping): the file holds a
    # date either way, so any Parquet reader sees the trade date as one.
    index = batch.schema.get_field_index("trade_date")
    if index < 0 or not pa.types.is_integer(batch.schema.field(index).type):
        return batch
    dates = batch.column(index).cast(pa.int32()).cast(pa.date32())
    return batch.set_column(index, pa.field("trade_date", pa.date32(), nullable=False), dates)


def export_day(store, day: date, path: Path) -> int:
    """The fact's rows of `day` to the Parquet file `path`, streamed (never the whole day in memory); rows written."""
    written = [0]

    def write(temporary: Path) -> None:
        writer = None
        try:
            with store.query_arrow_batches(
                f"SELECT * FROM pivot.{TABLE} WHERE trade_date = {{day:Date}}", parameters={"day": day}
            ) as batches:
                for batch in map(_dates_as_dates, batches):
                    if writer is None:
                        writer = pq.ParquetWriter(temporary, batch.schema, compression="zstd")
                    writer.write_batch(batch if batch.schema == writer.schema else batch.cast(writer.schema))
                    written[0] += batch.num_rows
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise RetentionError(f"{day}: pivot.{TABLE} holds no rows of the date, nothing to archive")

    _write_atomically(path, write)
    return written[0]


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _write_sidecar(path: Path, archive: Archive) -> None:
    document = {
        "table": f"pivot.{TABLE}",
        "trade_date": str(archive.trade_date),
        "file": path.name,
        "sha256": archive.sha256,
        "rows": archive.figures.rows,
        **{name: getattr(archive.figures, name) for name in SUMMED},
        "version": archive.version,
        "run_id": archive.run_id,
    }
    _write_atomically(_sidecar(path), lambda temporary: temporary.write_text(json.dumps(document, indent=2) + "\n"))


# -- the manifest -----------------------------------------------------------------------------------

_last_recorded = [0]


def _recorded_micros() -> int:
    # Strictly increasing within the process: a date's latest row must be unambiguous.
    micros = max(time.time_ns() // 1000, _last_recorded[0] + 1)
    _last_recorded[0] = micros
    return micros


def record(store, archive: Archive) -> None:
    store.command(
        f"INSERT INTO {MANIFEST} ({', '.join(_MANIFEST_COLUMNS)}) SELECT {{d:Date}}, {{s:String}}, {{f:String}}, "
        "{h:String}, {n:UInt64}, {a:Float64}, {u:Float64}, {p:Float64}, {v:UInt32}, {r:String}, "
        "fromUnixTimestamp64Micro({at:Int64}, 'UTC')",
        parameters={
            "d": archive.trade_date,
            "s": archive.state,
            "f": archive.file,
            "h": archive.sha256,
            "n": archive.figures.rows,
            "a": archive.figures.notional,
            "u": archive.figures.notional_usd,
            "p": archive.figures.pnl,
            "v": archive.version,
            "r": archive.run_id,
            "at": _recorded_micros(),
        },
        settings={"async_insert": 0},
    )


def manifest(store, day: date) -> Archive | None:
    """The date's archive at its latest state, None when it was never archived."""
    rows = store.query_rows(
        f"SELECT {', '.join(_MANIFEST_COLUMNS[:-1])} FROM {MANIFEST} WHERE trade_date = {{day:Date}} "
        "ORDER BY recorded_at DESC LIMIT 1",
        parameters={"day": day},
    )
    if not rows:
        return None
    d, state, file, sha, rows_, notional, notional_usd, pnl, version, run_id = rows[0]
    return Archive(d, state, file, sha, Figures(int(rows_), notional, notional_usd, pnl), int(version), run_id)


def archived(store, day: date) -> Archive | None:
    """The date's archive when the date lives there only (recorded, and gone from the fact), else None."""
    entry = manifest(store, day)
    if entry is None or entry.state == "restored" or live_figures(store, day).rows:
        return None
    return entry


def check_archive(archive_dir: Path, entry: Archive) -> Path:
    """The archive file of `entry`, checked against the manifest: present, the same SHA-256, reading back to
    the recorded rows and sums. Raises RetentionError otherwise."""
    path = archive_dir / entry.file
    day = entry.trade_date
    if not path.is_file():
        raise RetentionError(f"{day}: the archive file {path} is missing")
    sha = sha256_of(path)
    if sha != entry.sha256:
        raise RetentionError(
            f"{day}: the archive file {path} has SHA-256 {sha}, not the {entry.sha256} recorded (corrupt or replaced)"
        )
    figures = file_figures(path, day)
    if not figures.matches(entry.figures):
        raise RetentionError(f"{day}: the archive file {path} reads back {figures}, not the {entry.figures} recorded")
    return path


# -- archive and drop -------------------------------------------------------------------------------


def _live_version(store, day: date) -> int:
    return max((v.version for v in DayVersions(store, day, kept=0).versions() if v.state == "live"), default=0)


def _change_under_way(store, day: date) -> bool:
    return any(v.state == "pending" for v in DayVersions(store, day, kept=0).versions())


def _keep_replaced_archive(path: Path, entry: Archive | None, live: Figures) -> Path | None:
    """An archive file of other rows than the live date's (the date was loaded again after it was archived) is
    not overwritten: it is renamed `<date>.<first 12 hex of its SHA-256>.parquet`, sidecar and all."""
    if entry is None or not path.is_file() or entry.figures.matches(live):
        return None
    kept = path.with_name(f"{entry.trade_date}.{entry.sha256[:12]}.parquet")
    os.replace(path, kept)
    if _sidecar(path).is_file():
        os.replace(_sidecar(path), _sidecar(kept))
    _fsync_dir(path.parent)
    return kept


def archive_date(store, day: date, archive_dir: Path, run_id: str = "") -> Archive:
    """Export the live date to its Parquet file, read it back and, when it equals the live date, record it
    `verified`. Drops nothing. Raises RetentionError when the file does not read back equal. An earlier
    archive of other rows is kept under another name (`_keep_replaced_archive`)."""
    live = live_figures(store, day)
    file = relative_file(store.database, day)
    path = archive_dir / file
    _keep_replaced_archive(path, manifest(store, day), live)
    export_day(store, day, path)
    figures = file_figures(path, day)
    if not figures.matches(live):
        raise RetentionError(f"{day}: the archive file {path} reads back {figures}, the live date holds {live}")
    entry = Archive(day, "verified", file, sha256_of(path), figures, _live_version(store, day), run_id)
    _write_sidecar(path, entry)
    record(store, entry)
    return entry


def _slot_tables(store) -> list[str]:
    return [
        name
        for (name,) in store.query_rows(
            "SELECT name FROM system.tables WHERE database = {db:String} AND startsWith(name, {p:String})",
            parameters={"db": store.database, "p": SLOT_PREFIX},
        )
    ]


def _retiring_table(store) -> str:
    # Where the fact's partition is moved aside to be checked once more before it is dropped: created AS the
    # fact (MOVE PARTITION needs the same structure), like the version slots.
    store.command(f"CREATE TABLE IF NOT EXISTS {RETIRING} AS pivot.{TABLE}")
    return RETIRING


def retire_fact_partition(store, day: date, entry: Archive) -> None:
    """Move the date's partition out of the fact (atomic), check the rows moved are the ones archived, drop
    them. What is dropped is what was compared: a reload landing between the check and the move is caught
    here, swapped back in whole (the fact then holds nothing else of the date) and refused."""
    retiring = _retiring_table(store)
    if live_figures(store, day).rows:
        store.command(
            f"ALTER TABLE pivot.{TABLE} MOVE PARTITION {{day:Date}} TO TABLE {retiring}", parameters={"day": day}
        )
    failpoint("retention.trades_1d.moved")
    moved = live_figures(store, day, retiring)
    if moved.rows and not moved.matches(entry.figures):
        if not live_figures(store, day).rows:
            store.command(
                f"ALTER TABLE pivot.{TABLE} REPLACE PARTITION {{day:Date}} FROM {retiring}",
                parameters={"day": day},
                settings={"allow_replace_partition_from_empty_source": 1},
            )
        store.command(f"ALTER TABLE {retiring} DROP PARTITION {{day:Date}}", parameters={"day": day})
        raise RetentionError(
            f"{day}: the rows taken out of pivot.{TABLE} ({moved}) are not the ones archived ({entry.figures}): "
            "reloaded meanwhile? Put back; the next run archives the date again"
        )
    store.command(f"ALTER TABLE {retiring} DROP PARTITION {{day:Date}}", parameters={"day": day})


def drop_archived_date(store, day: date, archive_dir: Path, run_id: str = "") -> Archive:
    """Drop a `verified` date from the fact, the rollup and the version slots, once its file is checked
    against the manifest and (while the fact still holds the date) the manifest against the live date.
    Raises RetentionError, nothing dropped, when there is no verified archive or it does not hold the date."""
    entry = manifest(store, day)
    if entry is None or entry.state != "verified":
        why = "no archive recorded" if entry is None else f"its archive is {entry.state}, not verified"
        raise RetentionError(f"{day}: {why}")
    check_archive(archive_dir, entry)
    live = live_figures(store, day)
    if live.rows and not live.matches(entry.figures):
        raise RetentionError(
            f"{day}: the live date ({live}) is not the one archived ({entry.figures}): reloaded since? "
            "The next run archives it again"
        )
    failpoint("retention.trades_1d.before_drop")
    retire_fact_partition(store, day, entry)
    failpoint("retention.trades_1d.dropped")
    if live_figures(store, day).rows:
        # A reload landed after the move: the date is live again, with its own rollup and versions.
        raise RetentionError(f"{day}: reloaded while it was dropped; the new load stays, the next run archives it")
    store.command(f"ALTER TABLE pivot.{ROLLUP} DROP PARTITION {{day:Date}}", parameters={"day": day})
    for slot in _slot_tables(store):
        store.command(f"ALTER TABLE pivot.{slot} DROP PARTITION {{day:Date}}", parameters={"day": day})
    DayVersions(store, day, kept=0, run_id=run_id).archived()
    dropped = Archive(day, "dropped", entry.file, entry.sha256, entry.figures, entry.version, run_id)
    record(store, dropped)
    return dropped


def dates_to_archive(store, today: date, retention_days: int) -> list[date]:
    """Dates of the fact older than `retention_days` before `today`, and dates a killed run left `verified`
    (gone from the fact or not), oldest first."""
    cutoff = today - timedelta(days=retention_days)
    live = store.query_rows(
        "SELECT DISTINCT partition FROM system.parts WHERE database = {db:String} AND table = {t:String} "
        "AND active AND rows > 0",
        parameters={"db": store.database, "t": TABLE},
    )
    unfinished = store.query_rows(
        f"SELECT trade_date FROM {MANIFEST} WHERE trade_date < {{cutoff:Date}} "
        "GROUP BY trade_date HAVING argMax(state, recorded_at) = 'verified'",
        parameters={"cutoff": cutoff},
    )
    return sorted(
        {date.fromisoformat(p) for (p,) in live if date.fromisoformat(p) < cutoff} | {d for (d,) in unfinished}
    )


def retain(store, today: date, retention_days: int, archive_dir: Path, run_id: str = "", log=print) -> RetentionRun:
    """Archive and drop every date past the retention on `today`. A refused date is reported (and kept);
    the others go on. Restartable: a date already archived and dropped is not seen again."""
    run = RetentionRun([], [], {})
    for day in dates_to_archive(store, today, retention_days):
        if _change_under_way(store, day):
            log(f"pivot.{TABLE} {day}: a change of the date is under way (a pending version): left for later")
            run.left.append(day)
            continue
        started = time.perf_counter()
        try:
            if live_figures(store, day).rows:
                archive_date(store, day, archive_dir, run_id)
            entry = drop_archived_date(store, day, archive_dir, run_id)
        except RetentionError as error:
            log(f"pivot.{TABLE} {day}: not dropped: {error}")
            run.refused[day] = str(error)
            continue
        path = archive_dir / entry.file
        seconds = time.perf_counter() - started
        retained = Retained(day, entry.file, entry.sha256, entry.figures.rows, path.stat().st_size, seconds)
        log(
            f"pivot.{TABLE} {day}: {entry.figures.rows:,} rows archived to {path} "
            f"({retained.bytes:,} bytes, sha256 {entry.sha256[:12]}…) and dropped in {retained.seconds:.1f} s"
        )
        run.retained.append(retained)
    return run


# -- bringing a date back ---------------------------------------------------------------------------


def _row_groups(path: Path) -> Iterator[pa.Table]:
    parquet = pq.ParquetFile(path)
    for index in range(parquet.num_row_groups):
        yield parquet.read_row_group(index)


def restore_from_archive(
    store,
    day: date,
    archive_dir: Path,
    *,
    kept: int,
    run_id: str = "",
    rebuild_rollup: Callable[[date], int] | None = None,
) -> Version:
    """Bring an archived date back into the fact (a new version of the date) and rebuild its rollup. The file
    is checked against the manifest, and the staged rows against it again before the swap. Raises
    RetentionError, nothing changed, when the date is live already, never archived, or its file is missing or
    corrupt."""
    versions = DayVersions(store, day, kept=kept, run_id=run_id)
    versions.settle()
    entry = manifest(store, day)
    live = live_figures(store, day)
    if live.rows:
        raise RetentionError(f"{day} is live already ({live}): nothing to bring back, nothing changed")
    if entry is None:
        raise RetentionError(f"{day}: no archive of the date is recorded in {MANIFEST}, nothing changed")
    try:
        path = check_archive(archive_dir, entry)
    except RetentionError as error:
        raise RetentionError(f"{error}: nothing changed") from error
    source = f"restored from archive: {entry.file} ({entry.figures.rows:,} rows, sha256 {entry.sha256})"

    def before_swap(staging: str) -> None:
        staged = live_figures(store, day, staging)
        if not staged.matches(entry.figures):
            raise RetentionError(
                f"{day}: the rows loaded from {path} ({staged}) are not the ones archived ({entry.figures}), "
                "nothing changed"
            )
        versions.prepare(source, staged.rows)

    store.replace_partition(TABLE, day, _row_groups(path), before_swap=before_swap)
    restored = versions.commit()
    if rebuild_rollup is not None:
        rebuild_rollup(day)
    record(store, Archive(day, "restored", entry.file, entry.sha256, entry.figures, restored.version, run_id))
    return restored
