"""The whole synthetic world of one seed: every dimension table, the books of
business and the market levels, generated once per seed and shared by all facts.

Pure functions of the seed: no Dagster, no database. The dimensions draw from
one random stream in a fixed order (firms, advisors, products, wholesalers,
coverage, positions); changing that order changes every seed's data.
"""

import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipeline.dist_perf_dw import books
from pipeline.dist_perf_dw.calendar import generate_dim_dates
from pipeline.dist_perf_dw.dimensions import expenses, organisation, products, transaction_types
from pipeline.dist_perf_dw.randomness import rng
from pipeline.dist_perf_dw.tables import DIMENSION_TABLES, columns


@dataclass(frozen=True)
class Universe:
    """All dimensions plus the books of business the facts are drawn from."""

    dimensions: dict[str, pl.DataFrame]
    # One row per (advisor, product) the advisor holds, with everything a flow needs.
    positions: pl.DataFrame
    # Index of each asset class's market level by day, 1.0 on FLOWS_START_DATE.
    market_index: dict[int, np.ndarray]


@functools.lru_cache(maxsize=4)
def universe(seed: int) -> Universe:
    generator = rng(seed, "dimensions")
    territories = organisation.territories()
    firms = organisation.firms(generator)
    advisors, advisor_weight = organisation.advisors(generator, firms, territories)
    product_frame = products.products(generator)
    wholesalers = organisation.wholesalers(generator, advisors, territories)
    advisor_wholesaler = organisation.covering_wholesalers(generator, advisors, wholesalers)
    frames = {
        "dim_dates": generate_dim_dates(),
        "dim_regions": organisation.regions(),
        "dim_channels": organisation.channels(),
        "dim_firm_types": organisation.firm_types(),
        "dim_firms": firms,
        "dim_territories": territories,
        "dim_advisors": advisors,
        "dim_asset_classes": products.asset_classes(),
        "dim_vehicle_types": products.vehicle_types(),
        "dim_products": product_frame,
        "dim_wholesalers": wholesalers,
        "dim_expense_categories": expenses.expense_categories(),
        "dim_expense_types": expenses.expense_types(),
        "dim_transaction_types": transaction_types.transaction_types(),
    }
    return Universe(
        dimensions={table: frames[table].select(columns(table)) for table in DIMENSION_TABLES},
        positions=books.positions(generator, advisors, advisor_weight, advisor_wholesaler, firms, product_frame),
        market_index=books.market_index(seed),
    )


def generate_dimensions(seed: int) -> dict[str, pl.DataFrame]:
    """All 14 dimension tables keyed by table name, in load order."""
    return universe(seed).dimensions
