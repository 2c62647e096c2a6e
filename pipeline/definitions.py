"""The code location's one `defs`: both warehouses, their resources, jobs, schedules and sensors."""

import gc
import os

import dagster as dg

from pipeline import sensors
from pipeline.assets import dist_perf_dw, dist_perf_dw_checks, freshness, pivot, pivot_checks, pivot_parts
from pipeline.jobs import dist_perf_dw as dist_perf_dw_jobs
from pipeline.jobs import pivot as pivot_jobs
from pipeline.jobs import pivot_history as pivot_history_jobs
from pipeline.jobs import pivot_retention as pivot_retention_jobs
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.generation import GenerationSettings
from pipeline.resources.postgres import PostgresResource
from pipeline.settings import ENV_CLICKHOUSE_CLUSTER, ENV_CLICKHOUSE_URL, ENV_POSTGRES_URL, default_clickhouse_url


def env_or_default(name: str, default: str) -> str | dg.EnvVar:
    """A resource field value: the env var when it is set (so Dagster shows its
    name, never its value), else the embedded default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


defs = dg.Definitions.merge(
    pivot.defs,
    pivot_checks.defs,
    pivot_parts.defs,
    pivot_jobs.defs,
    pivot_history_jobs.defs,
    pivot_retention_jobs.defs,
    dist_perf_dw.defs,
    dist_perf_dw_checks.defs,
    dist_perf_dw_jobs.defs,
    freshness.defs,
    sensors.defs,
    dg.Definitions(
        resources={
            "clickhouse": ClickHouseResource(
                url=env_or_default(ENV_CLICKHOUSE_URL, default_clickhouse_url()),
                cluster=env_or_default(ENV_CLICKHOUSE_CLUSTER, ""),
            ),
            # Empty means the project's own local PostgreSQL, started on first use.
            "postgres": PostgresResource(url=env_or_default(ENV_POSTGRES_URL, "")),
            "generation": GenerationSettings(),
        },
        # Steps of a run execute one after another in the run's own process: the embedded
        # ClickHouse store admits a single process, so per-step subprocesses (an asset and its
        # checks side by side) would lock each other out. Parallelism comes from concurrent
        # runs instead, bounded by the instance's run queue and pools (dagster.yaml).
        executor=dg.in_process_executor,
    ),
)

# Everything imported so far (Dagster, Polars, SQLAlchemy, these definitions) lives as long as
# the process: keep it out of the cyclic GC, which otherwise re-walks it in every full collection
# and once more at interpreter exit (1.2 s of a `dagster asset materialize` process's teardown).
gc.freeze()
