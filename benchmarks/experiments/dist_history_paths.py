"""How a dist_perf_dw reload keeps the rows it replaces: the statements alone, timed on one date of
`rows` synthetic fact_aum_flows (default 300,000) in a throwaway database of the project's PostgreSQL,
each variant run in a transaction that is rolled back (every variant starts from the same state), the
variants alternating per repeat. The history tables hold two other versions of the date beforehand.

- delete_only: the DELETE a reload runs without versions;
- cte_btree: `WITH gone AS (DELETE … RETURNING *) INSERT INTO <history> … FROM gone`, history indexed
  by a B-tree on (flow_date, version) (the first form, commit 8280376); its temp blocks written are
  read off EXPLAIN (ANALYZE, BUFFERS);
- insert_delete_{btree,brin,noindex}: `INSERT INTO <history> SELECT … FROM <fact> WHERE <date>`, then
  the DELETE, into a history with a B-tree, a BRIN (what ddl/postgres/030_fact_history.sql creates) or
  no index;
- trim_*: deleting one kept version from the history; restore_read_*: reading one back.

    python -m benchmarks.experiments.dist_history_paths [rows] [repeats]
"""

import json
import statistics
import sys
import time
import uuid
from datetime import date, timedelta

DAY = date(2024, 1, 16)


def main(rows: int = 300_000, repeats: int = 3) -> dict:
    import polars as pl

    from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
    from pipeline.dist_perf_dw.tables import DIMENSION_TABLES, columns
    from pipeline.dist_perf_dw.universe import generate_dimensions
    from pipeline.resources.local_postgres import create_database_if_missing, drop_database, start
    from pipeline.resources.postgres import PostgresResource, dispose_engines
    from pipeline.settings import DEFAULT_SEED

    admin = start()
    name = f"dist_perf_dw_bench_history_{uuid.uuid4().hex[:8]}"
    create_database_if_missing(admin, name)
    postgres = PostgresResource(url=admin.set(database=name).render_as_string(hide_password=False))
    try:
        postgres.apply_ddl()
        dims = generate_dimensions(DEFAULT_SEED)
        for table in DIMENSION_TABLES:
            postgres.reload_dimension(table, dims[table])
        one = generate_aum_flows(DEFAULT_SEED, DAY, 1.0)
        copies = -(-rows // one.height)
        frame = pl.concat(
            [one.with_columns(flow_id=pl.col("flow_id") + i * 10_000_000_000) for i in range(copies)]
        ).head(rows)
        postgres.replace_partition("fact_aum_flows", "flow_date", DAY, DAY + timedelta(days=1), frame)
        cols = ", ".join(columns("fact_aum_flows"))
        schema, fact = "dist_perf_dw", "dist_perf_dw.fact_aum_flows"
        histories = {"btree": f"{schema}.h_btree", "brin": f"{schema}.h_brin", "noindex": f"{schema}.h_none"}
        engine = postgres.get_engine()
        with engine.begin() as connection:
            for kind, table in histories.items():
                connection.exec_driver_sql(f"CREATE TABLE {table} (LIKE {fact}, version INTEGER NOT NULL)")
                if kind != "noindex":
                    using = "brin" if kind == "brin" else "btree"
                    connection.exec_driver_sql(f"CREATE INDEX ON {table} USING {using} (flow_date, version)")
                for version in (1, 2):
                    connection.exec_driver_sql(
                        f"INSERT INTO {table} ({cols}, version) SELECT {cols}, {version} FROM {fact}"
                    )
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        where = f"flow_date >= '{DAY}' AND flow_date < '{DAY + timedelta(days=1)}'"
        keep = "INSERT INTO {h} (" + cols + ", version) SELECT " + cols + ", 3 FROM " + fact + " WHERE " + where
        cte = (
            f"WITH gone AS (DELETE FROM {fact} WHERE {where} RETURNING *), "
            f"k AS (INSERT INTO {{h}} ({cols}, version) SELECT {cols}, 3 FROM gone) "
            "SELECT count(*), sum(net_amount) FROM gone"
        )
        variants = {
            "delete_only": [f"DELETE FROM {fact} WHERE {where}"],
            "cte_btree": [cte.format(h=histories["btree"])],
            **{
                f"insert_delete_{kind}": [keep.format(h=table), f"DELETE FROM {fact} WHERE {where}"]
                for kind, table in histories.items()
            },
            "trim_btree": [f"DELETE FROM {histories['btree']} WHERE {where} AND version = 1"],
            "trim_brin": [f"DELETE FROM {histories['brin']} WHERE {where} AND version = 1"],
            "restore_read_btree": [f"SELECT count(*) FROM {histories['btree']} WHERE {where} AND version = 2"],
            "restore_read_brin": [f"SELECT count(*) FROM {histories['brin']} WHERE {where} AND version = 2"],
        }
        seconds: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(repeats):
            for label, statements in variants.items():
                with engine.connect() as connection:
                    driver = connection.connection.driver_connection
                    cursor = driver.cursor()
                    started = time.perf_counter()
                    for statement in statements:
                        cursor.execute(statement)
                    seconds[label].append(time.perf_counter() - started)
                    driver.rollback()
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            cursor = driver.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + cte.format(h=histories["btree"]))
            plan = cursor.fetchone()[0][0]["Plan"]
            driver.rollback()
        return {
            "rows": frame.height,
            "repeats": repeats,
            "median_seconds": {k: round(statistics.median(v), 3) for k, v in seconds.items()},
            "seconds": {k: [round(s, 3) for s in v] for k, v in seconds.items()},
            "cte_btree_temp_blocks_written": plan.get("Temp Written Blocks"),
        }
    finally:
        dispose_engines()
        drop_database(admin, name)


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:3])), indent=2))
