"""The worker task `dist_landed`: a landed flows date (Parquet) loaded end to end by the landed
fact_aum_flows asset's path, against the bare PostgreSQL COPY of the same rows into the same table.

Runs against the project's local PostgreSQL in a temporary data directory (like `postgres`). The
landed feeds are written first (masters as CSV, one flows file of `rows` rows as Parquet, mtimes
set in the past so the settle rule holds), the masters merged through `load_landed_dimension`, and
then, back to back in this process:

- pipeline: `load_landed_flows([day])`, what `dist_perf_dw/fact_aum_flows` runs in landed mode:
  the Parquet read and checked through pipeline/landed_files, codes and keys resolved, the
  effective-dated assignment joins, the inferred advisors, the partition swap (FK proof + COPY).
  Peak RSS is the sampler's over this window, the files' writing freed before it.
- bare_copy: the very rows it loaded (read back from the table), pre-rendered as CSV, COPYed into
  the emptied table with no FK checks (session_replication_role = replica): the limit.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.measuring import RssSampler, temporary_directory

DAY = dt.date(2024, 1, 16)  # a Tuesday
FIRMS, ADVISORS, PRODUCTS = 2_000, 30_000, 400
UNKNOWN_ADVISORS = 20  # late-arriving advisors: each becomes an inferred member


def _write_csv(path: Path, frame: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)


def write_landing(root: Path, rows: int, seed: int) -> dict:
    """The masters (CSV) and one Parquet file of `rows` flows of DAY under root/dist_perf_dw."""
    from pipeline.dist_perf_dw.dimensions.products import cusip_check_digit
    from pipeline.dist_perf_dw.landed.members import territory_codes
    from pipeline.dist_perf_dw.vocabulary import ASSET_CLASSES, FIRM_TYPES, REGIONS, TRANSACTION_TYPES, VEHICLE_TYPES

    base = root / "dist_perf_dw"
    rng = np.random.default_rng(seed)
    territories = territory_codes()
    firm_crd = np.arange(100_000, 100_000 + FIRMS)
    _write_csv(base / "firms" / "firms.csv", pl.DataFrame({
        "crd_number": firm_crd,
        "firm_name": [f"Firm {i}" for i in range(FIRMS)],
        "firm_type_code": [FIRM_TYPES[i % len(FIRM_TYPES)][0] for i in range(FIRMS)],
        "region_code": [REGIONS[i % len(REGIONS)][0] for i in range(FIRMS)],
        "headquarters_state": "NY",
        "relationship_start_date": dt.date(2010, 1, 4),
        "is_active": True,
    }))
    advisor_crd = np.arange(5_000_000, 5_000_000 + ADVISORS)
    advisor_firm = firm_crd[rng.integers(0, FIRMS, ADVISORS)]
    advisors = pl.DataFrame({
        "crd_number": advisor_crd,
        "advisor_name": [f"Advisor {i}" for i in range(ADVISORS)],
        "firm_crd_number": advisor_firm,
        "territory_code": [territories[i % len(territories)] for i in range(ADVISORS)],
        "career_start_date": dt.date(2001, 5, 1),
        "firm_start_date": dt.date(2015, 1, 5),
        "segment": "Core",
        "is_active": True,
    })
    # Every tenth advisor moved to another firm and territory on 2024-01-10: effective-dated rows.
    moves = advisors.filter(pl.col("crd_number") % 10 == 0).with_columns(
        firm_crd_number=pl.lit(int(firm_crd[0]), dtype=pl.Int64),
        territory_code=pl.lit(territories[0]),
        firm_start_date=pl.lit(dt.date(2024, 1, 10)),
    )
    _write_csv(base / "advisors" / "advisors.csv", pl.concat([advisors, moves]))
    stems = [f"86{i:06d}" for i in range(PRODUCTS)]
    _write_csv(base / "products" / "products.csv", pl.DataFrame({
        "cusip": [s + cusip_check_digit(s) for s in stems],
        "ticker": [f"T{i:04d}" for i in range(PRODUCTS)],
        "product_name": [f"Product {i}" for i in range(PRODUCTS)],
        "asset_class_code": [ASSET_CLASSES[i % len(ASSET_CLASSES)][0] for i in range(PRODUCTS)],
        "vehicle_type_code": [VEHICLE_TYPES[i % len(VEHICLE_TYPES)][0] for i in range(PRODUCTS)],
        "management_fee_rate": "0.0045",
        "inception_date": dt.date(2001, 1, 2),
        "is_active": True,
    }))
    _write_csv(base / "wholesalers" / "wholesalers.csv", pl.DataFrame({
        "employee_code": [f"W{i:03d}" for i in range(len(territories))],
        "wholesaler_name": [f"Wholesaler {i}" for i in range(len(territories))],
        "territory_code": territories,
        "team_name": "Team",
        "hire_date": dt.date(2014, 2, 3),
        "annual_base_salary": 125000.0,
        "incentive_rate": "0.0011",
    }))
    # The flows: as a transfer agent's Parquet holds them (typed columns); no exchange legs.
    codes = [t[0] for t in TRANSACTION_TYPES if not t[0].startswith("EXCHANGE")]
    who = rng.integers(0, ADVISORS + UNKNOWN_ADVISORS, rows)
    crd = np.where(who < ADVISORS, 5_000_000 + who, 9_000_000 + who)
    firm = np.where(who < ADVISORS, advisor_firm[np.minimum(who, ADVISORS - 1)], firm_crd[who % FIRMS])
    cusips = np.array([s + cusip_check_digit(s) for s in stems])
    flows = pl.DataFrame({
        "transaction_id": pl.Series([f"TA{i:09d}" for i in range(rows)]),
        "trade_date": pl.Series([DAY] * rows, dtype=pl.Date),
        "transaction_code": np.array(codes)[rng.integers(0, len(codes), rows)],
        "advisor_crd_number": crd.astype(np.int64),
        "firm_crd_number": firm.astype(np.int64),
        "cusip": cusips[rng.integers(0, PRODUCTS, rows)],
        "amount": np.round(rng.lognormal(10, 1.2, rows), 2) + 0.01,
    })
    path = base / "flows" / f"flows_{DAY}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    flows.write_parquet(path)
    past = time.time() - 3600
    for file in base.rglob("*"):
        if file.is_file():
            os.utime(file, (past, past))
    return {"file_mb": round(path.stat().st_size / 1024**2, 1), "file_rows": flows.height}


def _bare_copy(engine, data: memoryview, columns: list[str]) -> float:
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier("dist_perf_dw", "fact_aum_flows"), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    started = time.perf_counter()
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.copy(statement) as copy:
            copy.write(data)
    return time.perf_counter() - started


def _profile(postgres) -> dict:
    """Where the pipeline's time goes: its steps before the swap timed again on their own (after the
    load, so the dimensions hold the inferred advisors: resolving creates none), and the CSV render."""
    from pipeline.assets.dist_perf_dw_landed import read_flow_days
    from pipeline.dist_perf_dw.landed.flows import RESOLUTION_TABLES, resolve_flows

    started = time.perf_counter()
    (flows,) = read_flow_days([DAY])
    read = time.perf_counter()
    dims = postgres.read_tables(RESOLUTION_TABLES)
    dims_read = time.perf_counter()
    fact, _, _ = resolve_flows(flows, dims)
    resolved = time.perf_counter()
    fact.write_csv(io.BytesIO(), include_header=False, float_scientific=False)
    rendered = time.perf_counter()
    return {
        "read_and_check_seconds": round(read - started, 3),
        "read_dimensions_seconds": round(dims_read - read, 3),
        "resolve_seconds": round(resolved - dims_read, 3),
        "csv_render_seconds": round(rendered - resolved, 3),
    }


def run(args: dict, tmp: Path) -> dict:
    import sqlalchemy as sa

    from pipeline.assets.dist_perf_dw_landed import load_landed_dimension, load_landed_flows
    from pipeline.dist_perf_dw.tables import DIMENSION_TABLES, polars_schema
    from pipeline.resources.postgres import PostgresResource

    files = write_landing(tmp / "landing", args["rows"], args["seed"])
    gc.collect()
    postgres = PostgresResource()
    postgres.apply_ddl()
    engine = postgres.get_engine()
    for table in DIMENSION_TABLES:  # referenced dimensions first
        load_landed_dimension(table, postgres)
    sampler = RssSampler()
    pipeline: dict = {}
    cpu = time.process_time()
    with sampler.window(pipeline):
        load = load_landed_flows([DAY.isoformat()], postgres)
    cpu = time.process_time() - cpu
    sampler.close()
    transaction = load.results[0].seconds
    del load
    gc.collect()
    profile = _profile(postgres)
    columns = list(polars_schema("fact_aum_flows"))
    with engine.connect() as connection:
        loaded = pl.read_database(
            f"SELECT {', '.join(columns)} FROM dist_perf_dw.fact_aum_flows ORDER BY flow_id", connection
        )
        inferred = connection.execute(sa.text("SELECT count(*) FROM dist_perf_dw.dim_advisors WHERE is_inferred"))
        inferred = inferred.scalar_one()
    buffer = io.BytesIO()
    loaded.write_csv(buffer, include_header=False, float_scientific=False)
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE dist_perf_dw.fact_aum_flows"))
    bare = _bare_copy(engine, buffer.getbuffer(), columns)
    with engine.connect() as connection:
        copied = connection.execute(sa.text("SELECT count(*) FROM dist_perf_dw.fact_aum_flows")).scalar_one()
    return {
        **files,
        "pipeline": {"seconds": pipeline["seconds"], "peak_rss_mb": pipeline["peak_rss_mb"],
                     "rss_before_mb": pipeline["rss_before_mb"], "rows": loaded.height,
                     # the swap's transaction (dimensions read, resolve, inferred members, FK proof, COPY)
                     "transaction_seconds": transaction,
                     # CPU of this process (all its threads) during the load; the server's is not in it
                     "client_cpu_seconds": cpu},
        "bare_copy": {"seconds": bare, "rows": copied},
        "inferred_advisors": inferred,
        "profile": profile,
        "net_amount": float(loaded["net_amount"].sum()),
    }


def task_dist_landed(args: dict) -> dict:
    with temporary_directory("dist-landed") as tmp:
        tmp.chmod(0o755)
        os.environ["PIVOT_DATA_DIR"] = str(tmp / "data")
        os.environ["PIVOT_LANDING_DIR"] = str(tmp / "landing")
        try:
            return run(args, tmp)
        finally:
            from pipeline.resources import local_postgres

            local_postgres.stop()
