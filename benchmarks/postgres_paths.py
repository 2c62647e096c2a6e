"""dist_perf_dw: one fact_aum_flows partition loaded four ways into the same table.

Runs inside `benchmarks.worker postgres`, which points PIVOT_DATA_DIR at a
temporary directory first, so the project's local PostgreSQL starts there (and
is stopped afterwards), never in the project's .data.

- pipeline_replace_partition: PostgresResource.replace_partition, the assets'
  path (delete + COPY in one transaction, foreign keys proven set-wise).
- bare_copy: COPY of the same rows, pre-rendered, with no FK checks at all
  (session_replication_role = replica): what the server can ingest, the limit.
- bare_copy_fk_triggers: the same COPY with the FK triggers checking row by row.
- pandas_to_sql / orm_add_all: the common Python paths, on a sample.
"""

from __future__ import annotations

import datetime as dt
import io
import time

import polars as pl
import sqlalchemy as sa
from psycopg import errors, sql

FLOW_DAYS = (dt.date(2024, 1, 2), dt.date(2024, 1, 3))  # early: few redemption cohorts to derive
ROWS_PER_DAY_AT_SCALE_1 = 2_900
TABLE = "fact_aum_flows"


def _flows(seed: int, rows: int) -> pl.DataFrame:
    from pipeline.dist_perf_dw.facts.flows import generate_aum_flows

    scale = rows / (ROWS_PER_DAY_AT_SCALE_1 * len(FLOW_DAYS)) * 1.1
    frame = pl.concat([generate_aum_flows(seed, day, scale) for day in FLOW_DAYS])
    if frame.height < rows:
        raise RuntimeError(f"generated {frame.height} flows, wanted {rows}")
    return frame.head(rows)


def _load_dimensions(postgres, seed: int) -> None:
    from pipeline.dist_perf_dw.tables import DIMENSION_TABLES
    from pipeline.dist_perf_dw.universe import generate_dimensions

    frames = generate_dimensions(seed)
    for table in DIMENSION_TABLES:  # referenced dimensions first: the ORM's foreign-key order
        postgres.reload_dimension(table, frames[table])


def _truncate(engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE dist_perf_dw.{TABLE}"))


def _count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM dist_perf_dw.{TABLE}")).scalar_one()


def _bare_copy(engine, frame: pl.DataFrame, fk_triggers: bool) -> float:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, float_scientific=False)
    data = buffer.getbuffer()
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier("dist_perf_dw", TABLE), sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    )
    started = time.perf_counter()
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        if not fk_triggers:
            cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.copy(statement) as copy:
            copy.write(data)
    return time.perf_counter() - started


def _pandas_to_sql(engine, frame: pl.DataFrame) -> float:
    started = time.perf_counter()
    frame.to_pandas().to_sql(TABLE, engine, schema="dist_perf_dw", if_exists="append", index=False)
    return time.perf_counter() - started


def _orm_add_all(engine, frame: pl.DataFrame) -> float:
    from sqlalchemy.orm import Session

    from pipeline.dist_perf_dw.models import FactAUMFlow

    started = time.perf_counter()
    with Session(engine) as session:
        session.add_all([FactAUMFlow(**row) for row in frame.to_dicts()])
        session.commit()
    return time.perf_counter() - started


def run(args: dict) -> dict:
    from pipeline.resources.postgres import PostgresResource

    postgres = PostgresResource()
    postgres.apply_ddl()
    engine = postgres.get_engine()
    _load_dimensions(postgres, args["seed"])
    frame = _flows(args["seed"], args["rows"])
    sample = frame.head(args["naive_rows"])
    start, end = FLOW_DAYS[0], FLOW_DAYS[-1] + dt.timedelta(days=1)
    paths: dict[str, dict] = {}

    _truncate(engine)
    result = postgres.replace_partition(TABLE, "flow_date", start, end, frame)
    # Where the pipeline's time goes: rendering CSV (Polars) and the set-wise FK proof, each
    # timed again on its own (the table holds just this partition, so the proof reads the same rows).
    render_started = time.perf_counter()
    frame.write_csv(io.BytesIO(), include_header=False, float_scientific=False)
    render_seconds = time.perf_counter() - render_started
    fk_started = time.perf_counter()
    orphans = postgres.orphan_counts(TABLE)
    fk_seconds = time.perf_counter() - fk_started
    paths["pipeline_replace_partition"] = {
        "seconds": result.seconds,
        "rows": _count(engine),
        "orphans_after_load": sum(orphans.values()),
        "foreign_keys_checked": len(orphans),
        "profile_csv_render_seconds": round(render_seconds, 3),
        "profile_fk_proof_seconds": round(fk_seconds, 3),
    }
    # The same call again replaces the rows it just wrote: the idempotent rerun.
    result = postgres.replace_partition(TABLE, "flow_date", start, end, frame)
    paths["pipeline_replace_partition_rerun"] = {
        "seconds": result.seconds,
        "rows": result.rows_loaded,
        "rows_deleted": result.rows_deleted,
    }
    for name, fk_triggers in (("bare_copy", False), ("bare_copy_fk_triggers", True)):
        _truncate(engine)
        paths[name] = {"seconds": _bare_copy(engine, frame, fk_triggers), "rows": 0}
        paths[name]["rows"] = _count(engine)
    for name, load in (("pandas_to_sql", _pandas_to_sql), ("orm_add_all", _orm_add_all)):
        _truncate(engine)
        paths[name] = {"seconds": load(engine, sample), "rows": 0}
        paths[name]["rows"] = _count(engine)
    _truncate(engine)
    try:
        with engine.begin() as connection:
            server = connection.execute(sa.text("SHOW server_version")).scalar_one()
    except errors.Error:
        server = "?"
    return {"paths": paths, "server_version": server}
