"""The ClickHouse resource: the only code that knows where the pivot warehouse lives.

`url` is either `chdb:///<dir>` (the real ClickHouse engine in-process through
chDB, the default) or `http(s)://user:password@host:port` for a ClickHouse
server. Everything else in the code location talks to the methods below and
never learns which of the two it got.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import clickhouse_connect
import dagster as dg
import polars as pl
import pyarrow as pa
from clickhouse_connect.driver.client import Client
from pydantic import ConfigDict, Field, field_validator

from pipeline.failpoints import failpoint
from pipeline.pivot.clickhouse_ddl import (
    ENV_LOADER_PASSWORD,
    ENV_READER_PASSWORD,
    ddl_statements,
    quote_identifier,
    render,
    split_statements,
    staging_engine,
)
from pipeline.resources.clickhouse_cluster import (
    CLUSTER_READ_SETTINGS,
    CLUSTER_REPLICAS,
    ShardedClickHouse,
    pick_replicas,
    url_on_host,
)
from pipeline.resources.urls import authority_problem, redact_url, userinfo_value
from pipeline.settings import ENV_CLICKHOUSE_CLUSTER, ENV_CLICKHOUSE_URL, REPO_ROOT

DDL_DIR = REPO_ROOT / "ddl" / "clickhouse"
STAGING_MARKER = "__staging_"

# Inserts must land before the partition swap reads the staging table, and
# ClickHouse 26 defaults to async_insert=1: set it explicitly. Insert blocks (and so
# parts) of ~96 MB, about 290k trade rows, rather than the default 256 MB: as fast,
# and less memory in flight (README "Performance").
INSERT_SETTINGS = {"async_insert": 0, "insert_deduplicate": 0, "min_insert_block_size_bytes": 96 * 1024 * 1024}

_PIVOT_REFERENCE = re.compile(r"\bpivot\.")

_clients: dict[str, Client] = {}
_clients_lock = threading.Lock()
# Stores whose DDL could not be applied at run start (busy or unreachable): applied on first open.
_ddl_pending: set[tuple[str, str]] = set()  # (url, database): the DDL is per database


class ClickHouseUnavailableError(RuntimeError):
    """The ClickHouse store cannot be opened or reached; the message says what to fix."""


def _validate_url(url: str) -> str:
    # Every message shows the URL redacted: a malformed URL may still carry a password.
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "chdb":
        if not url.startswith("chdb:///"):
            raise ValueError(
                f"PIVOT_CLICKHOUSE_URL={redact_url(url)!r}: a chDB URL needs an absolute directory, "
                "e.g. chdb:///srv/pivot/clickhouse"
            )
        return url
    if scheme in ("http", "https"):
        _, slashes, authority = url.partition("://")
        problem = authority_problem(authority) if slashes else "no // after the scheme"
        if problem:
            raise ValueError(
                f"PIVOT_CLICKHOUSE_URL={redact_url(url)!r}: {problem}; write it as "
                "http(s)://user:password@host:port, e.g. http://default:secret@127.0.0.1:8123"
            )
        return url
    raise ValueError(
        f"PIVOT_CLICKHOUSE_URL={redact_url(url)!r}: unsupported scheme {scheme!r}; "
        "use chdb:///<directory> for the embedded engine or http(s)://user:password@host:port for a server."
    )


def _open_client(url: str) -> Client:
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        store = Path(parts.path)
        try:
            store.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ClickHouseUnavailableError(
                f"Cannot create the embedded ClickHouse store directory {store}: {error.strerror}. "
                "Free disk space or fix the directory's permissions, or set PIVOT_CLICKHOUSE_URL."
            ) from error
        try:
            return clickhouse_connect.get_client(dsn=url)
        except Exception as error:
            raise ClickHouseUnavailableError(
                f"Cannot open the embedded ClickHouse store at {store}: {error}. chDB admits one process "
                "per data directory: stop the other process using it (dagster dev, a demo, a test run), "
                "or point PIVOT_CLICKHOUSE_URL at a ClickHouse server."
            ) from error
    try:
        return clickhouse_connect.get_client(
            host=parts.hostname,
            port=parts.port or (8443 if parts.scheme == "https" else 8123),
            username=userinfo_value(parts.username) or "default",
            password=userinfo_value(parts.password) or "",
            secure=parts.scheme == "https",
            autogenerate_session_id=False,
            connect_timeout=10,
        )
    except Exception as error:
        raise ClickHouseUnavailableError(
            f"Cannot reach the ClickHouse server at {redact_url(url)}: {error}. "
            "Check PIVOT_CLICKHOUSE_URL (host, port, user, password) and that the server is running."
        ) from None


def close_all_clients() -> None:
    """Release every open store: chDB serves one data directory per process at a time."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


_DDL_COLUMN = re.compile(r"^\s+(\w+)\s+(.+?)(?:\s+DEFAULT\s+.+?)?(?:\s+COMMENT\s+'((?:[^'\\\\]|\\\\.)*)')?,?$")


def ddl_columns(table: str) -> list[tuple[str, str, str, bool]]:
    """(name, type, description, nullable) of each column of `pivot.<table>`, read from its CREATE
    statement in ddl/clickhouse, the source of truth (descriptions are the columns' COMMENTs)."""
    for path in sorted(DDL_DIR.glob("*.sql")):
        for statement in split_statements(path.read_text()):
            if re.search(rf"CREATE TABLE IF NOT EXISTS pivot\.{table}\b", statement):
                body = statement[statement.index("(") + 1 : statement.rindex(")")]
                return [
                    (m.group(1), m.group(2), (m.group(3) or "").replace("\\'", "'"), m.group(2).startswith("Nullable("))
                    for line in body.splitlines()
                    if not line.strip().startswith("--") and (m := _DDL_COLUMN.match(line))
                ]
    raise KeyError(f"no CREATE TABLE for pivot.{table} in {DDL_DIR}")


class ClickHouseResource(dg.ConfigurableResource):
    """The pivot warehouse in ClickHouse (embedded chDB or a server)."""

    # pydantic appends `input_value='<the URL>'` to a validation error, password and all.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(description="chdb:///<dir> for the embedded engine, or http(s)://user:password@host:port.")
    database: str = Field(default="pivot", description="Database holding the pivot tables.")
    cluster: str = Field(
        default="",
        description="A ClickHouse cluster name: apply the cluster form of the DDL and load through the cluster "
        "swap (empty: one server).",
    )

    # An EnvVar is resolved only when a run starts; get_client() validates the resolved value then.
    @field_validator("url", mode="before")
    @classmethod
    def _url_is_supported(cls, url: str) -> str:
        return url if isinstance(url, dg.EnvVar) else _validate_url(url)

    @field_validator("database", mode="before")
    @classmethod
    def _database_is_identifier(cls, database: str) -> str:
        if not isinstance(database, dg.EnvVar):
            quote_identifier(database)
        return database

    @property
    def is_embedded(self) -> bool:
        return self.url.startswith("chdb:")

    @property
    def location(self) -> str:
        """Where the warehouse is, safe to show to people."""
        return redact_url(self.url)

    def get_client(self) -> Client:
        with _clients_lock:
            client = _clients.get(self.url)
            if client is None:
                _validate_url(self.url)
                if self.is_embedded:
                    # chDB refuses a second data directory in one process until the first is closed.
                    for other in _clients.values():
                        other.close()
                    _clients.clear()
                client = _clients[self.url] = _open_client(self.url)
            pending = (self.url, self.database) in _ddl_pending
        if pending:
            _ddl_pending.discard((self.url, self.database))
            self.apply_ddl()
        return client

    def table(self, name: str) -> str:
        return f"{quote_identifier(self.database)}.{quote_identifier(name)}"

    def localize(self, sql: str) -> str:
        """SQL in this code base names the spec's database `pivot`; point it at the configured one."""
        return sql if self.database == "pivot" else _PIVOT_REFERENCE.sub(f"{self.database}.", sql)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every run that touches ClickHouse starts from the DDL in ddl/clickhouse. A store that is
        # busy (another process holds the embedded one) or unreachable is not a resource failure,
        # which no RetryPolicy covers: the DDL waits for the first step that opens the store, whose
        # failure is then retried by the step's RetryPolicy like any other.
        try:
            self.apply_ddl()
        except ClickHouseUnavailableError as error:
            _ddl_pending.add((self.url, self.database))
            context.log.warning(f"{error} The steps that need the store will fail (and retry) until it is free.")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        # Hand the embedded store back as soon as the work is done: the next run's step
        # (released by the `clickhouse` pool) may be another process.
        if self.is_embedded:
            close_all_clients()

    # -- statements ---------------------------------------------------------------------------

    def command(self, sql: str, parameters: dict | None = None, settings: dict | None = None):
        return self.get_client().command(self.localize(sql), parameters=parameters, settings=settings)

    def query_polars(self, sql: str, parameters: dict | None = None) -> pl.DataFrame:
        client, settings = self.get_client(), self._read_settings()
        return pl.from_arrow(client.query_arrow(self.localize(sql), parameters=parameters, settings=settings))

    def query_rows(self, sql: str, parameters: dict | None = None) -> list[tuple]:
        client, settings = self.get_client(), self._read_settings()
        return client.query(self.localize(sql), parameters=parameters, settings=settings).result_rows

    @contextmanager
    def query_arrow_batches(self, sql: str, parameters: dict | None = None) -> Iterator[Iterator[pa.RecordBatch]]:
        """The result as a stream of Arrow record batches, never whole in memory (a day's archive export)."""
        client, settings = self.get_client(), self._read_settings()
        with client.query_arrow_stream(self.localize(sql), parameters=parameters, settings=settings) as stream:
            yield (batch for item in stream for batch in (item.to_batches() if isinstance(item, pa.Table) else [item]))

    def _read_settings(self) -> dict | None:
        return CLUSTER_READ_SETTINGS if self.cluster else None

    def sharded(self) -> ShardedClickHouse:
        """The cluster's shards, one replica each, as this node's system.clusters lists them
        (pipeline/resources/clickhouse_cluster.py); this node serves its own shard."""
        replicas = pick_replicas(self.cluster, self.query_rows(CLUSTER_REPLICAS, {"cluster": self.cluster}))
        shards = [
            self if r.is_local else ClickHouseResource(url=url_on_host(self.url, r.host), database=self.database)
            for r in replicas
        ]
        return ShardedClickHouse(self, shards, [r.weight for r in replicas], self.cluster)

    def ddl(self) -> list[str]:
        """The statements apply_ddl runs (pipeline/pivot/clickhouse_ddl.py): the tables of ddl/clickhouse, in
        their cluster form when `cluster` is set, and on a server whose role passwords are in the environment
        (an administrator's connection) the roles and their users."""
        passwords = (os.environ.get(ENV_LOADER_PASSWORD), os.environ.get(ENV_READER_PASSWORD))
        roles = not self.is_embedded and any(passwords)
        return ddl_statements(self.database, cluster=self.cluster or None, roles=roles, passwords=passwords)

    def apply_ddl(self) -> list[str]:
        """Create the database and its tables from ddl/clickhouse (idempotent); returns the files applied."""
        for statement in self.ddl():
            self.command(statement)
        self._drop_orphaned_staging_tables()
        return [path.name for path in sorted(DDL_DIR.glob("*.sql"))]

    def _drop_orphaned_staging_tables(self) -> None:
        # A killed load leaves its staging table behind; it holds nothing anyone reads.
        # With the embedded store no other process can be mid-load, so all of them
        # are orphans; on a server only those untouched for a day are.
        age_filter = "" if self.is_embedded else "AND metadata_modification_time < now() - INTERVAL 1 DAY"
        orphans = self.query_rows(
            f"SELECT name FROM system.tables WHERE database = {{db:String}} "
            f"AND position(name, '{STAGING_MARKER}') > 0 {age_filter}",
            parameters={"db": self.database},
        )
        for (name,) in orphans:
            self.command(f"DROP TABLE IF EXISTS {self.table(name)}")

    # -- loads --------------------------------------------------------------------------------

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        """Bulk insert of an Arrow table; columns are matched by name."""
        columns = ", ".join(quote_identifier(name) for name in data.column_names)
        if self.is_embedded:
            # chDB reads the Arrow buffers in place through its Python() table function,
            # about twice as fast as serialising to Native first (see DESIGN.md).
            arrow_rows = data  # noqa: F841 - resolved by name inside the SQL below
            self.command(
                f"INSERT INTO {self.table(table)} ({columns}) SELECT {columns} FROM Python(arrow_rows)",
                settings=INSERT_SETTINGS,
            )
        else:
            self.get_client().insert_arrow(f"{self.database}.{table}", data, settings=INSERT_SETTINGS)

    @contextmanager
    def _staging_table(
        self, table: str, computed: Mapping[str, str] | None = None, engine: str | None = None
    ) -> Iterator[str]:
        staging = f"{table}{STAGING_MARKER}{uuid.uuid4().hex[:12]}"
        with_engine = f" ENGINE = {engine}" if engine else ""
        self.command(f"CREATE TABLE {self.table(staging)} AS {self.table(table)}{with_engine}")
        try:
            if computed:
                self.compute_on_insert(staging, computed)
            yield staging
        finally:
            self.command(f"DROP TABLE IF EXISTS {self.table(staging)}")

    def _swap_partition_in(self, table: str, staging: str, partition_date: date) -> None:
        failpoint(f"clickhouse.{table}.before_swap")
        self.command(
            f"ALTER TABLE {self.table(table)} REPLACE PARTITION {{day:Date}} FROM {self.table(staging)}",
            parameters={"day": partition_date},
            settings={"allow_replace_partition_from_empty_source": 1},
        )

    def to_arrow(self, frame: pl.DataFrame) -> pa.Table:
        """The frame in the Arrow layout this backend ingests best.

        chDB reads Arrow string views, which Polars hands over without copying (~5x faster
        than building large_string buffers); a server gets the classic layout every
        ClickHouse version reads.
        """
        return frame.to_arrow(compat_level=pl.CompatLevel.newest() if self.is_embedded else None)

    def insert_stream(self, table: str, chunks: Iterable[pa.Table | pl.DataFrame]) -> int:
        """Insert a stream of chunks (all of one schema) and return the rows inserted.

        With chDB the whole stream is one INSERT reading an Arrow stream, so the engine
        overlaps converting, sorting and writing parts across its threads instead of
        starting and finishing an INSERT per chunk (a 1M-trade day of 19.8M rows: 18.6 s,
        against 23.8 s as INSERTs of 500k rows; benchmarks/experiments/insert_paths.py).
        A server gets one `insert_arrow` per chunk. An error raised by the chunks'
        producer is re-raised as it was, not as the engine's wrapping of it.
        """
        arrow_chunks = (self.to_arrow(chunk) if isinstance(chunk, pl.DataFrame) else chunk for chunk in chunks)
        arrow_chunks = (arrow for arrow in arrow_chunks if arrow.num_rows)
        if not self.is_embedded:
            rows = 0
            for arrow in arrow_chunks:
                self.insert_arrow(table, arrow)
                rows += arrow.num_rows
            return rows
        first = next(arrow_chunks, None)
        if first is None:
            return 0
        schema, counted, producer_error = first.schema, [0], []

        def record_batches() -> Iterator[pa.RecordBatch]:
            try:
                for arrow in itertools.chain([first], arrow_chunks):
                    counted[0] += arrow.num_rows
                    for batch in arrow.to_batches():
                        yield batch if batch.schema == schema else batch.cast(schema)
            except BaseException as error:
                producer_error.append(error)
                raise

        arrow_stream = pa.RecordBatchReader.from_batches(schema, record_batches())  # noqa: F841 - read by name below
        columns = ", ".join(quote_identifier(name) for name in schema.names)
        try:
            self.command(
                f"INSERT INTO {self.table(table)} ({columns}) SELECT {columns} FROM Python(arrow_stream)",
                settings=INSERT_SETTINGS,
            )
        except Exception:
            if producer_error:
                raise producer_error[0] from None
            raise
        return counted[0]

    def compute_on_insert(self, table: str, computed: Mapping[str, str]) -> None:
        """Give columns of `table` a DEFAULT expression, so that rows written without them get them
        computed by the engine as they are written."""
        changes = ", ".join(f"MODIFY COLUMN {quote_identifier(c)} DEFAULT {e}" for c, e in computed.items())
        self.command(f"ALTER TABLE {self.table(table)} {changes}")

    def replace_partition(
        self,
        table: str,
        partition_date: date,
        chunks: Iterable[pa.Table | pl.DataFrame],
        *,
        computed: Mapping[str, str] | None = None,
        before_swap: Callable[[str], None] | None = None,
    ) -> int:
        """Load one day's rows, streamed in chunks, and swap them in as the table's partition.

        Readers see the old day until the swap and the whole new day after it; a
        failure before the swap leaves the old day untouched. `computed` maps columns the
        chunks leave out to the expression the engine computes them by while it writes the
        rows (a DEFAULT of the staging table only: the table keeps its plain definition, and
        REPLACE PARTITION compares column names and types, not defaults). `before_swap` gets
        the staging table's qualified name and may raise to refuse the staged day.

        On a cluster the day is staged on every shard and swapped in by the cluster swap
        (`sharded`): readers see it once every shard holds it.
        """
        if self.cluster:
            return self.sharded().replace_partition(
                table, partition_date, chunks, computed=computed, before_swap=before_swap
            )
        with self._staging_table(table, computed) as staging:
            rows = self.insert_stream(staging, chunks)
            if before_swap:
                before_swap(self.table(staging))
            self._swap_partition_in(table, staging, partition_date)
        return rows

    def rebuild_partition(self, table: str, partition_date: date, select_sql: str, parameters: dict) -> int:
        """Fill one day of `table` from a SELECT over other tables, then swap it in. On a cluster each
        shard fills its part from its own rows of the fact at its completed version (`{day:Date}` the one
        parameter)."""
        if self.cluster:
            return self.sharded().rebuild_partition(table, partition_date, select_sql)
        with self._staging_table(table) as staging:
            self.command(
                f"INSERT INTO {self.table(staging)} {select_sql}", parameters=parameters, settings=INSERT_SETTINGS
            )
            rows = self.query_rows(f"SELECT count() FROM {self.table(staging)}")[0][0]
            self._swap_partition_in(table, staging, partition_date)
        return rows

    def replace_table(self, table: str, frame: pl.DataFrame) -> int:
        """Replace a whole (small, unpartitioned) table atomically."""
        if self.cluster:
            # Written once, into this node's replica (one replica set spans every node): Keeper copies
            # the new parts to every shard. EXCHANGE TABLES would swap one node's table names only.
            with self._staging_table(table, engine=staging_engine(table)) as staging:
                self.insert_arrow(staging, self.to_arrow(frame))
                self.command(
                    f"ALTER TABLE {self.table(table)} REPLACE PARTITION tuple() FROM {self.table(staging)}",
                    settings={"allow_replace_partition_from_empty_source": 1},
                )
            return frame.height
        with self._staging_table(table) as staging:
            self.insert_arrow(staging, self.to_arrow(frame))
            self.command(f"EXCHANGE TABLES {self.table(table)} AND {self.table(staging)}")
        return frame.height


def main(argv: list[str] | None = None) -> int:
    """`python -m pipeline.resources.clickhouse ddl [--cluster NAME]`: print the statements the resource applies."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipeline.resources.clickhouse", description=main.__doc__)
    parser.add_argument("command", choices=["ddl"])
    parser.add_argument("--cluster", default=os.environ.get(ENV_CLICKHOUSE_CLUSTER, ""), help="cluster form")
    parser.add_argument("--database", default="pivot")
    parser.add_argument(
        "--url",
        default=os.environ.get(ENV_CLICKHOUSE_URL) or "http://localhost:8123",
        help="the store the DDL is for (default $PIVOT_CLICKHOUSE_URL, else a server): roles only on a server",
    )
    args = parser.parse_args(argv)
    resource = ClickHouseResource(url=args.url, database=args.database, cluster=args.cluster)
    sys.stdout.write(render(resource.ddl()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
