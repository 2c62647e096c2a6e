"""The DDL of database pivot in each of its forms, generated from ddl/clickhouse/ (the one source).

- **Embedded or single server**: the files as written, the database renamed. What
  `ClickHouseResource.apply_ddl` runs, and what `python -m pipeline.resources.clickhouse ddl` prints.
- **Cluster** (`PIVOT_CLICKHOUSE_CLUSTER=<name>`, `ddl --cluster NAME`): every statement `ON CLUSTER`;
  - the reference tables (instruments, constituents, fx_rates) on `ReplicatedMergeTree` with one
    replica set across the whole cluster (path without `{shard}`), so every node holds them whole
    and a join with them never leaves the node;
  - the fact and the rollup as `<table>_local` on `Replicated(Aggregating)MergeTree` per shard, with a
    `load_version` column and `PARTITION BY (trade_date, load_version)`, a `Distributed` table
    `<table>_all` over them, and, under the name the queries use, a view of `<table>_all` that shows
    each date at its completed version only (`day_versions`, see `cluster_swap.py`);
  - `day_versions`, the completion markers, replicated whole like the reference tables.
- **Roles** (server and cluster, never the embedded store): `pivot_loader` (write database pivot,
  nothing else), `pivot_reader` (SELECT on pivot), and a login user for each whose password comes
  from the environment and appears in the DDL only as its SHA-256.

Sharding key of the fact: `cityHash64(account_id)`. An account belongs to one portfolio, fund and
PM, an order to one account, and a look-through row carries its parent trade's account, so a trade,
its constituent rows and its whole order sit on one shard: the per-trade checks (duplicates,
look-through consistency) and per-account positions are shard-local, and 288+ accounts spread
evenly over any number of shards (a PM key would leave 12 values; a symbol key would pile
AAPL's look-through rows onto one shard). The rollup is built on each shard from that shard's fact
rows (its states merge across shards in any `sumMerge`), so its Distributed table has no sharding
key: an INSERT through it is refused, by design.

Pure: text in, text out, no Dagster and no database client.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

DDL_DIR = Path(__file__).resolve().parents[2] / "ddl" / "clickhouse"

REFERENCE_TABLES = ("instruments", "constituents", "fx_rates")
# The fact's rows go to shards by their account (the loads route them by the same key: clickhouse_cluster.py).
SHARDING_COLUMN = "account_id"
# Tables loaded a day at a time by the cluster swap: name -> sharding key of its Distributed table.
VERSIONED_TABLES = {"trades_1d": f"cityHash64({SHARDING_COLUMN})", "trades_1d_rollup": None}
DAY_VERSIONS = "day_versions"
VERSION_COLUMN = "load_version"
LOCAL_SUFFIX = "_local"
DISTRIBUTED_SUFFIX = "_all"

SHARD_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
# One replica set over every node: the {replica} macro is unique across the cluster (the host name).
WHOLE_CLUSTER_PATH = "'/clickhouse/tables/all/{database}/{table}', '{replica}'"

LOADER_ROLE, READER_ROLE = "pivot_loader", "pivot_reader"
LOADER_USER, READER_USER = "pivot_loader_user", "pivot_reader_user"
ENV_LOADER_PASSWORD = "PIVOT_CLICKHOUSE_LOADER_PASSWORD"
ENV_READER_PASSWORD = "PIVOT_CLICKHOUSE_READER_PASSWORD"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_PIVOT_REFERENCE = re.compile(r"\bpivot\.")
_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS pivot\.(\w+)\s*\(", re.S)
_ALTER_TABLE = re.compile(r"^ALTER TABLE pivot\.(\w+)\s", re.S)
_ENGINE = re.compile(r"\)\s*ENGINE = (\w+)\s*(.*)$", re.S)
_COLUMN_NAME = re.compile(r"^\s+(\w+)\s+\S", re.M)

DAY_VERSIONS_DDL = f"""CREATE TABLE IF NOT EXISTS pivot.{DAY_VERSIONS}
(
    table_name  LowCardinality(String) COMMENT 'The versioned table (trades_1d, trades_1d_rollup)',
    trade_date  Date COMMENT 'The day swapped',
    version     UInt64 COMMENT 'The load_version of the rows of that load (microseconds since 1970, increasing)',
    state       Enum8('started' = 1, 'staged' = 2, 'complete' = 3, 'rolled_back' = 4) COMMENT 'Where the swap got to',
    shard_rows  Array(UInt64) COMMENT 'Rows staged per shard (state staged): what finishing the swap must find',
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the state was recorded'
)
ENGINE = MergeTree
ORDER BY (table_name, trade_date, version, state)"""


def quote_identifier(name: str) -> str:
    """Refuse anything that is not a plain identifier: names come from config and must not carry SQL."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain identifier (letters, digits and _, not starting with a digit).")
    return f"`{name}`"


def split_statements(sql: str) -> list[str]:
    without_comments = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [statement.strip() for statement in without_comments.split(";") if statement.strip()]


def source_statements() -> list[str]:
    """The statements of ddl/clickhouse/*.sql in file order, naming database `pivot`."""
    return [s for path in sorted(DDL_DIR.glob("*.sql")) for s in split_statements(path.read_text())]


def _in_database(statement: str, database: str) -> str:
    quote_identifier(database)
    statement = statement.replace("DATABASE IF NOT EXISTS pivot", f"DATABASE IF NOT EXISTS {database}")
    return statement if database == "pivot" else _PIVOT_REFERENCE.sub(f"{database}.", statement)


def server_statements(database: str = "pivot") -> list[str]:
    """The embedded and single-server form: the source files as written, in `database`."""
    return [_in_database(s, database) for s in source_statements()]


@dataclass(frozen=True)
class _Table:
    """A CREATE TABLE statement of the source, in parts."""

    name: str
    body: str  # the column list, between the outer parentheses
    engine: str  # MergeTree, AggregatingMergeTree
    clauses: str  # PARTITION BY / ORDER BY / SETTINGS

    @classmethod
    def parse(cls, statement: str) -> _Table:
        name = _CREATE_TABLE.match(statement).group(1)
        engine = _ENGINE.search(statement)
        body = statement[statement.index("(") + 1 : engine.start()]
        return cls(name, body.rstrip(), engine.group(1), engine.group(2).strip())

    def columns(self) -> list[str]:
        return _COLUMN_NAME.findall(self.body)


def _cluster_table(table: _Table, cluster: str, database: str) -> list[str]:
    if table.name not in VERSIONED_TABLES:
        return [
            f"CREATE TABLE IF NOT EXISTS pivot.{table.name} ON CLUSTER {cluster}\n({table.body}\n)\n"
            f"ENGINE = Replicated{table.engine}({WHOLE_CLUSTER_PATH})\n{table.clauses}"
        ]
    local, distributed = table.name + LOCAL_SUFFIX, table.name + DISTRIBUTED_SUFFIX
    body = (
        f"{table.body},\n    {VERSION_COLUMN} UInt64 COMMENT 'Version of the load that wrote the row: "
        f"readers see a date at its completed version only (pivot.{DAY_VERSIONS})'"
    )
    clauses = table.clauses.replace("PARTITION BY trade_date", f"PARTITION BY (trade_date, {VERSION_COLUMN})")
    key = VERSIONED_TABLES[table.name]
    return [
        f"CREATE TABLE IF NOT EXISTS pivot.{local} ON CLUSTER {cluster}\n({body}\n)\n"
        f"ENGINE = Replicated{table.engine}({SHARD_PATH})\n{clauses}",
        f"CREATE TABLE IF NOT EXISTS pivot.{distributed} ON CLUSTER {cluster} AS pivot.{local}\n"
        f"ENGINE = Distributed({cluster}, {database}, {local}{', ' + key if key else ''})",
        _completed_view(table.name, table.columns(), cluster),
    ]


def _completed_view(name: str, columns: list[str], cluster: str) -> str:
    # GLOBAL IN: the initiator reads the markers once and ships the set to every shard, so all
    # shards filter by the same versions even while a marker is still replicating.
    return (
        f"CREATE OR REPLACE VIEW pivot.{name} ON CLUSTER {cluster} AS\n"
        f"SELECT {', '.join(columns)}\nFROM pivot.{name}{DISTRIBUTED_SUFFIX}\n"
        f"WHERE (trade_date, {VERSION_COLUMN}) GLOBAL IN (\n"
        f"    SELECT trade_date, max(version) FROM pivot.{DAY_VERSIONS}\n"
        f"    WHERE table_name = '{name}' AND state = 'complete' GROUP BY trade_date)"
    )


def _cluster_alter(statement: str, cluster: str) -> list[str]:
    name = _ALTER_TABLE.match(statement).group(1)
    rest = statement[_ALTER_TABLE.match(statement).end() :]
    if name not in VERSIONED_TABLES:
        return [f"ALTER TABLE pivot.{name} ON CLUSTER {cluster}\n    {rest.strip()}"]
    targets = [name + LOCAL_SUFFIX] if "MODIFY SETTING" in rest else [name + LOCAL_SUFFIX, name + DISTRIBUTED_SUFFIX]
    return [f"ALTER TABLE pivot.{target} ON CLUSTER {cluster}\n    {rest.strip()}" for target in targets]


def cluster_statements(cluster: str, database: str = "pivot") -> list[str]:
    """The cluster form of the source statements, in `database`, ON CLUSTER `cluster`."""
    quote_identifier(cluster)
    out: list[str] = []
    views: list[str] = []
    for statement in [*source_statements(), DAY_VERSIONS_DDL]:
        if statement.startswith("CREATE DATABASE"):
            out.append(f"{statement} ON CLUSTER {cluster}")
        elif _CREATE_TABLE.match(statement):
            created = _cluster_table(_Table.parse(statement), cluster, database)
            out.extend(s for s in created if not s.startswith("CREATE OR REPLACE VIEW"))
            views.extend(s for s in created if s.startswith("CREATE OR REPLACE VIEW"))
        elif _ALTER_TABLE.match(statement):
            out.extend(_cluster_alter(statement, cluster))
        else:
            raise ValueError(f"no cluster form for this statement of {DDL_DIR}:\n{statement}")
    # The views last: they name every column, including those the ALTERs add to older stores.
    return [_in_database(s, database) for s in [*out, *views]]


def staging_engine(table: str) -> str:
    """The ENGINE clause of a staging table for `table`, not replicated (staging lives on the one replica
    that swaps it in; REPLACE PARTITION accepts it): for a versioned table its local table's, partitioned
    by (trade_date, load_version); for a reference table the source's engine as written."""
    for statement in source_statements():
        match = _CREATE_TABLE.match(statement)
        if match and match.group(1) == table:
            parsed = _Table.parse(statement)
            clauses = parsed.clauses.replace("PARTITION BY trade_date", f"PARTITION BY (trade_date, {VERSION_COLUMN})")
            return f"{parsed.engine}\n{clauses}"
    raise KeyError(f"no CREATE TABLE for pivot.{table} in {DDL_DIR}")


def password_hash(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def role_statements(
    database: str = "pivot",
    cluster: str | None = None,
    loader_password: str | None = None,
    reader_password: str | None = None,
) -> list[str]:
    """The roles of the warehouse and, for each password given, its login user.

    The loader writes database `database` (tables, views, partitions: what the loads and the DDL
    do) and nothing else; the reader only reads it. ON CLUSTER also needs the CLUSTER privilege.
    """
    db = quote_identifier(database)
    on = f" ON CLUSTER {quote_identifier(cluster)}" if cluster else ""
    statements = [
        f"CREATE ROLE IF NOT EXISTS {LOADER_ROLE}{on}",
        f"CREATE ROLE IF NOT EXISTS {READER_ROLE}{on}",
        f"GRANT{on} SELECT, INSERT, ALTER, CREATE DATABASE, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, "
        f"TRUNCATE, OPTIMIZE, SHOW TABLES ON {db}.* TO {LOADER_ROLE}",
        f"GRANT{on} SELECT, SHOW TABLES ON {db}.* TO {READER_ROLE}",
    ]
    if cluster:
        statements.append(f"GRANT{on} CLUSTER ON *.* TO {LOADER_ROLE}")
    for user, role, password in (
        (LOADER_USER, LOADER_ROLE, loader_password),
        (READER_USER, READER_ROLE, reader_password),
    ):
        if password:
            identified = f"IDENTIFIED WITH sha256_hash BY '{password_hash(password)}'"
            statements += [
                f"CREATE USER IF NOT EXISTS {user}{on} {identified} DEFAULT ROLE {role}",
                f"ALTER USER {user}{on} {identified}",  # a changed password takes effect
                f"GRANT{on} {role} TO {user}",
            ]
    return statements


def ddl_statements(
    database: str = "pivot",
    *,
    cluster: str | None = None,
    roles: bool = False,
    passwords: tuple[str | None, str | None] = (None, None),
) -> list[str]:
    """The tables (in their cluster form when `cluster` is set) and, with `roles`, the roles and users."""
    tables = cluster_statements(cluster, database) if cluster else server_statements(database)
    return tables + (role_statements(database, cluster, *passwords) if roles else [])


def render(statements: list[str]) -> str:
    """`;`-terminated statements, as clickhouse-client --multiquery reads them."""
    return "".join(f"{statement};\n\n" for statement in statements)
