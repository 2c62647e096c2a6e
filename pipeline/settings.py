"""Project-wide constants: where local data lives, the environment variables, pools, timezone.

Every environment variable the code location reads is named here, so the
README's table and the code cannot drift apart; so are the names that several
modules must agree on (pools, the trading timezone, the global seed).
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Local state (embedded ClickHouse store, local PostgreSQL, Dagster home) lives
# under one git-ignored directory, so `make clean` is a single rm.
ENV_DATA_DIR = "PIVOT_DATA_DIR"

ENV_CLICKHOUSE_URL = "PIVOT_CLICKHOUSE_URL"
# The ClickHouse cluster (a remote_servers name) whose form of the DDL the resource applies; unset: one server.
ENV_CLICKHOUSE_CLUSTER = "PIVOT_CLICKHOUSE_CLUSTER"
ENV_POSTGRES_URL = "PIVOT_POSTGRES_URL"
# The web pages' URL of dist_perf_dw: a read-only role (unset: dist_perf_dw_reader on the pipeline's server).
ENV_WEB_POSTGRES_URL = "PIVOT_WEB_POSTGRES_URL"
# The web pages' URL of pivot on a ClickHouse server, as pivot_reader_user (unset: PIVOT_CLICKHOUSE_URL).
ENV_WEB_CLICKHOUSE_URL = "PIVOT_WEB_CLICKHOUSE_URL"
ENV_LANDING_DIR = "PIVOT_LANDING_DIR"
# Where pivot/trades_1d takes a day's base trades from: "synthetic" (generated, the default: demo,
# tests, benchmarks) or "landed" (the files in $PIVOT_LANDING_DIR/trades/). Read once, when the
# definitions load, as the default of the asset's `source` config; run config overrides it.
ENV_TRADE_SOURCE = "PIVOT_TRADE_SOURCE"
TRADE_SOURCES = ("synthetic", "landed")
# Where dist_perf_dw's dimensions and facts come from: "synthetic" (generated, the default) or "landed"
# (the distribution team's feeds in $PIVOT_LANDING_DIR/dist_perf_dw/<feed>/). Read like
# PIVOT_TRADE_SOURCE: the default of the assets' `source` config; run config overrides it.
ENV_DIST_SOURCE = "PIVOT_DIST_SOURCE"
DIST_SOURCES = ("synthetic", "landed")
# The folder under $PIVOT_LANDING_DIR that holds dist_perf_dw's feeds, one sub-folder per feed.
DIST_LANDING_FOLDER = "dist_perf_dw"
# The Dagster instance (dagster.yaml, pipeline.instance): where its storage lives and how
# many steps may use each database pool at once.
ENV_DAGSTER_STORAGE_URL = "PIVOT_DAGSTER_STORAGE_URL"
ENV_CLICKHOUSE_POOL_LIMIT = "PIVOT_CLICKHOUSE_POOL_LIMIT"
ENV_POSTGRES_POOL_LIMIT = "PIVOT_POSTGRES_POOL_LIMIT"

# The first trade date (and month) of every partitioned asset.
FIRST_TRADE_DATE = "2024-01-01"

# The global seed of decision 1: every generated row is a function of it.
DEFAULT_SEED = 20240101

# Trade dates are calendar days in New York, the convention of the US markets most
# of the book trades in; partitions, schedules and "today" all use it.
TRADING_TIMEZONE = "America/New_York"

# Dagster concurrency pools: every step that opens a store claims a slot in its pool
# (limits in dagster.yaml, set per deployment by pipeline.instance).
CLICKHOUSE_POOL = "clickhouse"
POSTGRES_POOL = "postgres"


def data_dir() -> Path:
    """$PIVOT_DATA_DIR, else .data in the repository; read at call time (tests and subprocesses set it)."""
    return Path(os.environ.get(ENV_DATA_DIR) or REPO_ROOT / ".data").resolve()


def landing_dir() -> Path:
    """Where operators drop files for the pivot warehouse ($PIVOT_LANDING_DIR)."""
    return Path(os.environ.get(ENV_LANDING_DIR) or data_dir() / "landing")


def trade_source() -> str:
    """$PIVOT_TRADE_SOURCE (synthetic | landed), default synthetic; anything else fails naming the choices."""
    value = (os.environ.get(ENV_TRADE_SOURCE) or TRADE_SOURCES[0]).strip().lower()
    if value not in TRADE_SOURCES:
        raise ValueError(f"{ENV_TRADE_SOURCE}={value!r}: choose one of {', '.join(TRADE_SOURCES)}")
    return value


def dist_source() -> str:
    """$PIVOT_DIST_SOURCE (synthetic | landed), default synthetic; anything else fails naming the choices."""
    value = (os.environ.get(ENV_DIST_SOURCE) or DIST_SOURCES[0]).strip().lower()
    if value not in DIST_SOURCES:
        raise ValueError(f"{ENV_DIST_SOURCE}={value!r}: choose one of {', '.join(DIST_SOURCES)}")
    return value


def dist_landing_dir() -> Path:
    """$PIVOT_LANDING_DIR/dist_perf_dw: one sub-folder per feed (firms/, advisors/, flows/, ...)."""
    return landing_dir() / DIST_LANDING_FOLDER


def default_clickhouse_url() -> str:
    return f"chdb://{data_dir() / 'clickhouse'}"


# A landed file is read only once it has stood unchanged this long (seconds): a load sees a file once
# and cannot wait for a second look as the sensors do.
ENV_LANDED_SETTLE_SECONDS = "PIVOT_LANDED_SETTLE_SECONDS"
DEFAULT_LANDED_SETTLE_SECONDS = 10.0
# The largest |notional_usd| one landed trade may have; a line above it is refused (a quantity or a
# price off by orders of magnitude), as is every non-finite value.
ENV_MAX_TRADE_NOTIONAL_USD = "PIVOT_MAX_TRADE_NOTIONAL_USD"
DEFAULT_MAX_TRADE_NOTIONAL_USD = 1e11


def _positive_number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name}={text!r}: write a finite number >= 0 (default {default:g})")
    return value


# How many replaced versions of a trade date pivot keeps besides the live one (pipeline/pivot/versions.py),
# and of a date of each dist_perf_dw fact (pipeline/dist_perf_dw/versions.py).
ENV_VERSIONS_KEPT = "PIVOT_VERSIONS_KEPT"
DEFAULT_VERSIONS_KEPT = 3


def versions_kept() -> int:
    """$PIVOT_VERSIONS_KEPT, default 3 (0: keep none); read at call time."""
    kept = _whole_number(ENV_VERSIONS_KEPT, "versions", f"default {DEFAULT_VERSIONS_KEPT}")
    return DEFAULT_VERSIONS_KEPT if kept is None else kept


def _whole_number(name: str, unit: str, when_unset: str) -> int | None:
    """$name as a whole number >= 0 of `unit`, None when unset or blank; a ValueError naming the variable
    and what unsetting it means (`when_unset`) otherwise."""
    text = os.environ.get(name, "")
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise ValueError(f"{name}={text!r}: write a whole number of {unit} >= 0 ({when_unset})")
    return int(text)


# A trade date older than this many days is settled: compacted to at most 2 parts (pipeline/pivot/settle.py).
ENV_SETTLE_AFTER_DAYS = "PIVOT_SETTLE_AFTER_DAYS"
DEFAULT_SETTLE_AFTER_DAYS = 5


def settle_after_days() -> int:
    """$PIVOT_SETTLE_AFTER_DAYS, default 5; read at call time."""
    days = _whole_number(ENV_SETTLE_AFTER_DAYS, "days", f"default {DEFAULT_SETTLE_AFTER_DAYS}")
    return DEFAULT_SETTLE_AFTER_DAYS if days is None else days


# Trade dates older than this many days are archived to Parquet and dropped from the store
# (pipeline/pivot/retention.py); unset keeps every date.
ENV_RETENTION_DAYS = "PIVOT_RETENTION_DAYS"
# Where the archived trade dates' Parquet files go (default <data dir>/archive).
ENV_ARCHIVE_DIR = "PIVOT_ARCHIVE_DIR"


def retention_days() -> int | None:
    """$PIVOT_RETENTION_DAYS, None when unset (keep everything); read at call time."""
    return _whole_number(ENV_RETENTION_DAYS, "days", "or unset it to keep every date")


def archive_dir() -> Path:
    """$PIVOT_ARCHIVE_DIR, else <data dir>/archive; read at call time."""
    return Path(os.environ.get(ENV_ARCHIVE_DIR) or data_dir() / "archive").resolve()


def landed_settle_seconds() -> float:
    """$PIVOT_LANDED_SETTLE_SECONDS, default 10; read at call time."""
    return _positive_number(ENV_LANDED_SETTLE_SECONDS, DEFAULT_LANDED_SETTLE_SECONDS)


def max_trade_notional_usd() -> float:
    """$PIVOT_MAX_TRADE_NOTIONAL_USD, default 1e11; read at call time."""
    return _positive_number(ENV_MAX_TRADE_NOTIONAL_USD, DEFAULT_MAX_TRADE_NOTIONAL_USD)
