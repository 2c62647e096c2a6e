"""Where the project keeps its local data, and how environment variables reach resources.

Every environment variable the code location reads is named here, so the
README's table and the code cannot drift apart.
"""

import os
from pathlib import Path

import dagster as dg

REPO_ROOT = Path(__file__).resolve().parent.parent

# Local state (embedded ClickHouse store, local PostgreSQL, Dagster home) lives
# under one git-ignored directory, so `make clean` is a single rm.
DATA_DIR = Path(os.environ.get("PIVOT_DATA_DIR", REPO_ROOT / ".data")).resolve()

ENV_CLICKHOUSE_URL = "PIVOT_CLICKHOUSE_URL"
ENV_POSTGRES_URL = "PIVOT_POSTGRES_URL"
ENV_LANDING_DIR = "PIVOT_LANDING_DIR"
ENV_DATA_DIR = "PIVOT_DATA_DIR"
# The Dagster instance (dagster.yaml, pipeline.instance): where its storage lives and how
# many steps may use each database pool at once.
ENV_DAGSTER_STORAGE_URL = "PIVOT_DAGSTER_STORAGE_URL"
ENV_CLICKHOUSE_POOL_LIMIT = "PIVOT_CLICKHOUSE_POOL_LIMIT"
ENV_POSTGRES_POOL_LIMIT = "PIVOT_POSTGRES_POOL_LIMIT"

# The global seed of decision 1: every generated row is a function of it.
DEFAULT_SEED = 20240101


def default_clickhouse_url() -> str:
    return f"chdb://{DATA_DIR / 'clickhouse'}"


def env_or_default(name: str, default: str) -> "str | dg.EnvVar":
    """A resource field value: the env var when it is set (so Dagster shows its
    name, never its value), else the embedded default."""
    return dg.EnvVar(name) if os.environ.get(name) else default
