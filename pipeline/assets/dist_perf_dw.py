"""The dist_perf_dw warehouse in PostgreSQL: 14 dimensions and 5 facts.

Assets stay thin: the rows come from the pure generators in
`pipeline.dist_perf_dw` (`universe` for the dimensions, `facts.*` for the facts);
the PostgresResource loads them (dimensions by upsert, fact partitions by delete +
COPY in one transaction); the metadata says what landed. Seed and flow scale come
from the run-wide GenerationSettings resource, because revenue, retention and
compensation are derived from the same generated flows.

The tables, their descriptions (the ORM classes' docstrings), their column
schemas (the mapped columns with their `doc=`) and the dimensions each asset
depends on (its foreign keys) are read off the ORM by
`pipeline.dist_perf_dw.tables`; each fact adds only what the ORM cannot say (its
date column, generator, totals, and the upstream facts it is derived from) in one
`FactSpec`.
"""

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.assets.dist_perf_dw_landed import LANDED_FACTS, DistSourceConfig, load_landed_dimension
from pipeline.assets.metadata import OWNERS, markdown_table, row_counts, table_definition_metadata
from pipeline.assets.policies import LOAD_RETRY_POLICY, refusals_fail_at_once
from pipeline.dist_perf_dw import tables
from pipeline.dist_perf_dw.facts.compensation import generate_wholesaler_comp
from pipeline.dist_perf_dw.facts.expenses import generate_distribution_expense
from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
from pipeline.dist_perf_dw.facts.retention import RETENTION_AGES_DAYS, generate_retention_snapshots
from pipeline.dist_perf_dw.facts.revenue import generate_revenue
from pipeline.dist_perf_dw.universe import generate_dimensions
from pipeline.dist_perf_dw.versions import listing, synthetic_source
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.resources.generation import GenerationSettings
from pipeline.resources.postgres import LoadResult, PostgresResource
from pipeline.settings import POSTGRES_POOL, TRADING_TIMEZONE

GROUP = "dist_perf_dw"
KINDS = {"polars", "postgres"}


def table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["dist_perf_dw", table])


def _table(table: str, layer: str) -> dict:
    """The @dg.asset arguments every dist_perf_dw table shares: its key, description, catalog metadata,
    owner and tags."""
    return {
        "key": table_key(table),
        "description": tables.description(table),
        "metadata": _catalog_metadata(table),
        "owners": OWNERS,
        "tags": {"warehouse": "dist_perf_dw", "layer": layer},
        "group_name": GROUP,
        "kinds": KINDS,
        "pool": POSTGRES_POOL,
    }


def _catalog_metadata(table: str) -> dict:
    """dagster/table_name and dagster/column_schema, from the ORM's mapped columns."""
    columns = tables.catalog_columns(table)
    return table_definition_metadata(
        f"dist_perf_dw.{table}",
        [(column.name, column.sql_type, column.description, column.nullable) for column in columns],
    )


class RevenueConfig(DistSourceConfig):
    as_of_date: str = Field(
        default="",
        description="YYYY-MM-DD the estimate flag is judged on (a month is final from its close date); "
        "empty = today in New York.",
    )

    def as_of(self) -> dt.date:
        if self.as_of_date:
            return dt.date.fromisoformat(self.as_of_date)
        return dt.datetime.now(ZoneInfo(TRADING_TIMEZONE)).date()


def _seconds(value: float) -> dg.MetadataValue:
    return dg.MetadataValue.float(round(value, 3))


# --------------------------------------------------------------------------- dimensions


def _dimension_asset(table: str) -> dg.AssetsDefinition:
    @dg.asset(
        **_table(table, "dimension"),
        deps=[table_key(reference) for reference in tables.references(table)],
    )
    @refusals_fail_at_once
    def _dimension(
        config: DistSourceConfig, postgres: PostgresResource, generation: GenerationSettings
    ) -> dg.MaterializeResult:
        started = time.perf_counter()
        postgres.ensure_schema()
        if config.source == "landed":
            metadata = load_landed_dimension(table, postgres)
            return dg.MaterializeResult(metadata={**metadata, "total_seconds": _seconds(time.perf_counter() - started)})
        frame = generate_dimensions(generation.seed)[table]
        result = postgres.reload_dimension(table, frame)
        return dg.MaterializeResult(
            metadata={
                # reload_dimension makes the table hold exactly the frame.
                **row_counts(frame.height),
                "rows_written": result.rows_loaded,
                "rows_deleted": result.rows_deleted,
                "load_seconds": _seconds(result.seconds),
                "total_seconds": _seconds(time.perf_counter() - started),
            }
        )

    return _dimension


dimension_assets = [_dimension_asset(table) for table in tables.DIMENSION_TABLES]


# --------------------------------------------------------------------------- facts

# (generation settings, the partition's first day, the as-of date or None) -> the partition's rows
Generator = Callable[[GenerationSettings, dt.date, dt.date | None], pl.DataFrame]


@dataclass(frozen=True)
class FactSpec:
    """What the ORM cannot say about a fact table: how to generate, partition and sum it."""

    table: str
    date_column: str
    generate: Generator
    # metadata name -> aggregate over the loaded rows (USD totals the UI can plot)
    totals: Mapping[str, pl.Expr]
    partitions_def: dg.TimeWindowPartitionsDefinition = trade_date_partitions
    # Facts it is derived from; the dimensions its foreign keys reference are added from the ORM.
    upstream: tuple[dg.AssetDep, ...] = ()
    # Reads RevenueConfig: the date its estimate flag is judged on.
    judged_as_of: bool = False


def _flows_from(start_offset: int = 0) -> dg.AssetDep:
    """fact_aum_flows over the partition's time window, widened back by `start_offset` days."""
    return dg.AssetDep(
        table_key("fact_aum_flows"),
        partition_mapping=dg.TimeWindowPartitionMapping(
            start_offset=start_offset, allow_nonexistent_upstream_partitions=start_offset < 0
        ),
    )


_retained, _original = pl.col("retained_amount").sum(), pl.col("original_amount").sum()

FACTS = [
    FactSpec(
        table="fact_aum_flows",
        date_column="flow_date",
        generate=lambda settings, day, _: generate_aum_flows(settings.seed, day, settings.flow_scale),
        totals={
            "net_flows_usd": pl.col("net_amount").sum(),
            "inflows_usd": pl.col("amount").filter(pl.col("net_amount") > 0).sum(),
            "outflows_usd": pl.col("amount").filter(pl.col("net_amount") < 0).sum(),
        },
    ),
    FactSpec(
        table="fact_revenue",
        date_column="revenue_date",
        generate=lambda settings, day, as_of: generate_revenue(settings.seed, day, as_of, settings.flow_scale),
        totals={
            "revenue_usd": pl.col("revenue_amount").sum(),
            "estimated_revenue_usd": pl.col("revenue_amount").filter("is_estimate").sum(),
        },
        # Revenue accrues on the day's net flows.
        upstream=(_flows_from(),),
        judged_as_of=True,
    ),
    FactSpec(
        table="fact_retention_snapshots",
        date_column="snapshot_date",
        generate=lambda settings, day, _: generate_retention_snapshots(settings.seed, day, settings.flow_scale),
        totals={
            "original_usd": _original,
            "retained_usd": _retained,
            "retention_pct": pl.when(_original != 0).then(100 * _retained / _original).otherwise(0.0),
        },
        # A snapshot looks back at purchases up to a year old and the redemptions since.
        upstream=(_flows_from(start_offset=-max(RETENTION_AGES_DAYS)),),
    ),
    FactSpec(
        table="fact_distribution_expense",
        date_column="expense_date",
        generate=lambda settings, day, _: generate_distribution_expense(settings.seed, day),
        totals={"expense_usd": pl.col("amount").sum()},
    ),
    FactSpec(
        table="fact_wholesaler_comp",
        date_column="comp_month",
        generate=lambda settings, month, _: generate_wholesaler_comp(settings.seed, month, settings.flow_scale),
        totals={
            "net_flows_usd": pl.col("net_flow_amount").sum(),
            "incentive_usd": pl.col("incentive_amount").sum(),
            "total_comp_usd": pl.col("total_comp_amount").sum(),
        },
        partitions_def=month_partitions,
        # Each month is paid on the net flows of all its days.
        upstream=(_flows_from(),),
    ),
]


def _load_metadata(results: list[LoadResult], table_rows: int, started: float, totals: pl.DataFrame) -> dict:
    rows = sum(r.rows_loaded for r in results)
    load_seconds = sum(r.seconds for r in results)
    return {
        # A range run reports once for all its partitions: the partition's count only when it is one.
        **row_counts(table_rows, rows if len(results) == 1 else None),
        "rows_loaded": dg.MetadataValue.int(rows),
        "partitions_loaded": len(results),
        "rows_replaced": sum(r.rows_deleted for r in results),
        "load_seconds": _seconds(load_seconds),
        "load_rows_per_second": dg.MetadataValue.int(round(rows / load_seconds) if load_seconds else 0),
        "total_seconds": _seconds(time.perf_counter() - started),
        **{name: dg.MetadataValue.float(round(float(value), 2)) for name, value in totals.row(0, named=True).items()},
    }


def _load_fact(
    spec: FactSpec,
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    generation: GenerationSettings,
    as_of: dt.date | None,
    source: str = "synthetic",
) -> dg.MaterializeResult:
    """Generate (or read from the landed feeds) and replace each partition of the run (a range runs
    as one run), then report totals."""
    started = time.perf_counter()
    postgres.ensure_schema()
    measures = sorted({column for total in spec.totals.values() for column in total.meta.root_names()})
    results, frames, landed_metadata = [], [], {}
    # What the date's version records as its source (pipeline/dist_perf_dw/versions.py).
    source_text = synthetic_source(generation.seed, generation.flow_scale)
    if source == "landed":
        landed = LANDED_FACTS[spec.table](context.partition_keys, postgres, as_of, run_id=context.run.run_id)
        results, frames, landed_metadata = landed.results, [f.select(measures) for f in landed.frames], landed.metadata
    for key in context.partition_keys if source != "landed" else ():
        window = spec.partitions_def.time_window_for_partition_key(key)
        first_day, end = window.start.date(), window.end.date()
        frame = spec.generate(generation, first_day, as_of)
        results.append(
            postgres.replace_partition(
                spec.table, spec.date_column, first_day, end, frame, source=source_text, run_id=context.run.run_id
            )
        )
        frames.append(frame.select(measures))
    totals = pl.concat(frames).select(**spec.totals)
    metadata = {**_load_metadata(results, postgres.table_rows(spec.table), started, totals), **landed_metadata}
    if as_of is not None:
        metadata["as_of_date"] = as_of.isoformat()
    if len(context.partition_keys) == 1:
        start = spec.partitions_def.time_window_for_partition_key(context.partition_keys[0]).start.date()
        metadata |= versions_metadata(postgres, spec.table, start)
    return dg.MaterializeResult(metadata=metadata)


def versions_metadata(postgres: PostgresResource, table: str, partition_start: dt.date) -> dict:
    """The versions the loaded date holds (pipeline/dist_perf_dw/versions.py): the live one and those kept."""
    versions = postgres.partition_versions(table, partition_start)
    live = next((v.version for v in versions if v.state == "live"), 0)
    return {
        "dist_perf_dw/version": dg.MetadataValue.int(live),
        "dist_perf_dw/versions": markdown_table(listing(versions).fill_null(""), limit=50),
    }


def _fact_asset(spec: FactSpec) -> dg.AssetsDefinition:
    decorate = dg.asset(
        **_table(spec.table, "fact"),
        partitions_def=spec.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=LOAD_RETRY_POLICY,
        deps=[*(table_key(reference) for reference in tables.references(spec.table)), *spec.upstream],
    )
    # Dagster reads the run config's schema off the function signature: hence two signatures.
    if spec.judged_as_of:

        @decorate
        @refusals_fail_at_once
        def _judged(
            context: dg.AssetExecutionContext,
            config: RevenueConfig,
            postgres: PostgresResource,
            generation: GenerationSettings,
        ) -> dg.MaterializeResult:
            return _load_fact(spec, context, postgres, generation, config.as_of(), config.source)

        return _judged

    @decorate
    @refusals_fail_at_once
    def _fact(
        context: dg.AssetExecutionContext,
        config: DistSourceConfig,
        postgres: PostgresResource,
        generation: GenerationSettings,
    ) -> dg.MaterializeResult:
        return _load_fact(spec, context, postgres, generation, None, config.source)

    return _fact


FACT_SPECS = {spec.table: spec for spec in FACTS}
fact_assets = [_fact_asset(spec) for spec in FACTS]
fact_aum_flows, fact_revenue, fact_retention_snapshots, fact_distribution_expense, fact_wholesaler_comp = fact_assets

defs = dg.Definitions(assets=[*dimension_assets, *fact_assets])
