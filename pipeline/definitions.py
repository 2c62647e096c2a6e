"""The code location's one `defs`: both warehouses, their resources, jobs, schedules and sensors."""

import dagster as dg

from pipeline.assets import pivot
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import ENV_CLICKHOUSE_URL, default_clickhouse_url, env_or_default

defs = dg.Definitions.merge(
    pivot.defs,
    dg.Definitions(
        resources={
            "clickhouse": ClickHouseResource(url=env_or_default(ENV_CLICKHOUSE_URL, default_clickhouse_url())),
        }
    ),
)
