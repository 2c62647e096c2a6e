"""The dist_perf_dw warehouse in PostgreSQL: 14 dimensions and 5 facts.

Assets stay thin: the rows come from the pure generators in
`pipeline.dist_perf_dw.generators`; the PostgresResource loads them (dimensions by
upsert, fact partitions by delete + COPY in one transaction); the metadata
says what landed. Seed and flow scale come from the run-wide GenerationSettings
resource, because revenue, retention and compensation are derived from the
same generated flows.
"""

import datetime as dt
import time

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.assets.policies import LOAD_RETRY_POLICY
from pipeline.dist_perf_dw import generators as data
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.resources.generation import GenerationSettings
from pipeline.resources.postgres import LoadResult, PostgresResource
from pipeline.settings import POSTGRES_POOL, TRADING_TIMEZONE

GROUP = "dist_perf_dw"
KINDS = {"polars", "postgres"}


def table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["dist_perf_dw", table])


class RevenueConfig(dg.Config):
    as_of_date: str = Field(
        default="",
        description="YYYY-MM-DD the estimate flag is judged on (a month is final from its close date); "
        "empty = today in New York.",
    )


def _dates(partition_keys: list[str]) -> list[dt.date]:
    return [dt.date.fromisoformat(key) for key in partition_keys]


def _next_day(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


def _load_metadata(results: list[LoadResult], started: float, **totals: float) -> dict:
    rows = sum(r.rows_loaded for r in results)
    load_seconds = sum(r.seconds for r in results)
    return {
        "dagster/row_count": rows,
        "partitions_loaded": len(results),
        "rows_replaced": sum(r.rows_deleted for r in results),
        "load_seconds": dg.MetadataValue.float(round(load_seconds, 3)),
        "load_rows_per_second": dg.MetadataValue.int(round(rows / load_seconds) if load_seconds else 0),
        "total_seconds": dg.MetadataValue.float(round(time.perf_counter() - started, 3)),
        **{name: dg.MetadataValue.float(round(float(value), 2)) for name, value in totals.items()},
    }


# --------------------------------------------------------------------------- dimensions

# table -> (business object, dimensions it references)
DIMENSIONS: dict[str, tuple[str, list[str]]] = {
    "dim_dates": ("Calendar days 2020-2035 with year/quarter/month/week parts and month-end, "
                  "quarter-end, NYSE holiday and business-day flags.", []),
    "dim_regions": ("Geographic sales regions of the US.", []),
    "dim_channels": ("Distribution channels: wirehouse, independent BD, RIA, bank trust, insurance.", []),
    "dim_firm_types": ("Kinds of advisory firm and the channel each sells through.", ["dim_channels"]),
    "dim_firms": ("Advisory firms selling our products, with firm type, channel and region.",
                  ["dim_firm_types", "dim_channels", "dim_regions"]),
    "dim_territories": ("Sales territories, each within a region.", ["dim_regions"]),
    "dim_advisors": ("Financial advisors with their firm, territory, career and firm tenure, and segment.",
                     ["dim_firms", "dim_territories"]),
    "dim_asset_classes": ("Product asset classes with a risk level.", []),
    "dim_vehicle_types": ("Product vehicles: mutual fund, ETF, SMA, CIT, interval fund.", []),
    "dim_products": ("Investment products with asset class, vehicle type, ticker and management fee rate.",
                     ["dim_asset_classes", "dim_vehicle_types"]),
    "dim_wholesalers": ("Wholesalers (sales reps) with territory, team, base salary and incentive rate.",
                        ["dim_territories"]),
    "dim_expense_categories": ("Distribution expense categories.", []),
    "dim_expense_types": ("Distribution expense types within their category.", ["dim_expense_categories"]),
    "dim_transaction_types": ("Flow transaction types with their direction (inflow / outflow).", []),
}


def _dimension_asset(table: str, business_object: str, references: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=table_key(table),
        description=business_object,
        group_name=GROUP,
        kinds=KINDS,
        pool=POSTGRES_POOL,
        deps=[table_key(reference) for reference in references],
    )
    def _dimension(postgres: PostgresResource, generation: GenerationSettings) -> dg.MaterializeResult:
        started = time.perf_counter()
        postgres.ensure_schema()
        frame = data.generate_dimensions(generation.seed)[table]
        result = postgres.reload_dimension(table, frame)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": frame.height,
                "rows_written": result.rows_loaded,
                "rows_deleted": result.rows_deleted,
                "load_seconds": dg.MetadataValue.float(round(result.seconds, 3)),
                "total_seconds": dg.MetadataValue.float(round(time.perf_counter() - started, 3)),
            }
        )

    return _dimension


dimension_assets = [_dimension_asset(table, *DIMENSIONS[table]) for table in data.DIMENSION_TABLES]


# --------------------------------------------------------------------------- facts


@dg.asset(
    key=table_key("fact_aum_flows"),
    group_name=GROUP,
    kinds=KINDS,
    pool=POSTGRES_POOL,
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
    deps=[table_key(t) for t in ("dim_dates", "dim_transaction_types", "dim_advisors", "dim_firms",
                                 "dim_channels", "dim_products", "dim_wholesalers")],
)
def fact_aum_flows(context: dg.AssetExecutionContext, postgres: PostgresResource, generation: GenerationSettings):
    """AUM flows: every purchase, redemption, exchange leg and account transfer of a day, attributed to
    the advisor, firm, channel, product and covering wholesaler."""
    started = time.perf_counter()
    postgres.ensure_schema()
    results, frames = [], []
    for day in _dates(context.partition_keys):
        frame = data.generate_aum_flows(generation.seed, day, generation.flow_scale)
        results.append(postgres.replace_partition("fact_aum_flows", "flow_date", day, _next_day(day), frame))
        frames.append(frame.select("amount", "net_amount"))
    flows = pl.concat(frames)
    return dg.MaterializeResult(
        metadata=_load_metadata(
            results, started,
            net_flows_usd=flows["net_amount"].sum(),
            inflows_usd=flows.filter(pl.col("net_amount") > 0)["amount"].sum(),
            outflows_usd=flows.filter(pl.col("net_amount") < 0)["amount"].sum(),
        )
    )


@dg.asset(
    key=table_key("fact_revenue"),
    group_name=GROUP,
    kinds=KINDS,
    pool=POSTGRES_POOL,
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
    deps=[table_key("fact_aum_flows"), table_key("dim_products")],
)
def fact_revenue(context: dg.AssetExecutionContext, config: RevenueConfig, postgres: PostgresResource,
                 generation: GenerationSettings):
    """Fee revenue: management fees accrued per advisor position and product each day, from AUM and that
    day's net flows at the product's fee rate; flagged as an estimate until the month's books close."""
    started = time.perf_counter()
    as_of = dt.date.fromisoformat(config.as_of_date) if config.as_of_date else _today_in_new_york()
    postgres.ensure_schema()
    results, frames = [], []
    for day in _dates(context.partition_keys):
        frame = data.generate_revenue(generation.seed, day, as_of, generation.flow_scale)
        results.append(postgres.replace_partition("fact_revenue", "revenue_date", day, _next_day(day), frame))
        frames.append(frame.select("revenue_amount", "aum_amount", "is_estimate"))
    revenue = pl.concat(frames)
    metadata = _load_metadata(
        results, started,
        revenue_usd=revenue["revenue_amount"].sum(),
        estimated_revenue_usd=revenue.filter("is_estimate")["revenue_amount"].sum(),
    )
    metadata["as_of_date"] = as_of.isoformat()
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=table_key("fact_retention_snapshots"),
    group_name=GROUP,
    kinds=KINDS,
    pool=POSTGRES_POOL,
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
    # A snapshot looks back at purchases up to a year old and the redemptions since.
    deps=[
        dg.AssetDep(
            table_key("fact_aum_flows"),
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-max(data.RETENTION_AGES_DAYS), allow_nonexistent_upstream_partitions=True
            ),
        )
    ],
)
def fact_retention_snapshots(context: dg.AssetExecutionContext, postgres: PostgresResource, generation: GenerationSettings):
    """Retention snapshots: for each purchase made 30, 90, 180 or 365 days before the snapshot date, the
    amount and share still held, consistent with the redemptions recorded since."""
    started = time.perf_counter()
    postgres.ensure_schema()
    results, frames = [], []
    for day in _dates(context.partition_keys):
        frame = data.generate_retention_snapshots(generation.seed, day, generation.flow_scale)
        results.append(
            postgres.replace_partition("fact_retention_snapshots", "snapshot_date", day, _next_day(day), frame)
        )
        frames.append(frame.select("original_amount", "retained_amount"))
    snapshots = pl.concat(frames)
    original = snapshots["original_amount"].sum()
    return dg.MaterializeResult(
        metadata=_load_metadata(
            results, started,
            original_usd=original,
            retained_usd=snapshots["retained_amount"].sum(),
            retention_pct=100 * snapshots["retained_amount"].sum() / original if original else 0.0,
        )
    )


@dg.asset(
    key=table_key("fact_distribution_expense"),
    group_name=GROUP,
    kinds=KINDS,
    pool=POSTGRES_POOL,
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
    deps=[table_key(t) for t in ("dim_dates", "dim_wholesalers", "dim_territories", "dim_expense_types",
                                 "dim_expense_categories", "dim_firms")],
)
def fact_distribution_expense(
    context: dg.AssetExecutionContext, postgres: PostgresResource, generation: GenerationSettings
):
    """Distribution expenses: each wholesaler's travel, marketing, event and sales-support spend by
    expense type and category, tied to the firm it was spent on where client facing."""
    started = time.perf_counter()
    postgres.ensure_schema()
    results, frames = [], []
    for day in _dates(context.partition_keys):
        frame = data.generate_distribution_expense(generation.seed, day)
        results.append(
            postgres.replace_partition("fact_distribution_expense", "expense_date", day, _next_day(day), frame)
        )
        frames.append(frame.select("amount"))
    return dg.MaterializeResult(
        metadata=_load_metadata(results, started, expense_usd=pl.concat(frames)["amount"].sum())
    )


@dg.asset(
    key=table_key("fact_wholesaler_comp"),
    group_name=GROUP,
    kinds=KINDS,
    pool=POSTGRES_POOL,
    partitions_def=month_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
    # Each month is paid on the net flows of all its days.
    deps=[
        dg.AssetDep(table_key("fact_aum_flows"), partition_mapping=dg.TimeWindowPartitionMapping()),
        table_key("dim_wholesalers"),
    ],
)
def fact_wholesaler_comp(context: dg.AssetExecutionContext, postgres: PostgresResource, generation: GenerationSettings):
    """Wholesaler compensation: each wholesaler's monthly base salary plus an incentive on the positive
    net flows of the advisors they cover."""
    started = time.perf_counter()
    postgres.ensure_schema()
    results, frames = [], []
    for month_start in _dates(context.partition_keys):
        frame = data.generate_wholesaler_comp(generation.seed, month_start, generation.flow_scale)
        month_end = data.month_days(month_start)[-1]
        results.append(
            postgres.replace_partition("fact_wholesaler_comp", "comp_month", month_start, _next_day(month_end), frame)
        )
        frames.append(frame.select("net_flow_amount", "incentive_amount", "total_comp_amount"))
    comp = pl.concat(frames)
    return dg.MaterializeResult(
        metadata=_load_metadata(
            results, started,
            net_flows_usd=comp["net_flow_amount"].sum(),
            incentive_usd=comp["incentive_amount"].sum(),
            total_comp_usd=comp["total_comp_amount"].sum(),
        )
    )


def _today_in_new_york() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(TRADING_TIMEZONE)).date()


fact_assets = [fact_aum_flows, fact_revenue, fact_retention_snapshots, fact_distribution_expense, fact_wholesaler_comp]

defs = dg.Definitions(assets=[*dimension_assets, *fact_assets])
