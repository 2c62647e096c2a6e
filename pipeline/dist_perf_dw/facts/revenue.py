"""fact_revenue: management fees accrued daily on each book position.

(AUM + the day's net flows) x the product's annual management fee / 365. A
month's revenue is an estimate until the month is closed (fifth business day
after month end).
"""

import datetime as dt

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.calendar import FLOWS_START_DATE, month_close_date
from pipeline.dist_perf_dw.facts.flows import POSITION_ATTRIBUTES, generate_aum_flows
from pipeline.dist_perf_dw.randomness import money
from pipeline.dist_perf_dw.tables import columns
from pipeline.dist_perf_dw.universe import universe
from pipeline.dist_perf_dw.vocabulary import ASSET_CLASSES

REVENUE_COLUMNS = columns("fact_revenue")


def _book(seed: int, day: dt.date) -> pl.DataFrame:
    """Every position's AUM on `day`: its base AUM moved with its asset class's market."""
    world = universe(seed)
    positions = world.positions
    offset = max((day - FLOWS_START_DATE).days, 0)
    level = np.array([world.market_index[ac][offset] for ac in range(1, len(ASSET_CLASSES) + 1)])
    aum = positions["base_aum"].to_numpy() * level[positions["asset_class_id"].to_numpy() - 1]
    return positions.select(POSITION_ATTRIBUTES).with_columns(aum_amount=money(aum))


def generate_revenue(seed: int, day: dt.date, as_of: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """fact_revenue for one day: the management fee accrued on each book position
    ((AUM + the day's net flows) x annual fee rate / 365), including positions
    opened by that day's exchanges. `is_estimate` until the month closes as of `as_of`."""
    net_flows = (
        generate_aum_flows(seed, day, scale)
        .group_by(POSITION_ATTRIBUTES)
        .agg(net_flow_amount=pl.col("net_amount").sum())
    )
    fee_rate = universe(seed).dimensions["dim_products"].select("product_id", fee_rate="management_fee_rate")
    revenue = (
        _book(seed, day).join(net_flows, on=POSITION_ATTRIBUTES, how="full", coalesce=True)
        .join(fee_rate, on="product_id", how="left")
        .with_columns(
            pl.col("aum_amount").fill_null(0.0),
            pl.col("net_flow_amount").fill_null(0.0).round(2),
        )
    )
    return revenue.with_columns(
        revenue_date=pl.lit(day, dtype=pl.Date),
        revenue_amount=(
            (pl.col("aum_amount") + pl.col("net_flow_amount")).clip(lower_bound=0) * pl.col("fee_rate") / 365
        ).round(2),
        is_estimate=pl.lit(as_of < month_close_date(day)),
    ).select(REVENUE_COLUMNS).sort("advisor_id", "product_id")
