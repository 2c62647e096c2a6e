"""What keeping versions costs a dist_perf_dw load: one fact_aum_flows date of `rows` synthetic flows
(default 1,000,000) through `PostgresResource.replace_partition`, on a throwaway database of the
project's PostgreSQL, alternating in each repeat:

- first_load_versioned: the date empty, its catalog empty (a first load: the catalog read and one row);
- first_load_unversioned: the same rows through a two-day window, which keeps no version (the
  DELETE + COPY path as it was before versions: the comparison);
- reload_versioned: the date loaded again, its live rows moved to fact_aum_flows_history in the swap
  (from the fourth reload on, a version beyond PIVOT_VERSIONS_KEPT=3 is also deleted from the history);
- reload_unversioned: the same reload through the two-day window (DELETE + COPY, nothing kept).

`versions_seconds` is the time spent inside the versions code of each versioned load (`take_live`:
the catalog read, the EXISTS probe, keeping the live rows; `record_new`: trimming, the catalog row).

    python -m benchmarks.experiments.dist_versions_overhead [rows] [repeats]
"""

import json
import statistics
import sys
import time
import uuid
from datetime import date, timedelta

DAY = date(2024, 1, 16)


def main(rows: int = 1_000_000, repeats: int = 3) -> dict:
    import polars as pl

    from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
    from pipeline.dist_perf_dw.tables import DIMENSION_TABLES
    from pipeline.dist_perf_dw.universe import generate_dimensions
    from pipeline.resources.local_postgres import create_database_if_missing, drop_database, start
    from pipeline.resources.postgres import PostgresResource, dispose_engines
    from pipeline.settings import DEFAULT_SEED

    admin = start()
    name = f"dist_perf_dw_bench_versions_{uuid.uuid4().hex[:8]}"
    create_database_if_missing(admin, name)
    postgres = PostgresResource(url=admin.set(database=name).render_as_string(hide_password=False))
    try:
        postgres.apply_ddl()
        dims = generate_dimensions(DEFAULT_SEED)
        for table in DIMENSION_TABLES:
            postgres.reload_dimension(table, dims[table])
        one = generate_aum_flows(DEFAULT_SEED, DAY, 1.0)
        # Enough copies of one generated day, flow ids made unique, for `rows` flows.
        copies = -(-rows // one.height)
        frame = pl.concat(
            [one.with_columns(flow_id=pl.col("flow_id") + i * 10_000_000_000) for i in range(copies)]
        ).head(rows)
        versioned, unversioned = (DAY, DAY + timedelta(days=1)), (DAY, DAY + timedelta(days=2))

        def empty() -> None:
            with postgres.get_engine().begin() as connection:
                for table in ("fact_aum_flows", "fact_aum_flows_history", "partition_versions"):
                    connection.exec_driver_sql(f"TRUNCATE dist_perf_dw.{table}")
            with postgres.get_engine().connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE dist_perf_dw.fact_aum_flows"
                )

        from pipeline.resources import postgres as resource
        from pipeline.resources import postgres_versions

        spent = [0.0]

        def timed(function):
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[0] += time.perf_counter() - started

            return wrapper

        resource.take_live = timed(postgres_versions.take_live)
        postgres_versions.DateHistory.record_new = timed(postgres_versions.DateHistory.record_new)
        versions_seconds: dict[str, list[float]] = {}

        def load(window, label: str = "") -> float:
            spent[0] = 0.0
            seconds = postgres.replace_partition("fact_aum_flows", "flow_date", *window, frame, source="bench").seconds
            if window == versioned:
                versions_seconds.setdefault(label, []).append(spent[0])
            return seconds

        seconds: dict[str, list[float]] = {}
        for _ in range(repeats):
            for label, window in (("versioned", versioned), ("unversioned", unversioned)):
                empty()
                seconds.setdefault(f"first_load_{label}", []).append(load(window, "first_load"))
                seconds.setdefault(f"reload_{label}", []).append(load(window, "reload"))
        # The steady state: PIVOT_VERSIONS_KEPT (3) versions kept, each reload also drops the oldest.
        empty()
        for _ in range(4):
            load(versioned)
        seconds["reload_versioned_dropping_one"] = [load(versioned, "reload_dropping_one") for _ in range(repeats)]
        history = postgres.read_frame("SELECT count(*) AS n FROM dist_perf_dw.fact_aum_flows_history")["n"][0]
        return {
            "rows": frame.height,
            "repeats": repeats,
            "median_seconds": {k: round(statistics.median(v), 3) for k, v in seconds.items()},
            "seconds": {k: [round(s, 3) for s in v] for k, v in seconds.items()},
            "versions_seconds": {k: [round(s, 4) for s in v] for k, v in versions_seconds.items() if k},
            "history_rows_at_the_end": int(history),
        }
    finally:
        dispose_engines()
        drop_database(admin, name)


if __name__ == "__main__":
    started = time.perf_counter()
    result = main(*(int(a) for a in sys.argv[1:3]))
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))
