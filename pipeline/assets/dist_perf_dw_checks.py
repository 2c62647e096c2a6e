"""Data-quality rules of the dist_perf_dw warehouse, as asset checks.

Each check runs in the PostgreSQL pool, reads only the partitions of the run,
and on failure lists the offending rows in its metadata. Blocking checks skip
the downstream steps of the same run.
"""

import dagster as dg
import polars as pl

from pipeline.assets import dist_perf_dw
from pipeline.assets.metadata import check_result, partition_days
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.resources.postgres import PostgresResource
from pipeline.settings import POSTGRES_POOL

# Check names are part of the UI and of alerting rules: keep them stable.
FOREIGN_KEYS_RESOLVE = "foreign_keys_resolve"
REVENUE_MATCHES_FLOWS = "revenue_net_flows_match_aum_flows"
COMP_MATCHES_FLOWS = "comp_net_flows_match_aum_flows"


def _foreign_key_check(asset: dg.AssetsDefinition, partitions_def, blocking: bool) -> dg.AssetChecksDefinition:
    table = asset.key.path[-1]

    @dg.asset_check(
        asset=asset, name=FOREIGN_KEYS_RESOLVE, blocking=blocking, pool=POSTGRES_POOL,
        partitions_def=partitions_def,
        description=f"Every foreign key of {table} resolves to a dimension row (the load proves it set-wise; "
        "this re-proves it on the stored table, whatever wrote it).",
    )
    def _check(postgres: PostgresResource) -> dg.AssetCheckResult:
        orphans = postgres.orphan_counts(table)
        failing = pl.DataFrame(
            [{"foreign_key": key, "orphan_rows": count} for key, count in orphans.items() if count],
            schema={"foreign_key": pl.String, "orphan_rows": pl.Int64},
        )
        return check_result(failing, {"foreign_keys_checked": dg.MetadataValue.int(len(orphans))},
                       "every foreign key resolves", "foreign keys with orphan rows")

    return _check


# Flows feed revenue, retention and compensation: orphans there must not flow on.
foreign_key_checks = [
    _foreign_key_check(dist_perf_dw.fact_aum_flows, trade_date_partitions, blocking=True),
    _foreign_key_check(dist_perf_dw.fact_revenue, trade_date_partitions, blocking=False),
    _foreign_key_check(dist_perf_dw.fact_retention_snapshots, trade_date_partitions, blocking=False),
    _foreign_key_check(dist_perf_dw.fact_distribution_expense, trade_date_partitions, blocking=False),
    _foreign_key_check(dist_perf_dw.fact_wholesaler_comp, month_partitions, blocking=False),
]


@dg.asset_check(
    asset=dist_perf_dw.fact_revenue, name=REVENUE_MATCHES_FLOWS, pool=POSTGRES_POOL,
    partitions_def=trade_date_partitions,
)
def revenue_matches_flows(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource
) -> dg.AssetCheckResult:
    """Per date, advisor and product, the net flows revenue was accrued on equal the net flows in
    fact_aum_flows (revenue is fee x (AUM + that day's net flows))."""
    days = partition_days(context)
    failing = postgres.read_frame(
        """
        WITH flows AS (
            SELECT flow_date AS day, advisor_id, product_id, sum(net_amount) AS flows_net
            FROM dist_perf_dw.fact_aum_flows WHERE flow_date = ANY(:days) GROUP BY 1, 2, 3
        ), revenue AS (
            SELECT revenue_date AS day, advisor_id, product_id, sum(net_flow_amount) AS revenue_net
            FROM dist_perf_dw.fact_revenue WHERE revenue_date = ANY(:days) GROUP BY 1, 2, 3
        )
        SELECT day, advisor_id, product_id, coalesce(flows_net, 0)::float8 AS flows_net,
               coalesce(revenue_net, 0)::float8 AS revenue_net
        FROM flows FULL OUTER JOIN revenue USING (day, advisor_id, product_id)
        WHERE abs(coalesce(flows_net, 0) - coalesce(revenue_net, 0)) > 0.01
        ORDER BY day, advisor_id, product_id
        """,
        {"days": days},
    )
    return check_result(failing, {"dates_checked": dg.MetadataValue.int(len(days))},
                   "revenue's net flows equal fact_aum_flows for every position",
                   "(date, advisor, product) positions whose revenue net flows differ from fact_aum_flows")


@dg.asset_check(
    asset=dist_perf_dw.fact_wholesaler_comp, name=COMP_MATCHES_FLOWS, pool=POSTGRES_POOL,
    partitions_def=month_partitions,
)
def comp_matches_flows(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource
) -> dg.AssetCheckResult:
    """Per month and wholesaler, the net flows compensation was paid on equal the month's net flows in
    fact_aum_flows, and total = base + incentive. For months whose flows are not all loaded (a business
    day without flows) the flows comparison is reported as not possible instead of failing."""
    months = partition_days(context)
    frame = postgres.read_frame(
        """
        WITH month_days AS (
            SELECT date_trunc('month', calendar_date)::date AS month, count(*) AS business_days
            FROM dist_perf_dw.dim_dates
            WHERE date_trunc('month', calendar_date)::date = ANY(:months) AND is_business_day
            GROUP BY 1
        ), loaded AS (
            SELECT date_trunc('month', flow_date)::date AS month, count(DISTINCT flow_date) AS days_loaded
            FROM dist_perf_dw.fact_aum_flows
            WHERE date_trunc('month', flow_date)::date = ANY(:months) GROUP BY 1
        ), flows AS (
            SELECT date_trunc('month', flow_date)::date AS month, wholesaler_id, sum(net_amount) AS flows_net
            FROM dist_perf_dw.fact_aum_flows
            WHERE date_trunc('month', flow_date)::date = ANY(:months) GROUP BY 1, 2
        )
        SELECT c.comp_month AS month, c.wholesaler_id,
               coalesce(f.flows_net, 0)::float8 AS flows_net, c.net_flow_amount::float8 AS comp_net,
               (c.total_comp_amount - c.base_salary_amount - c.incentive_amount)::float8 AS total_mismatch,
               coalesce(l.days_loaded, 0) >= coalesce(d.business_days, 0) AS comparable
        FROM dist_perf_dw.fact_wholesaler_comp AS c
        LEFT JOIN flows AS f ON f.month = c.comp_month AND f.wholesaler_id = c.wholesaler_id
        LEFT JOIN loaded AS l ON l.month = c.comp_month
        LEFT JOIN month_days AS d ON d.month = c.comp_month
        WHERE c.comp_month = ANY(:months)
        ORDER BY 1, 2
        """,
        {"months": months},
    )
    if frame.is_empty():
        return dg.AssetCheckResult(passed=True, description="no compensation rows for the month(s)",
                                   metadata={"months_checked": 0})
    comparable = frame.filter(pl.col("comparable"))
    # total = base + incentive holds for every row; the flows comparison needs the whole month loaded.
    failing = frame.filter(
        (pl.col("comparable") & ((pl.col("flows_net") - pl.col("comp_net")).abs() > 0.01))
        | (pl.col("total_mismatch").abs() > 0.01)
    ).drop("comparable")
    not_comparable = sorted({str(m) for m in frame.filter(~pl.col("comparable"))["month"].to_list()})
    metadata = {"months_checked": dg.MetadataValue.int(comparable["month"].n_unique())}
    if not_comparable:
        metadata["months_not_comparable"] = dg.MetadataValue.text(
            ", ".join(not_comparable) + ": fact_aum_flows is missing business days of the month"
        )
    return check_result(failing, metadata, "compensation net flows equal fact_aum_flows for every wholesaler",
                   "(month, wholesaler) rows whose compensation disagrees with fact_aum_flows")


dist_perf_dw_checks = [*foreign_key_checks, revenue_matches_flows, comp_matches_flows]

defs = dg.Definitions(asset_checks=dist_perf_dw_checks)
