"""The pivot warehouse in ClickHouse: reference data, the trade fact with look-through, the rollup.

Assets stay thin: they call the pure generators in `pipeline.reference_data`,
`pipeline.trade_generation` and `pipeline.explosion`, hand the frames to the
ClickHouse resource, and report what landed as materialization metadata.
"""

import time
from datetime import date

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.explosion import DEFAULT_CHUNK_ROWS, streamed_day
from pipeline.landing import landing_dir, merge_landed_files
from pipeline.assets.policies import LOAD_RETRY_POLICY
from pipeline.failpoints import failpoint
from pipeline.partitions import trade_date_partitions
from pipeline.prefetch import Prefetched
from pipeline.queries import SPEC_QUERIES, for_date
from pipeline.reference_data import build_constituents, build_instruments
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import DEFAULT_SEED
from pipeline.trade_generation import MAX_TRADES_PER_DAY, generate_trade_chunks

GROUP = "pivot"
KINDS = {"polars", "clickhouse"}
POOL = "clickhouse"
DEMO_TRADES_PER_DAY = 20_000


class ReferenceDataConfig(dg.Config):
    seed: int = Field(default=DEFAULT_SEED, description="Global seed of the synthetic universe.")


class TradesConfig(dg.Config):
    trades_per_day: int = Field(
        default=DEMO_TRADES_PER_DAY, ge=0, le=MAX_TRADES_PER_DAY,
        description="Base (traded) rows generated per trade date, before look-through.",
    )
    explode_constituents: bool = Field(
        default=True, description="Add constituent-exposure rows for every ETF/ETC trade (look-through)."
    )
    seed: int = Field(default=DEFAULT_SEED, description="Global seed; a partition is a pure function of it.")
    chunk_rows: int = Field(
        default=DEFAULT_CHUNK_ROWS, ge=10_000, le=20_000_000,
        description="Exposure rows per chunk streamed into ClickHouse: bounds memory per partition.",
    )


@dg.asset(
    key=["pivot", "instruments"],
    group_name=GROUP,
    kinds=KINDS,
    pool=POOL,
)
def instruments(config: ReferenceDataConfig, clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """Instrument reference data: every tradeable stock, ETF, ETC, commodity, index, future and option,
    with its asset class, type, currency, exchange and sector."""
    frame = build_instruments(config.seed)
    clickhouse.replace_table("instruments", frame)
    return dg.MaterializeResult(metadata={
        "rows": frame.height,
        "by_instrument_type": dg.MetadataValue.md(
            _markdown(frame.group_by("instrument_type").len().sort("instrument_type"))
        ),
        "location": clickhouse.location,
    })


@dg.asset(
    key=["pivot", "constituents"],
    group_name=GROUP,
    kinds=KINDS,
    pool=POOL,
    deps=[instruments],
)
def constituents(
    context: dg.AssetExecutionContext, config: ReferenceDataConfig, clickhouse: ClickHouseResource
) -> dg.MaterializeResult:
    """ETF/ETC composition: the effective-dated map from each composite instrument to its constituents,
    with weights and shares per unit, quarterly rebalanced, plus every valid composition file landed
    in $PIVOT_LANDING_DIR (applied as a new effective period; invalid files change nothing)."""
    frame, landed = merge_landed_files(
        build_constituents(config.seed), build_instruments(config.seed), landing_dir()
    )
    for result in landed:
        (context.log.info if result.is_valid else context.log.warning)(result.summary())
    clickhouse.replace_table("constituents", frame)
    periods = frame.select("parent_symbol", "effective_date").unique()
    return dg.MaterializeResult(metadata={
        "rows": frame.height,
        "parents": frame["parent_symbol"].n_unique(),
        "effective_periods": periods.height,
        "latest_effective_date": str(frame["effective_date"].max()),
        "landed_files_applied": sum(result.is_valid for result in landed),
        "landed_files_rejected": sum(not result.is_valid for result in landed),
    })


def _markdown(frame: pl.DataFrame, limit: int = 10) -> str:
    head = frame.head(limit)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def _read_reference_data(clickhouse: ClickHouseResource) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The loaded instruments and constituent maps, read once per run (a range reuses them)."""
    instruments_frame = clickhouse.query_polars("SELECT * FROM pivot.instruments")
    if instruments_frame.is_empty():
        raise dg.Failure(
            "pivot.instruments is empty: materialize pivot/instruments (and pivot/constituents) first.",
            allow_retries=False,
        )
    return instruments_frame, clickhouse.query_polars("SELECT * FROM pivot.constituents")


def _load_trade_date(
    context: dg.AssetExecutionContext,
    config: TradesConfig,
    clickhouse: ClickHouseResource,
    trade_date: date,
    reference: tuple[pl.DataFrame, pl.DataFrame],
) -> dict:
    instruments_frame, constituents_frame = reference

    generated = {"seconds": 0.0, "chunks": 0}

    def trade_chunks():
        # Generation is streamed too: one chunk of base trades at a time, never the whole day.
        source = generate_trade_chunks(trade_date, config.trades_per_day, instruments_frame, config.seed)
        while True:
            started = time.perf_counter()
            chunk = next(source, None)
            generated["seconds"] += time.perf_counter() - started
            if generated["chunks"] == 0:
                failpoint("trades_1d.generated")
            if chunk is None:
                return
            generated["chunks"] += 1
            yield chunk
            del chunk

    started = time.perf_counter()
    # The background thread generates and explodes (Polars releases the GIL for most of
    # its time), so on two cores the next chunk is built while ClickHouse ingests the
    # previous one.
    chunks = Prefetched(streamed_day(
        trade_chunks(), constituents_frame, instruments_frame, trade_date,
        explode=config.explode_constituents, chunk_rows=config.chunk_rows,
    ))
    try:
        rows = clickhouse.replace_partition("trades_1d", trade_date, chunks)
    finally:
        chunks.close()
    load_seconds = time.perf_counter() - started

    by_exposure = clickhouse.query_polars(
        "SELECT exposure_type, count() AS rows, sum(notional) AS notional, sum(pnl) AS pnl "
        "FROM pivot.trades_1d WHERE trade_date = {day:Date} GROUP BY exposure_type ORDER BY exposure_type",
        parameters={"day": trade_date},
    )
    top_level = by_exposure.filter(pl.col("exposure_type").is_in(["Direct", "ETF", "ETC"]))
    constituent_rows = int(by_exposure.filter(pl.col("exposure_type") == "Constituent")["rows"].sum())
    parent_rows = int(by_exposure.filter(pl.col("exposure_type") != "Constituent")["rows"].sum())
    context.log.info(f"{trade_date}: {rows:,} rows loaded ({parent_rows:,} traded, {constituent_rows:,} look-through)")
    return {
        "rows": rows,
        "parent_rows": parent_rows,
        "constituent_rows": constituent_rows,
        "notional": float(top_level["notional"].sum()),
        "pnl": float(top_level["pnl"].sum()),
        "seconds_generate": generated["seconds"],
        "seconds_explode": max(0.0, chunks.producer_seconds - generated["seconds"]),
        "seconds_load": load_seconds,
        "by_exposure_type": by_exposure,
    }


@dg.asset(
    key=["pivot", "trades_1d"],
    group_name=GROUP,
    kinds=KINDS,
    pool=POOL,
    deps=[instruments, constituents],
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
)
def trades_1d(
    context: dg.AssetExecutionContext, config: TradesConfig, clickhouse: ClickHouseResource
) -> dg.MaterializeResult:
    """Daily trade fact: every trade of the trade date, plus one look-through row per constituent of
    each ETF/ETC trade (the map in force that day). Each date is swapped in whole."""
    days = [date.fromisoformat(key) for key in context.partition_keys]
    reference = _read_reference_data(clickhouse)
    results = []
    for day in days:
        results.append(_load_trade_date(context, config, clickhouse, day, reference))
        failpoint(f"trades_1d.after.{day}")
    totals = {key: sum(r[key] for r in results) for key in
              ("rows", "parent_rows", "constituent_rows", "notional", "pnl",
               "seconds_generate", "seconds_explode", "seconds_load")}
    metadata = {
        "rows": dg.MetadataValue.int(totals["rows"]),
        "parent_rows": dg.MetadataValue.int(totals["parent_rows"]),
        "constituent_rows": dg.MetadataValue.int(totals["constituent_rows"]),
        "notional": dg.MetadataValue.float(totals["notional"]),
        "pnl": dg.MetadataValue.float(totals["pnl"]),
        "seconds_generate": dg.MetadataValue.float(round(totals["seconds_generate"], 3)),
        "seconds_explode": dg.MetadataValue.float(round(totals["seconds_explode"], 3)),
        "seconds_load": dg.MetadataValue.float(round(totals["seconds_load"], 3)),
        "trade_dates": len(days),
    }
    if len(days) == 1:
        metadata["by_exposure_type"] = dg.MetadataValue.md(_markdown(results[0]["by_exposure_type"]))
        for name, sql in SPEC_QUERIES.items():
            preview = clickhouse.query_polars(for_date(sql, days[0]) + "\nLIMIT 5")
            metadata[f"preview_{name}"] = dg.MetadataValue.md(_markdown(preview, 5))
    return dg.MaterializeResult(metadata=metadata)


ROLLUP_SELECT = """
SELECT
    trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol, exposure_type,
    sumState(quantity), sumState(notional), sumState(pnl), count()
FROM pivot.trades_1d
WHERE trade_date = {day:Date}
GROUP BY trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol, exposure_type
"""


@dg.asset(
    key=["pivot", "trades_1d_rollup"],
    group_name=GROUP,
    kinds=KINDS,
    pool=POOL,
    deps=[trades_1d],
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
)
def trades_1d_rollup(context: dg.AssetExecutionContext, clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """Daily trade rollup for dashboards: quantity, notional and P&L states and trade counts per
    date, portfolio manager, fund, book, asset class, symbol and exposure type."""
    started = time.perf_counter()
    rows = 0
    for key in context.partition_keys:
        rows += clickhouse.rebuild_partition(
            "trades_1d_rollup", date.fromisoformat(key), ROLLUP_SELECT, {"day": date.fromisoformat(key)}
        )
    return dg.MaterializeResult(metadata={
        "rows": dg.MetadataValue.int(rows),
        "seconds_rebuild": dg.MetadataValue.float(round(time.perf_counter() - started, 3)),
        "trade_dates": len(context.partition_keys),
    })


pivot_reference_job = dg.define_asset_job(
    "pivot_reference_data", selection=[instruments, constituents],
    description="Reload instruments and constituent maps.",
)
# The rollup rides in the same job as its fact, so a scheduled or backfilled date always
# gets its rollup rebuilt right after the fact is swapped in.
pivot_daily_job = dg.define_asset_job(
    "pivot_daily", selection=[trades_1d, trades_1d_rollup], partitions_def=trade_date_partitions,
    description="Generate, explode and load one trade date, then rebuild its rollup.",
)
pivot_daily_schedule = dg.build_schedule_from_partitioned_job(pivot_daily_job, hour_of_day=6, minute_of_hour=0)

defs = dg.Definitions(
    assets=[instruments, constituents, trades_1d, trades_1d_rollup],
    jobs=[pivot_reference_job, pivot_daily_job],
    schedules=[pivot_daily_schedule],
)
