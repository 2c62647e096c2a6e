"""The code location's one `defs`: both warehouses, their resources, jobs, schedules and sensors."""

import gc

import dagster as dg

from pipeline import checks, sensors
from pipeline.assets import dist_perf_dw, pivot
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.postgres import PostgresResource
from pipeline.settings import ENV_CLICKHOUSE_URL, ENV_POSTGRES_URL, default_clickhouse_url, env_or_default

defs = dg.Definitions.merge(
    pivot.defs,
    dist_perf_dw.defs,
    checks.defs,
    sensors.defs,
    dg.Definitions(
        resources={
            "clickhouse": ClickHouseResource(url=env_or_default(ENV_CLICKHOUSE_URL, default_clickhouse_url())),
            # Empty means the project's own local PostgreSQL, started on first use.
            "postgres": PostgresResource(url=env_or_default(ENV_POSTGRES_URL, "")),
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
