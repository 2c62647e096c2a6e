"""fact_wholesaler_comp: each wholesaler is paid a monthly base plus an incentive on the
positive net flows of the advisors they cover."""

import datetime as dt

import polars as pl

from pipeline.dist_perf_dw.calendar import month_days
from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
from pipeline.dist_perf_dw.tables import columns
from pipeline.dist_perf_dw.universe import universe

COMP_COLUMNS = columns("fact_wholesaler_comp")


def compute_wholesaler_comp(
    wholesalers: pl.DataFrame, transaction_types: pl.DataFrame, month_flows: pl.DataFrame, month_start: dt.date
) -> pl.DataFrame:
    """fact_wholesaler_comp for one month: a twelfth of the annual base plus the
    wholesaler's incentive rate times their positive net flows. Gross sales are
    purchases and exchanges in; transfers count toward net flows only."""
    categorized = month_flows.join(
        transaction_types.select("transaction_type_id", "transaction_category", "flow_direction"),
        on="transaction_type_id",
        how="left",
    )
    inflow = pl.col("flow_direction") == "inflow"
    gross_sales = pl.col("transaction_category").is_in(["purchase", "exchange"]) & inflow
    redemptions = pl.col("transaction_category") == "redemption"
    totals = categorized.group_by("wholesaler_id").agg(
        gross_sales_amount=pl.col("amount").filter(gross_sales).sum(),
        redemptions_amount=pl.col("amount").filter(redemptions).sum(),
        net_flow_amount=pl.col("net_amount").sum(),
    )
    return (
        wholesalers.select("wholesaler_id", "annual_base_salary", "incentive_rate")
        .join(totals, on="wholesaler_id", how="left")
        .with_columns(
            pl.col("gross_sales_amount", "redemptions_amount", "net_flow_amount").fill_null(0.0).round(2),
            comp_month=pl.lit(month_start, dtype=pl.Date),
            base_salary_amount=(pl.col("annual_base_salary") / 12).round(2),
        )
        .with_columns(
            incentive_amount=(pl.col("net_flow_amount").clip(lower_bound=0) * pl.col("incentive_rate")).round(2),
        )
        .with_columns(total_comp_amount=(pl.col("base_salary_amount") + pl.col("incentive_amount")).round(2))
        .select(COMP_COLUMNS)
        .sort("wholesaler_id")
    )


def generate_wholesaler_comp(seed: int, month_start: dt.date, scale: float = 1.0) -> pl.DataFrame:
    dims = universe(seed).dimensions
    flows = pl.concat([generate_aum_flows(seed, day, scale) for day in month_days(month_start)])
    return compute_wholesaler_comp(dims["dim_wholesalers"], dims["dim_transaction_types"], flows, month_start)
