"""fact_retention_snapshots: what share of a purchase is still held 30/90/180/365 days later,
read off the redemption plans the flows were generated from."""

import datetime as dt

import polars as pl

from pipeline.dist_perf_dw.facts.flows import planned_purchases
from pipeline.dist_perf_dw.tables import columns

RETENTION_AGES_DAYS = (30, 90, 180, 365)
RETENTION_COLUMNS = columns("fact_retention_snapshots")


def _cohort(seed: int, snapshot_date: dt.date, age: int, scale: float) -> pl.DataFrame:
    cohort_date = snapshot_date - dt.timedelta(days=age)
    redeemed_by_snapshot = pl.col("redemption_date").is_not_null() & (pl.col("redemption_date") <= snapshot_date)
    return planned_purchases(seed, cohort_date, scale).select(
        "flow_id",
        age_days=pl.lit(age, dtype=pl.Int32),
        snapshot_date=pl.lit(snapshot_date, dtype=pl.Date),
        flow_date=pl.lit(cohort_date, dtype=pl.Date),
        advisor_id="advisor_id",
        product_id="product_id",
        channel_id="channel_id",
        wholesaler_id="wholesaler_id",
        original_amount="amount",
        redeemed_amount=pl.when(redeemed_by_snapshot).then(pl.col("redemption_amount")).otherwise(0.0),
    )


def generate_retention_snapshots(seed: int, snapshot_date: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """fact_retention_snapshots for one snapshot date: every purchase made exactly
    30, 90, 180 or 365 days earlier, with the share of it still held that day."""
    snapshots = pl.concat([_cohort(seed, snapshot_date, age, scale) for age in RETENTION_AGES_DAYS])
    return snapshots.with_columns(
        retained_amount=(pl.col("original_amount") - pl.col("redeemed_amount")).round(2),
    ).with_columns(
        retention_pct=(100 * pl.col("retained_amount") / pl.col("original_amount")).round(2),
    ).select(RETENTION_COLUMNS)
