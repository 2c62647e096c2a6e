"""Data-quality rules of the dist_perf_dw warehouse, as asset checks.

Each check runs in the PostgreSQL pool, reads only the partitions of the run,
and on failure lists the offending rows in its metadata. Blocking checks skip
the downstream steps of the same run.
"""

import datetime as dt

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
FLOWS_FOLLOW_ASSIGNMENTS = "flows_follow_effective_dated_assignments"


# Flows feed revenue, retention and compensation: orphans there must not flow on.
BLOCKING_FOREIGN_KEY_CHECKS = {"fact_aum_flows"}


def _run_window(spec: dist_perf_dw.FactSpec, context: dg.AssetCheckExecutionContext) -> tuple[dt.date, dt.date]:
    """[first day, end) of the run's partitions (one, or the contiguous range of a backfill)."""
    windows = [spec.partitions_def.time_window_for_partition_key(key) for key in context.partition_keys]
    return min(w.start for w in windows).date(), max(w.end for w in windows).date()


def _foreign_key_check(asset: dg.AssetsDefinition, spec: dist_perf_dw.FactSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset, name=FOREIGN_KEYS_RESOLVE, blocking=spec.table in BLOCKING_FOREIGN_KEY_CHECKS,
        pool=POSTGRES_POOL, partitions_def=spec.partitions_def,
        description=f"Every foreign key of {spec.table} in the run's partitions resolves to a dimension row (the "
        "load proves it set-wise; this re-proves it on the stored rows, whatever wrote them).",
    )
    def _check(context: dg.AssetCheckExecutionContext, postgres: PostgresResource) -> dg.AssetCheckResult:
        first_day, end = _run_window(spec, context)
        orphans = postgres.partition_orphan_counts(spec.table, spec.date_column, first_day, end)
        failing = pl.DataFrame(
            [{"foreign_key": key, "orphan_rows": count} for key, count in orphans.items() if count],
            schema={"foreign_key": pl.String, "orphan_rows": pl.Int64},
        )
        checked = {
            "foreign_keys_checked": dg.MetadataValue.int(len(orphans)),
            "rows_checked": dg.MetadataValue.text(f"{spec.date_column} from {first_day} to before {end}"),
        }
        return check_result(failing, checked, "every foreign key resolves", "foreign keys with orphan rows")

    return _check


foreign_key_checks = [
    _foreign_key_check(asset, spec) for asset, spec in zip(dist_perf_dw.fact_assets, dist_perf_dw.FACTS)
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


_COMP_ROWS_SCHEMA = {
    "month": pl.Date, "wholesaler_id": pl.Int64, "flows_net": pl.Float64, "comp_net": pl.Float64,
    "total_mismatch": pl.Float64, "comparable": pl.Boolean,
}


def _comp_problems(frame: pl.DataFrame, months: list[dt.date]) -> pl.DataFrame:
    """The (month, wholesaler) rows that fail, each with its problem. The asset writes one row per
    wholesaler, so a month without any compensation row is a failed or missing load, never a pass."""
    problem = (
        pl.when(pl.col("comp_net").is_null()).then(pl.lit("no compensation row, but flows"))
        .when(pl.col("total_mismatch").abs() > 0.01).then(pl.lit("total differs from base + incentive"))
        # The flows comparison needs the whole month of flows loaded.
        .when(pl.col("comparable") & ((pl.col("flows_net") - pl.col("comp_net")).abs() > 0.01))
        .then(pl.lit("net flows differ from fact_aum_flows"))
    )
    failing = frame.with_columns(problem=problem).filter(pl.col("problem").is_not_null()).drop("comparable")
    empty_months = sorted(set(months) - set(frame["month"].to_list()))
    no_rows = pl.DataFrame({"month": empty_months, "problem": ["no compensation rows"] * len(empty_months)},
                           schema={"month": pl.Date, "problem": pl.String})
    return pl.concat([failing, no_rows], how="diagonal_relaxed").sort("month", "wholesaler_id", nulls_last=True)


@dg.asset_check(
    asset=dist_perf_dw.fact_wholesaler_comp, name=COMP_MATCHES_FLOWS, pool=POSTGRES_POOL,
    partitions_def=month_partitions,
)
def comp_matches_flows(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource
) -> dg.AssetCheckResult:
    """Per month and wholesaler, the net flows compensation was paid on equal the month's net flows in
    fact_aum_flows, and total = base + incentive; a month without compensation rows fails, and so does a
    wholesaler with flows but no compensation row. For months whose flows are not all loaded (a business
    day without flows) the flows comparison is reported as not possible instead of failing."""
    months = partition_days(context)
    frame = postgres.read_frame(
        """
        WITH month_days AS (
            SELECT date_trunc('month', calendar_date)::date AS month, count(*) AS business_days
            FROM dist_perf_dw.dim_dates
            WHERE date_trunc('month', calendar_date)::date = ANY(:months) AND is_business_day
            GROUP BY 1
        ), flows AS (
            SELECT date_trunc('month', flow_date)::date AS month, wholesaler_id, sum(net_amount) AS flows_net
            FROM dist_perf_dw.fact_aum_flows
            WHERE date_trunc('month', flow_date)::date = ANY(:months) GROUP BY 1, 2
        ), loaded AS (
            SELECT date_trunc('month', flow_date)::date AS month, count(DISTINCT flow_date) AS days_loaded
            FROM dist_perf_dw.fact_aum_flows
            WHERE date_trunc('month', flow_date)::date = ANY(:months) GROUP BY 1
        ), comp AS (
            SELECT comp_month AS month, wholesaler_id, net_flow_amount AS comp_net,
                   total_comp_amount - base_salary_amount - incentive_amount AS total_mismatch
            FROM dist_perf_dw.fact_wholesaler_comp WHERE comp_month = ANY(:months)
        )
        SELECT month, wholesaler_id, coalesce(f.flows_net, 0)::float8 AS flows_net, c.comp_net::float8 AS comp_net,
               c.total_mismatch::float8 AS total_mismatch,
               coalesce(l.days_loaded, 0) >= coalesce(d.business_days, 0) AS comparable
        FROM comp AS c
        FULL OUTER JOIN flows AS f USING (month, wholesaler_id)
        LEFT JOIN loaded AS l USING (month)
        LEFT JOIN month_days AS d USING (month)
        ORDER BY 1, 2
        """,
        {"months": months},
    )
    if frame.is_empty():
        frame = pl.DataFrame(schema=_COMP_ROWS_SCHEMA)
    comparable = frame.filter(pl.col("comparable") & pl.col("comp_net").is_not_null())
    metadata = {"months_checked": dg.MetadataValue.int(comparable["month"].n_unique())}
    not_comparable = sorted({str(m) for m in frame.filter(~pl.col("comparable"))["month"].to_list()})
    if not_comparable:
        metadata["months_not_comparable"] = dg.MetadataValue.text(
            ", ".join(not_comparable) + ": fact_aum_flows is missing business days of the month"
        )
    return check_result(_comp_problems(frame, months), metadata,
                        "compensation net flows equal fact_aum_flows for every wholesaler",
                        "(month, wholesaler) rows whose compensation is missing or disagrees with fact_aum_flows")


_FLOWS_VS_ASSIGNMENTS = """
WITH flows AS (
    SELECT flow_id, flow_date, source_transaction_id, advisor_id, firm_id, channel_id, wholesaler_id
    FROM dist_perf_dw.fact_aum_flows
    WHERE flow_date >= :first AND flow_date < :end AND source_transaction_id IS NOT NULL
), assigned AS (  -- the advisor's assignment in force on the flow's date
    SELECT DISTINCT ON (f.flow_id) f.flow_id, a.territory_id, a.firm_id
    FROM flows f
    JOIN dist_perf_dw.advisor_assignments a ON a.advisor_id = f.advisor_id AND a.effective_date <= f.flow_date
    ORDER BY f.flow_id, a.effective_date DESC
), wholesaler_on AS (  -- each wholesaler's territory on each flow date
    SELECT DISTINCT ON (d.flow_date, w.wholesaler_id) d.flow_date, w.wholesaler_id, w.territory_id, w.effective_date
    FROM (SELECT DISTINCT flow_date FROM flows) d
    JOIN dist_perf_dw.wholesaler_assignments w ON w.effective_date <= d.flow_date
    ORDER BY d.flow_date, w.wholesaler_id, w.effective_date DESC
), covering AS (  -- the wholesaler there longest, then the lowest key (the load's rule)
    SELECT DISTINCT ON (flow_date, territory_id) flow_date, territory_id, wholesaler_id
    FROM wholesaler_on ORDER BY flow_date, territory_id, effective_date, wholesaler_id
)
SELECT f.flow_date, f.source_transaction_id, f.wholesaler_id, coalesce(c.wholesaler_id, 0) AS expected_wholesaler_id,
       f.channel_id, fi.channel_id AS expected_channel_id,
       (a.firm_id IS NOT NULL AND a.firm_id <> f.firm_id) AS record_firm_differs
FROM flows f
LEFT JOIN assigned a USING (flow_id)
LEFT JOIN covering c ON c.flow_date = f.flow_date AND c.territory_id = coalesce(a.territory_id, 0)
JOIN dist_perf_dw.dim_firms fi ON fi.firm_id = f.firm_id
WHERE f.wholesaler_id <> coalesce(c.wholesaler_id, 0) OR f.channel_id <> fi.channel_id
   OR (a.firm_id IS NOT NULL AND a.firm_id <> f.firm_id)
ORDER BY 1, 2
"""


@dg.asset_check(
    asset=dist_perf_dw.fact_aum_flows, name=FLOWS_FOLLOW_ASSIGNMENTS, pool=POSTGRES_POOL,
    partitions_def=trade_date_partitions,
)
def flows_follow_assignments(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource
) -> dg.AssetCheckResult:
    """Every landed flow of the run's dates is credited to the wholesaler covering, on the flow's date, the
    territory its advisor was assigned to on that date (Unassigned when none), and carries its firm's
    channel. Fails naming the flows that do not (a master re-landed with a back-dated move or territory
    change after the date was loaded: re-materialize the dates listed). A flow whose record names another
    firm than the advisor's assignment is not a failure (the record wins); they are counted."""
    first_day, end = _run_window(dist_perf_dw.FACT_SPECS["fact_aum_flows"], context)
    rows = postgres.read_frame(_FLOWS_VS_ASSIGNMENTS, {"first": first_day, "end": end})
    if rows.is_empty():
        rows = pl.DataFrame(schema={"flow_date": pl.Date, "source_transaction_id": pl.String,
                                    "wholesaler_id": pl.Int64, "expected_wholesaler_id": pl.Int64,
                                    "channel_id": pl.Int64, "expected_channel_id": pl.Int64,
                                    "record_firm_differs": pl.Boolean})
    wrong = (pl.col("wholesaler_id") != pl.col("expected_wholesaler_id")) | (
        pl.col("channel_id") != pl.col("expected_channel_id"))
    failing = rows.filter(wrong).drop("record_firm_differs")
    metadata = {
        "record_firm_differs": dg.MetadataValue.int(rows["record_firm_differs"].sum() or 0),
        "dates_to_reload": dg.MetadataValue.json(sorted({str(d) for d in failing["flow_date"].to_list()})),
    }
    return check_result(failing, metadata, "every landed flow follows the assignments in force on its date",
                        "landed flows credited otherwise than the assignments in force on their date")


dist_perf_dw_checks = [*foreign_key_checks, revenue_matches_flows, comp_matches_flows, flows_follow_assignments]

defs = dg.Definitions(asset_checks=dist_perf_dw_checks)
