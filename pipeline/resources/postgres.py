"""The PostgreSQL resource: engine, DDL, and idempotent bulk loads for dist_perf_dw.

A fact partition is replaced in one transaction (delete the partition's rows,
COPY the new ones), so a rerun is safe and readers never see half a day. The
steps of a load (COPY as CSV, the set-wise foreign-key proof) are in
`pipeline.resources.postgres_load`; this resource is the entry point.
"""

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg
import polars as pl
import psycopg
import sqlalchemy as sa
from psycopg import sql
from pydantic import Field

from pipeline.dist_perf_dw.versions import DATE_COLUMNS, PartitionVersion, VersionError
from pipeline.resources.postgres_load import (
    SCHEMA,
    ForeignKeyViolationError,
    begin_set_wise_load,
    between,
    copy_csv,
    end_set_wise_load,
    foreign_keys,
    lock_partition,
    orphans,
    primary_key,
)
from pipeline.resources.postgres_versions import frame_amount, list_versions, lock_for_restore, restore, take_live
from pipeline.resources.urls import authority_problem, redact_url
from pipeline.settings import ENV_POSTGRES_URL, REPO_ROOT, versions_kept

__all__ = [
    "ForeignKeyViolationError",
    "LoadResult",
    "PostgresResource",
    "PostgresUnavailableError",
    "dispose_engines",
    "normalize_url",
    "redacted",
]

DDL_DIR = REPO_ROOT / "ddl" / "postgres"
CONNECT_TIMEOUT_SECONDS = 10


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL cannot be reached; the message says where and what to change."""


@dataclasses.dataclass(frozen=True)
class LoadResult:
    table: str
    rows_deleted: int
    rows_loaded: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows_loaded / self.seconds if self.seconds > 0 else 0.0


def redacted(url: str | sa.URL) -> str:
    """A URL fit for logs and error messages: the password is replaced by ***."""
    return sa.make_url(url).render_as_string(hide_password=True)


def normalize_url(url: str) -> sa.URL:
    """Accept plain `postgresql://` / `postgres://` URLs too, always using psycopg 3.

    A malformed URL is refused showing it redacted only: it may still carry a password."""
    _, slashes, authority = url.partition("://")
    problem = authority_problem(authority) if slashes else "no // after the scheme"
    if problem == "no host":
        problem = None  # libpq's default socket, or ?host=<socket dir>
    try:
        parsed = None if problem else sa.make_url(url)
    except (ValueError, sa.exc.ArgumentError):
        problem = "not a URL SQLAlchemy can read"
    if problem or parsed is None:
        raise ValueError(
            f"{ENV_POSTGRES_URL}={redact_url(url)!r}: {problem}; write it as "
            "postgresql+psycopg://user:password@host:5432/database"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername != "postgresql+psycopg":
        raise ValueError(f"{ENV_POSTGRES_URL} must be a postgresql+psycopg:// URL, got {redacted(parsed)}")
    return parsed


def _where(url: sa.URL) -> str:
    socket_dir = url.query.get("host")
    if url.host:
        return f"{url.host}:{url.port or 5432}"
    if socket_dir:
        return f"the Unix socket in {socket_dir}"
    return "the default local socket"


def _unavailable_message(url: sa.URL, from_env: bool, error: Exception) -> str:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    if url.password:
        reason = reason.replace(str(url.password), "***")
    message = (
        f"Cannot connect to PostgreSQL at {_where(url)} (database {url.database!r}, user {url.username!r}, "
        f"URL {redacted(url)}): {reason}."
    )
    if from_env:
        return message + (
            f" Fix the {ENV_POSTGRES_URL} environment variable (host, port, database, credentials), "
            f"or unset it to use the project's own local PostgreSQL."
        )
    return message + (
        " This is the project's local PostgreSQL: restart it with `python -m pipeline.resources.local_postgres start`, "
        f"or set {ENV_POSTGRES_URL} to a postgresql+psycopg:// URL of another server."
    )


_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()
_schema_applied: set[str] = set()


def dispose_engines() -> None:
    """Close every pooled connection (before dropping a database, e.g. in tests)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _schema_applied.clear()


class PostgresResource(dg.ConfigurableResource):
    """PostgreSQL holding the dist_perf_dw schema.

    `url` is a SQLAlchemy URL (`postgresql+psycopg://user:password@host:5432/db`);
    empty means the project's local server (started on demand in .data/postgres).
    """

    url: str = Field(
        default="",
        description="SQLAlchemy URL of the database; empty = the project's local PostgreSQL. "
        f"Set via {ENV_POSTGRES_URL}.",
    )

    # ------------------------------------------------------------------ connection

    def sqlalchemy_url(self) -> sa.URL:
        if self.url:
            return normalize_url(self.url)
        from pipeline.resources.local_postgres import ensure_local_postgres_url

        return normalize_url(ensure_local_postgres_url())

    def get_engine(self) -> sa.Engine:
        """A pooled engine, created and connection-tested once per process and URL."""
        url = self.sqlalchemy_url()
        key = url.render_as_string(hide_password=False)
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                engine = sa.create_engine(
                    url,
                    pool_pre_ping=True,
                    connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "pivot-pipeline"},
                    # The URL (with its password) must never reach a log line.
                    hide_parameters=True,
                )
                try:
                    with engine.connect() as connection:
                        connection.execute(sa.text("SELECT 1"))
                except sa.exc.OperationalError as error:
                    engine.dispose()
                    raise PostgresUnavailableError(_unavailable_message(url, bool(self.url), error)) from None
                _engines[key] = engine
        return engine

    # ------------------------------------------------------------------ DDL

    def apply_ddl(self) -> list[str]:
        """Run every ddl/postgres/*.sql file in name order, in one transaction.

        The statements are idempotent; an advisory lock keeps concurrent runs
        (parallel Dagster runs on a fresh database) from racing on the catalog.
        Returns the file names applied."""
        files = sorted(DDL_DIR.glob("*.sql"))
        engine = self.get_engine()
        with engine.begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dist_perf_dw ddl'))")
            for path in files:
                cursor.execute(Path(path).read_text())
        _schema_applied.add(engine.url.render_as_string(hide_password=False))
        return [path.name for path in files]

    def ensure_schema(self) -> None:
        """apply_ddl once per process and database."""
        if self.get_engine().url.render_as_string(hide_password=False) not in _schema_applied:
            self.apply_ddl()

    # ------------------------------------------------------------------ loads
    # ------------------------------------------------------------------ loads

    def replace_partition(
        self,
        table: str,
        date_column: str,
        partition_start,
        partition_end,
        frame: pl.DataFrame,
        *,
        fk_check: str = "set_wise",
        source: str = "",
        run_id: str = "",
    ) -> LoadResult:
        """Replace the rows with partition_start <= date_column < partition_end by `frame`,
        atomically: delete + COPY in one transaction. A date-partitioned fact keeps the rows it
        replaces in its history table, in the same transaction, and records the new version with
        `source` and `run_id` (pipeline/resources/postgres_versions.py).

        fk_check="set_wise" (default) proves the frame's foreign keys on its distinct
        values under SHARE locks on the dimensions, then COPYs with the per-row FK
        triggers off for this transaction only (`postgres_load.begin_set_wise_load`);
        any missing key aborts the transaction before a row is written. It needs
        superuser or the SET privilege on session_replication_role; without it the
        load falls back to fk_check="per_row", COPY with the ordinary FK triggers.
        Both leave the constraints declared and enforced.
        """
        _refuse_rows_outside(table, date_column, partition_start, partition_end, frame)
        window = (partition_start, partition_end)
        started = time.perf_counter()
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            lock_partition(cursor, table, partition_start)
            unproven = begin_set_wise_load(cursor, table, frame) if fk_check == "set_wise" else None
            history, rows_deleted = take_live(cursor, table, date_column, window, versions_kept())
            if len(frame):
                copy_csv(cursor, sql.Identifier(SCHEMA, table), frame)
            if unproven is not None:
                end_set_wise_load(cursor, table, unproven, between(date_column), window)
            if history is not None:
                history.record_new(len(frame), frame_amount(table, frame), source, run_id)
        return LoadResult(table, rows_deleted, len(frame), time.perf_counter() - started)

    def reload_dimension(self, table: str, frame: pl.DataFrame) -> LoadResult:
        """Make `table` hold exactly `frame`, keyed by its primary key: upsert
        changed rows, delete rows that are gone. Rows still referenced by facts
        cannot be deleted (the foreign keys refuse), which is the point.
        Unchanged rows are not rewritten, so a rerun writes nothing."""
        started = time.perf_counter()
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            rows_written, rows_deleted = _upsert(cursor, table, frame, delete_missing=True)
        return LoadResult(table, rows_deleted, rows_written, time.perf_counter() - started)

    def merge_members(
        self, read: Sequence[str], merge: Callable[[dict[str, pl.DataFrame]], dict[str, pl.DataFrame]]
    ) -> list[LoadResult]:
        """Read `read` tables, let `merge` (pure) say what they must hold, and upsert that, in one
        transaction under one advisory lock shared by every landed load that adds members (masters and
        inferred advisors), so no member is added between the read and the write. Never deletes: a
        landed member stays once loaded. Each result's rows_loaded counts the rows written."""
        results = []
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            lock_members(cursor)
            frames = {table: read_table_frame(cursor, table) for table in read}
            for table, frame in merge(frames).items():
                started = time.perf_counter()
                rows_written, _ = _upsert(cursor, table, frame, delete_missing=False)
                results.append(LoadResult(table, 0, rows_written, time.perf_counter() - started))
        return results

    def replace_partition_with_members(
        self,
        table: str,
        date_column: str,
        partition_start,
        partition_end,
        read: Sequence[str],
        build: Callable[[dict[str, pl.DataFrame]], tuple[dict[str, pl.DataFrame], pl.DataFrame]],
        *,
        source: str = "",
        run_id: str = "",
    ) -> LoadResult:
        """replace_partition for rows that may need new dimension members (a landed date's inferred
        advisors): in one transaction, under the partition's lock and the members' lock, read `read`,
        let `build` (pure) return (members to add per table, the partition's rows), add the members,
        then delete + COPY the partition with its foreign keys proven (the replaced rows kept as
        replace_partition keeps them). Nothing is written unless all is."""
        started = time.perf_counter()
        window = (partition_start, partition_end)
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            lock_partition(cursor, table, partition_start)
            lock_members(cursor)
            members, frame = build({name: read_table_frame(cursor, name) for name in read})
            _refuse_rows_outside(table, date_column, partition_start, partition_end, frame)
            for member_table, rows in members.items():
                if len(rows):
                    _upsert(cursor, member_table, rows, delete_missing=False)
            unproven = begin_set_wise_load(cursor, table, frame)
            history, rows_deleted = take_live(cursor, table, date_column, window, versions_kept())
            if len(frame):
                copy_csv(cursor, sql.Identifier(SCHEMA, table), frame)
            if unproven is not None:
                end_set_wise_load(cursor, table, unproven, between(date_column), window)
            if history is not None:
                history.record_new(len(frame), frame_amount(table, frame), source, run_id)
        return LoadResult(table, rows_deleted, len(frame), time.perf_counter() - started)

    # ------------------------------------------------------------------ versions

    def partition_versions(self, table: str, partition_start) -> list[PartitionVersion]:
        """Every version partition_versions records for a fact's date, oldest first; a date loaded before
        versions were kept shows its rows as the live version it would become."""
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            return list_versions(cursor, table, partition_start)

    def restore_partition_version(
        self, table: str, partition_start, partition_end, number: int, run_id: str = ""
    ) -> tuple[int | None, int, int]:
        """Put kept version `number` of a fact's date live again in one transaction, under the date's
        lock (a load of the date started meanwhile waits for it); the live rows become a version in turn and
        the restored rows' foreign keys are proven again. VersionError when the date holds no such kept
        version or is being loaded: nothing changed. Returns (the replaced live version, the new live
        version, its rows)."""
        window = (partition_start, partition_end)
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            lock_for_restore(cursor, table, partition_start)
            # No frame: every foreign key is proven on the restored rows (end_set_wise_load).
            unproven = begin_set_wise_load(cursor, table, pl.DataFrame())
            try:
                replaced = restore(cursor, table, window, number, versions_kept(), run_id)
            except psycopg.errors.UniqueViolation as error:  # a landed transaction_id now on another date
                raise VersionError(
                    f"{table} {partition_start}: version {number} cannot go live again, "
                    f"{str(error).splitlines()[0]}; nothing changed"
                ) from None
            if unproven is not None:
                end_set_wise_load(cursor, table, unproven, between(DATE_COLUMNS[table]), window)
        return replaced

    # ------------------------------------------------------------------ reads

    def read_frame(self, query: str, params: dict | None = None) -> pl.DataFrame:
        with self.get_engine().connect() as connection:
            result = connection.execute(sa.text(query), params or {})
            return pl.DataFrame([dict(row._mapping) for row in result], infer_schema_length=None)

    def read_tables(self, names: Sequence[str]) -> dict[str, pl.DataFrame]:
        """Whole tables as Polars frames in their tables.polars_schema, read in one snapshot."""
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return {name: read_table_frame(cursor, name) for name in names}

    def table_rows(self, table: str) -> int:
        """Rows in the whole table: an exact count(*), cheap at this warehouse's sizes."""
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(SCHEMA, table)))
            return cursor.fetchone()[0]

    def orphan_counts(self, table: str) -> dict[str, int]:
        """For every foreign key of `table`, how many rows reference a missing row (all should be 0)."""
        return self._orphan_counts(table, sql.SQL("true"), ())

    def partition_orphan_counts(self, table: str, date_column: str, partition_start, partition_end) -> dict[str, int]:
        """orphan_counts over the rows with partition_start <= date_column < partition_end only
        (one partition, or a run's range of them), read through the date column's index."""
        return self._orphan_counts(table, between(date_column), (partition_start, partition_end))

    def _orphan_counts(self, table: str, where: sql.Composable, params: tuple) -> dict[str, int]:
        with self.get_engine().begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            return {
                f"{', '.join(fk.columns)} -> {fk.referenced_table}": count
                for fk, count in orphans(cursor, table, foreign_keys(cursor, table), where, params)
            }


def lock_members(cursor) -> None:
    """The transaction-wide lock every landed load that adds dimension members takes."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dist_perf_dw landed members'))")


def read_table_frame(cursor, table: str) -> pl.DataFrame:
    """A whole table as a Polars frame in tables.polars_schema (NUMERIC as Float64)."""
    from pipeline.dist_perf_dw.tables import polars_schema  # noqa: PLC0415 - the ORM only where needed

    schema = polars_schema(table)
    cursor.execute(
        sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in schema), sql.Identifier(SCHEMA, table)
        )
    )
    rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def _upsert(cursor, table: str, frame: pl.DataFrame, *, delete_missing: bool) -> tuple[int, int]:
    """Upsert `frame` into `table` by its primary key (unchanged rows not rewritten); with
    `delete_missing`, delete the rows the frame does not hold. Returns (rows written, rows deleted)."""
    target = sql.Identifier(SCHEMA, table)
    staging = sql.Identifier(f"staging_{table}")
    key = primary_key(cursor, table)
    columns = list(frame.columns)
    cursor.execute(
        sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(staging, target)
    )
    copy_csv(cursor, staging, frame)
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    non_key = [c for c in columns if c not in key]
    cursor.execute(
        sql.SQL(
            "INSERT INTO {target} AS t ({columns}) SELECT {columns} FROM {staging} "
            "ON CONFLICT ({key}) DO UPDATE SET {assignments} "
            "WHERE ({old}) IS DISTINCT FROM ({new})"
        ).format(
            target=target,
            columns=column_list,
            staging=staging,
            key=sql.SQL(", ").join(map(sql.Identifier, key)),
            assignments=sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in non_key
            ),
            old=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in non_key),
            new=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in non_key),
        )
    )
    rows_written = cursor.rowcount
    if not delete_missing:
        return rows_written, 0
    cursor.execute(
        sql.SQL(
            "DELETE FROM {target} AS t WHERE NOT EXISTS (SELECT 1 FROM {staging} AS s WHERE {match})"
        ).format(
            target=target,
            staging=staging,
            match=sql.SQL(" AND ").join(
                sql.SQL("s.{} = t.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in key
            ),
        )
    )
    return rows_written, cursor.rowcount


def _refuse_rows_outside(table: str, date_column: str, partition_start, partition_end, frame: pl.DataFrame) -> None:
    outside = frame.filter((pl.col(date_column) < partition_start) | (pl.col(date_column) >= partition_end))
    if len(outside):
        raise ValueError(
            f"{len(outside)} rows of {table} fall outside [{partition_start}, {partition_end}) on {date_column}"
        )
