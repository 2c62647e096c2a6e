"""The steps of PostgresResource's loads: COPY of a Polars frame as CSV, and the foreign-key proof.

Loads never go row by row through Python: a Polars frame is rendered to CSV by
Polars (in Rust) and streamed with `COPY ... FROM STDIN`.

Foreign keys stay declared and are still guaranteed, but checked set-wise
instead of row by row (`begin_set_wise_load`): measured on a 56k-row day of
fact_aum_flows (7 foreign keys), the load runs at ~140-200k rows/s against
~28k rows/s for COPY with the per-row FK triggers.

Every function works on a cursor inside the caller's transaction.
"""

import dataclasses
import io

import polars as pl
import psycopg
from psycopg import sql

from pipeline.failpoints import failpoint

SCHEMA = "dist_perf_dw"
COPY_BATCH_ROWS = 100_000  # rows rendered per CSV batch: batch n+1 renders while batch n streams


class ForeignKeyViolationError(RuntimeError):
    """A load would reference dimension rows that do not exist; nothing was written."""


# --------------------------------------------------------------------------- COPY


def _render_csv(frame: pl.DataFrame) -> memoryview:
    buffer = io.BytesIO()
    # float_scientific=False: NUMERIC accepts 1e-05, but plain digits keep the file unambiguous.
    frame.write_csv(buffer, include_header=False, float_scientific=False)
    return buffer.getbuffer()


def copy_csv(cursor: psycopg.Cursor, target: sql.Composable, frame: pl.DataFrame,
             batch_rows: int = COPY_BATCH_ROWS) -> None:
    """COPY `frame` as CSV. Polars renders the next batch (in Rust, off the GIL) in a
    background thread while psycopg streams the previous one to the server."""
    from pipeline.pivot.prefetch import Prefetched

    columns = sql.SQL(", ").join(sql.Identifier(column) for column in frame.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, columns)
    batches = Prefetched(
        (_render_csv(frame.slice(offset, batch_rows)) for offset in range(0, max(frame.height, 1), batch_rows)),
        depth=2,
    )
    try:
        with cursor.copy(statement) as copy:
            for number, data in enumerate(batches):
                if number == 0:
                    # Part of the rows are on the server, the COPY is unfinished: where the
                    # fault test kills the process.
                    half = len(data) // 2
                    copy.write(data[:half])
                    failpoint("postgres.mid_copy")
                    copy.write(data[half:])
                else:
                    copy.write(data)
    finally:
        batches.close()


# --------------------------------------------------------------------------- partitions


def between(date_column: str) -> sql.Composable:
    """`date_column` in [%s, %s): a partition, or a run's range of them."""
    return sql.SQL("{} >= %s AND {} < %s").format(sql.Identifier(date_column), sql.Identifier(date_column))


def lock_partition(cursor: psycopg.Cursor, table: str, partition_start) -> None:
    """Two loads of the same partition take turns: without this, the second's DELETE
    would not see the first's new rows and the day would be loaded twice."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{SCHEMA}.{table}:{partition_start}",))


def delete_partition(cursor: psycopg.Cursor, table: str, date_column: str, window: tuple) -> int:
    """Delete the partition's rows; the number deleted."""
    target, where = sql.Identifier(SCHEMA, table), between(date_column)
    # Skip the DELETE when the partition is empty: one index probe.
    cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(target, where), window)
    if not cursor.fetchone()[0]:
        return 0
    cursor.execute(sql.SQL("DELETE FROM {} WHERE {}").format(target, where), window)
    return cursor.rowcount


def counts(cursor: psycopg.Cursor, queries: list[sql.Composable], params: list | tuple) -> list[int]:
    """Run several count(*) queries as one round trip."""
    cursor.execute(
        sql.SQL("SELECT ARRAY[{}]").format(sql.SQL(", ").join(sql.SQL("({})").format(q) for q in queries)), params
    )
    return cursor.fetchone()[0]


# --------------------------------------------------------------------------- catalog


@dataclasses.dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    referenced_table: str
    referenced_columns: tuple[str, ...]

    def missing(self, alias: str, columns: list[sql.Composable] | None = None) -> sql.Composable:
        """SQL true where the key in `alias` (its columns, or the given ones) has no referenced row."""
        return sql.SQL("NOT EXISTS (SELECT 1 FROM {ref} AS d WHERE {match})").format(
            ref=sql.Identifier(SCHEMA, self.referenced_table),
            match=sql.SQL(" AND ").join(
                sql.SQL("d.{} = {}.{}").format(sql.Identifier(r), sql.Identifier(alias), c)
                for r, c in zip(self.referenced_columns, columns or [sql.Identifier(c) for c in self.columns])
            ),
        )


def primary_key(cursor: psycopg.Cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT a.attname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        (f"{SCHEMA}.{table}",),
    )
    return [row[0] for row in cursor.fetchall()]


def foreign_keys(cursor: psycopg.Cursor, table: str) -> list[ForeignKey]:
    cursor.execute(
        "SELECT c.conkey, c.confkey, c.confrelid::regclass::text, "
        "  ARRAY(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
        "        JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY k.i), "
        "  ARRAY(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
        "        JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY k.i) "
        "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = %s::regclass ORDER BY c.conname",
        (f"{SCHEMA}.{table}",),
    )
    return [
        ForeignKey(tuple(columns), referenced.split(".")[-1], tuple(referenced_columns))
        for _, _, referenced, columns, referenced_columns in cursor.fetchall()
    ]


# --------------------------------------------------------------------------- the foreign-key proof


def begin_set_wise_load(cursor: psycopg.Cursor, table: str, frame: pl.DataFrame) -> list[ForeignKey] | None:
    """Prove the frame's foreign keys and switch the per-row FK triggers off for this transaction.

    Holds SHARE locks on the referenced dimensions (no concurrent change can orphan
    a row), then proves every foreign key of the new rows on the frame's distinct
    key values (one query, under the locks); a missing key raises before a row is
    written. Returns the keys left to prove on the loaded rows (their columns are
    not in the frame, so COPY fills them with defaults), or None when the role may
    not switch the triggers off: the load then keeps the ordinary per-row checks."""
    if not _may_skip_fk_triggers(cursor):
        return None
    keys = foreign_keys(cursor, table)
    unproven = [fk for fk in keys if not set(fk.columns) <= set(frame.columns)]
    # SHARE locks: no dimension row can change or vanish until commit, so keys
    # proven present now stay present. The frame is exactly what COPY loads, so
    # proving its few distinct key values proves every new row, before writing any.
    _lock_referenced_tables(cursor, keys)
    _raise_on_missing_keys(cursor, table, [fk for fk in keys if fk not in unproven], frame)
    cursor.execute("SET LOCAL session_replication_role = replica")
    return unproven


def end_set_wise_load(cursor: psycopg.Cursor, table: str, unproven: list[ForeignKey], where: sql.Composable,
                      params: tuple) -> None:
    """Switch the FK triggers back on and prove the keys the frame could not on the rows in `where`."""
    cursor.execute("SET LOCAL session_replication_role = origin")
    if unproven:
        broken = [(fk, count) for fk, count in orphans(cursor, table, unproven, where, params) if count]
        if broken:
            _raise_violation(table, [
                f"{count} rows with {', '.join(fk.columns)} not in {fk.referenced_table}" for fk, count in broken
            ])


def orphans(cursor: psycopg.Cursor, table: str, keys: list[ForeignKey], where: sql.Composable,
            params: tuple) -> list[tuple[ForeignKey, int]]:
    """For each key, how many rows in `where` reference a missing row (one round trip)."""
    if not keys:
        return []
    checks = [
        sql.SQL("SELECT count(*) FROM {table} AS f WHERE ({where}) AND {not_null} AND {missing}").format(
            table=sql.Identifier(SCHEMA, table),
            where=where,
            not_null=sql.SQL(" AND ").join(sql.SQL("f.{} IS NOT NULL").format(sql.Identifier(c)) for c in fk.columns),
            missing=fk.missing("f"),
        )
        for fk in keys
    ]
    return list(zip(keys, counts(cursor, checks, params * len(checks))))


def _may_skip_fk_triggers(cursor: psycopg.Cursor) -> bool:
    cursor.execute(
        "SELECT rolsuper OR (current_setting('server_version_num')::int >= 150000 "
        "  AND has_parameter_privilege('session_replication_role', 'SET')) "
        "FROM pg_roles WHERE rolname = current_user"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def _lock_referenced_tables(cursor: psycopg.Cursor, keys: list[ForeignKey]) -> None:
    tables = sorted({fk.referenced_table for fk in keys})
    if tables:
        cursor.execute(
            sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.SQL(", ").join(sql.Identifier(SCHEMA, t) for t in tables))
        )


def _raise_on_missing_keys(cursor: psycopg.Cursor, table: str, keys: list[ForeignKey], frame: pl.DataFrame) -> None:
    """Every foreign key value of `frame` must exist in its referenced table: one query
    over the frame's distinct non-null key values (a few thousand at most, not the rows)."""
    checks, params, checked = [], [], []
    for fk in keys:
        values = frame.select(fk.columns).drop_nulls().unique()
        if values.is_empty():
            continue
        aliases = [sql.Identifier(f"k{i}") for i in range(len(fk.columns))]
        checks.append(
            sql.SQL("SELECT count(*) FROM unnest({arrays}) AS k({aliases}) WHERE {missing}").format(
                arrays=sql.SQL(", ").join(sql.SQL("%s") for _ in fk.columns),
                aliases=sql.SQL(", ").join(aliases),
                missing=fk.missing("k", aliases),
            )
        )
        params.extend(values[c].to_list() for c in fk.columns)
        checked.append((fk, values.height))
    if not checks:
        return
    missing = [(fk, n, count) for (fk, n), count in zip(checked, counts(cursor, checks, params)) if count]
    if missing:
        _raise_violation(table, [
            f"{count} of {n} distinct values of {', '.join(fk.columns)} not in {fk.referenced_table}"
            for fk, n, count in missing
        ])


def _raise_violation(table: str, problems: list[str]) -> None:
    raise ForeignKeyViolationError(f"load of {SCHEMA}.{table} rolled back: {'; '.join(problems)}")
