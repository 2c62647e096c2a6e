"""The books of business the facts are drawn from: which advisor holds which
products and how much, and how each asset class's market moves day by day."""

import datetime as dt

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.calendar import DIM_DATES_END, FLOWS_START_DATE
from pipeline.dist_perf_dw.randomness import money, rng
from pipeline.dist_perf_dw.vocabulary import ASSET_CLASSES


def positions(
    generator: np.random.Generator,
    advisors: pl.DataFrame,
    advisor_weight: np.ndarray,
    advisor_wholesaler: np.ndarray,
    firms: pl.DataFrame,
    products: pl.DataFrame,
) -> pl.DataFrame:
    """One row per (advisor, product) held, with everything a flow needs: 2-8 products per
    advisor, popular products more often, assets scaled by the advisor's productivity."""
    product_count = products.height
    popularity = generator.lognormal(0, 0.8, product_count)
    position_advisor, position_product = [], []
    for advisor_index in range(advisors.height):
        size = int(generator.integers(2, 9))
        held = generator.choice(product_count, size=size, replace=False, p=popularity / popularity.sum())
        position_advisor += [advisor_index + 1] * size
        position_product += (held + 1).tolist()
    advisor = np.array(position_advisor)
    base_aum = money(
        generator.lognormal(np.log(1_200_000), 1.0, len(position_advisor))
        * (advisor_weight[advisor - 1] / advisor_weight.mean()) ** 0.8
    )
    advisor_firm = advisors["firm_id"].to_numpy()[advisor - 1]
    return pl.DataFrame(
        {
            "advisor_id": pl.Series(advisor, dtype=pl.Int32),
            "product_id": pl.Series(position_product, dtype=pl.Int32),
            "firm_id": pl.Series(advisor_firm, dtype=pl.Int32),
            "channel_id": pl.Series(firms["channel_id"].to_numpy()[advisor_firm - 1], dtype=pl.Int32),
            "wholesaler_id": pl.Series(advisor_wholesaler[advisor - 1], dtype=pl.Int32),
            "asset_class_id": pl.Series(
                products["asset_class_id"].to_numpy()[np.array(position_product) - 1], dtype=pl.Int32
            ),
            "base_aum": base_aum,
            "activity_weight": advisor_weight[advisor - 1],
        }
    ).sort("advisor_id", "product_id")


# Daily returns through this date come from one stream, asset class after asset class; the days
# after it (up to the calendar's horizon, which moves with time) from one stream per asset class,
# so a later horizon appends days and changes none.
_FIRST_STREAM_END = dt.date(2035, 12, 31)


def market_index(seed: int) -> dict[int, np.ndarray]:
    """Each asset class's market level by day since FLOWS_START_DATE (1.0 on it) through
    DIM_DATES_END: a random walk with the class's drift and volatility."""
    generator = rng(seed, "market")
    first_days = (_FIRST_STREAM_END - FLOWS_START_DATE).days + 1
    later_days = (DIM_DATES_END - _FIRST_STREAM_END).days
    levels = {}
    for index, (_, _, _, drift, volatility, _) in enumerate(ASSET_CLASSES):
        returns = generator.normal(drift, volatility, first_days)
        if later_days > 0:
            later = rng(seed, "market", index + 1).normal(drift, volatility, later_days)
            returns = np.concatenate([returns, later])
        returns[0] = 0.0
        levels[index + 1] = np.exp(np.cumsum(returns))
    return levels
