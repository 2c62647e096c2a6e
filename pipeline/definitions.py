"""The code location's one `defs`: both warehouses, their resources, jobs, schedules and sensors."""

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
