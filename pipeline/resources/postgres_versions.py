"""The SQL of dist_perf_dw's fact versions: the rows a swap replaces kept in `<fact>_history`, every
version recorded in `dist_perf_dw.partition_versions`, a kept version restored.

Every function works on a cursor inside the caller's transaction (the swap's, under the date's
advisory lock), so the replaced rows, the new ones and the catalog commit together or not at all.
What to keep, drop and number is decided by pipeline/dist_perf_dw/versions.py.

Cost: a first load of a date reads the date's (empty) catalog rows and writes one; a reload runs
`INSERT INTO <fact>_history SELECT …, <version> FROM <fact> WHERE <date>` before its DELETE: the old
rows are written once more, into a table with no keys and one BRIN index; a version beyond the kept
ones is deleted from the history.
"""

from __future__ import annotations

from datetime import UTC, date

import polars as pl
import psycopg
from psycopg import sql

from pipeline.dist_perf_dw.versions import (
    AMOUNT_COLUMNS,
    BEFORE_VERSIONS,
    DATE_COLUMNS,
    PartitionVersion,
    Replacement,
    VersionError,
    history_table,
    partition_window,
    plan_replacement,
    plan_restore,
    restored_source,
)
from pipeline.failpoints import failpoint
from pipeline.resources.postgres_load import SCHEMA, between, delete_partition

CATALOG = sql.Identifier(SCHEMA, "partition_versions")
_CATALOG_COLUMNS = (
    "table_name",
    "partition_start",
    "version",
    "state",
    "loaded_at",
    "replaced_at",
    "run_id",
    "source",
    "rows",
    "amount_usd",
)


def is_versioned(table: str) -> bool:
    return table in DATE_COLUMNS


def read_versions(cursor: psycopg.Cursor, table: str, partition_start: date) -> list[PartitionVersion]:
    """Every version the catalog holds for the date, oldest first."""
    cursor.execute(
        sql.SQL("SELECT {} FROM {} WHERE table_name = %s AND partition_start = %s ORDER BY version").format(
            sql.SQL(", ").join(map(sql.Identifier, _CATALOG_COLUMNS)), CATALOG
        ),
        (table, partition_start),
    )
    return [
        PartitionVersion(
            t, start, int(number), state, _utc(loaded), _utc(replaced), run_id, source, int(rows), float(amount)
        )
        for t, start, number, state, loaded, replaced, run_id, source, rows, amount in cursor.fetchall()
    ]


def list_versions(cursor: psycopg.Cursor, table: str, partition_start: date) -> list[PartitionVersion]:
    """read_versions, plus the rows of a date loaded before versions were kept as the live version a
    reload would keep them as (its number, rows and amount)."""
    versions = read_versions(cursor, table, partition_start)
    if any(v.state == "live" for v in versions):
        return versions
    cursor.execute(
        sql.SQL("SELECT count(*), coalesce(sum({}), 0) FROM {} WHERE {} = %s").format(
            sql.Identifier(AMOUNT_COLUMNS[table]), sql.Identifier(SCHEMA, table), sql.Identifier(DATE_COLUMNS[table])
        ),
        (partition_start,),
    )
    rows, total = cursor.fetchone()
    if not rows:
        return versions
    number = max((v.version for v in versions), default=0) + 1
    before = PartitionVersion(
        table, partition_start, number, "live", None, None, "", BEFORE_VERSIONS, int(rows), float(total)
    )
    return [*versions, before]


def _utc(moment):
    return None if moment is None else moment.astimezone(UTC)


def _fact_columns(table: str) -> list[str]:
    from pipeline.dist_perf_dw.tables import columns  # noqa: PLC0415 - the ORM only where needed

    return columns(table)


class DateHistory:
    """One swap of a fact's date, inside its transaction: `take_live` before the new rows go in (the
    live rows move to the history, or are deleted when none are kept), `record_new` after."""

    def __init__(self, cursor: psycopg.Cursor, table: str, window: tuple[date, date], kept: int) -> None:
        self.cursor, self.table, self.window, self.kept = cursor, table, window, kept
        self.date_column = DATE_COLUMNS[table]
        self.versions = read_versions(cursor, table, window[0])
        self.plan: Replacement | None = None

    def _present(self) -> bool:
        self.cursor.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(
                sql.Identifier(SCHEMA, self.table), between(self.date_column)
            ),
            self.window,
        )
        return bool(self.cursor.fetchone()[0])

    def take_live(self) -> int:
        """Move the date's live rows to the history as the live version (or delete them: nothing kept,
        a version beyond PIVOT_VERSIONS_KEPT) and record it replaced. The number of rows taken out."""
        present = self._present()
        self.plan = plan = plan_replacement(self.versions, live_rows_present=present, kept=self.kept)
        if plan.live is None:
            return 0
        fact, amount = sql.Identifier(SCHEMA, self.table), sql.Identifier(AMOUNT_COLUMNS[self.table])
        if not present:
            rows, total = 0, 0.0
        elif plan.keep is not None:
            # INSERT ... SELECT, then DELETE: the rows are read twice, from hot buffers; one `WITH gone AS
            # (DELETE ... RETURNING *) INSERT ...` writes every row to a temp file first (benchmarks/README.md).
            history = sql.Identifier(SCHEMA, history_table(self.table))
            columns = sql.SQL(", ").join(map(sql.Identifier, _fact_columns(self.table)))
            where = between(self.date_column)
            self.cursor.execute(
                sql.SQL("INSERT INTO {} ({}, version) SELECT {}, %s FROM {} WHERE {}").format(
                    history, columns, columns, fact, where
                ),
                (plan.keep, *self.window),
            )
            rows = self.cursor.rowcount
            self.cursor.execute(sql.SQL("DELETE FROM {} WHERE {}").format(fact, where), self.window)
            recorded = next((v for v in self.versions if v.version == plan.live), None)
            if recorded is not None and recorded.rows == rows:
                total = recorded.amount_usd  # what its load summed; the rows are the ones it wrote
            else:  # loaded before versions were kept, or changed since by hand: summed once
                self.cursor.execute(
                    sql.SQL("SELECT coalesce(sum({}), 0) FROM {} WHERE {} AND version = %s").format(
                        amount, history, where
                    ),
                    (*self.window, plan.keep),
                )
                total = self.cursor.fetchone()[0]
        else:
            self.cursor.execute(
                sql.SQL(
                    "WITH gone AS (DELETE FROM {fact} WHERE {where} RETURNING {amount}) "
                    "SELECT count(*), coalesce(sum({amount}), 0) FROM gone"
                ).format(fact=fact, where=between(self.date_column), amount=amount),
                self.window,
            )
            rows, total = self.cursor.fetchone()
        state = "kept" if plan.keep is not None else "dropped"
        if any(v.version == plan.live for v in self.versions):
            self.cursor.execute(
                sql.SQL(
                    "UPDATE {} SET state = %s, replaced_at = now(), rows = %s, amount_usd = %s "
                    "WHERE table_name = %s AND partition_start = %s AND version = %s"
                ).format(CATALOG),
                (state, rows, total, self.table, self.window[0], plan.live),
            )
        else:  # rows loaded before versions were kept: they become a version now
            self._insert(plan.live, state, None, "now()", "", BEFORE_VERSIONS, rows, total)
        return int(rows)

    def _insert(self, number, state, loaded_at, replaced_at, run_id, source, rows, total) -> None:
        moment = {None: sql.NULL, "now()": sql.SQL("now()")}
        self.cursor.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES (%s, %s, %s, %s, {}, {}, %s, %s, %s, %s)").format(
                CATALOG,
                sql.SQL(", ").join(map(sql.Identifier, _CATALOG_COLUMNS)),
                moment[loaded_at],
                moment[replaced_at],
            ),
            (self.table, self.window[0], number, state, run_id, source, rows, total),
        )

    def record_new(self, rows: int, amount_usd: float, source: str, run_id: str) -> int:
        """After the new rows went in: drop the kept versions beyond PIVOT_VERSIONS_KEPT, record the new
        one live. Its number."""
        plan = self.plan
        if plan.drop:
            self.cursor.execute(
                sql.SQL("DELETE FROM {} WHERE {} AND version = ANY(%s)").format(
                    sql.Identifier(SCHEMA, history_table(self.table)), between(self.date_column)
                ),
                (*self.window, list(plan.drop)),
            )
            self.cursor.execute(
                sql.SQL(
                    "UPDATE {} SET state = 'dropped' WHERE table_name = %s AND partition_start = %s "
                    "AND version = ANY(%s)"
                ).format(CATALOG),
                (self.table, self.window[0], list(plan.drop)),
            )
        self._insert(plan.number, "live", "now()", None, run_id, source, rows, round(amount_usd, 2))
        return plan.number


def take_live(
    cursor: psycopg.Cursor, table: str, date_column: str, window: tuple, kept: int
) -> tuple[DateHistory | None, int]:
    """Before a swap's COPY: the date's live rows out (kept in the history for a versioned fact). The
    DateHistory to record the new version with (None for a table that keeps no versions), the rows out."""
    if not is_versioned(table) or DATE_COLUMNS[table] != date_column or partition_window(table, window[0]) != window:
        # A window that is not one of the fact's partitions (a bulk load of several days) has no version.
        return None, delete_partition(cursor, table, date_column, window)
    history = DateHistory(cursor, table, window, kept)
    return history, history.take_live()


def frame_amount(table: str, frame: pl.DataFrame) -> float:
    """The new version's amount total, summed off the frame the swap loads."""
    column = AMOUNT_COLUMNS.get(table)
    return float(frame[column].sum()) if column in frame.columns and frame.height else 0.0


def restore(cursor: psycopg.Cursor, table: str, window: tuple, number: int, kept: int, run_id: str) -> tuple:
    """Put kept version `number` of the date live again; the live rows become a version in turn (the
    restored rows get the next number; the kept copy stays). VersionError (raised before any change)
    when there is no such kept version. Returns (the version that was live or None, the new number,
    its rows)."""
    history = DateHistory(cursor, table, window, kept)
    wanted = plan_restore(history.versions, number, kept=kept, name=f"dist_perf_dw/{table} {window[0]}")
    history.take_live()
    columns = sql.SQL(", ").join(map(sql.Identifier, _fact_columns(table)))
    cursor.execute(
        sql.SQL("INSERT INTO {fact} ({columns}) SELECT {columns} FROM {history} WHERE {where} AND version = %s").format(
            fact=sql.Identifier(SCHEMA, table),
            columns=columns,
            history=sql.Identifier(SCHEMA, history_table(table)),
            where=between(history.date_column),
        ),
        (*window, number),
    )
    rows = cursor.rowcount
    failpoint("versions.dist_perf_dw.restore.copied")
    new = history.record_new(rows, wanted.amount_usd, restored_source(wanted), run_id)
    return history.plan.live, new, rows


def lock_for_restore(cursor: psycopg.Cursor, table: str, partition_start: date) -> None:
    """The date's lock, the one every load of it takes (postgres_load.lock_partition), without waiting:
    a date being loaded is not restored (VersionError, nothing changed), as pivot refuses it."""
    cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (f"{SCHEMA}.{table}:{partition_start}",))
    if not cursor.fetchone()[0]:
        raise VersionError(
            f"{partition_start}: dist_perf_dw/{table} is being loaded (a load holds the date): nothing changed; "
            "restore once the load has finished"
        )
