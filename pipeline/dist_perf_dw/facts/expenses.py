"""fact_distribution_expense: wholesalers spend on travel, marketing, events and sales support."""

import datetime as dt

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.calendar import is_business_day
from pipeline.dist_perf_dw.randomness import day_number, rng
from pipeline.dist_perf_dw.tables import columns, polars_schema
from pipeline.dist_perf_dw.universe import universe
from pipeline.dist_perf_dw.vocabulary import EXPENSE_TYPES

EXPENSE_IDS_PER_DAY = 100_000
EXPENSE_COLUMNS = columns("fact_distribution_expense")
_SCHEMA = polars_schema("fact_distribution_expense")


def generate_distribution_expense(seed: int, day: dt.date) -> pl.DataFrame:
    """fact_distribution_expense for one business day: each wholesaler's
    expense items; client-facing ones name the firm they were spent on."""
    if not is_business_day(day):
        return pl.DataFrame(schema=_SCHEMA)
    generator = rng(seed, "expenses", day_number(day))
    dims = universe(seed).dimensions
    wholesalers = dims["dim_wholesalers"]
    territory_region = dims["dim_territories"]["region_id"].to_numpy()
    firm_region = dims["dim_firms"]["region_id"].to_numpy()
    category_of_type = dims["dim_expense_types"]["expense_category_id"].to_numpy()
    rows: dict[str, list] = {c: [] for c in EXPENSE_COLUMNS if c not in ("expense_id", "expense_date")}
    for wholesaler_id, territory_id in zip(wholesalers["wholesaler_id"], wholesalers["territory_id"]):
        local_firms = np.flatnonzero(firm_region == territory_region[territory_id - 1]) + 1
        for type_index, (_, _, _, _, typical, client_facing, rate) in enumerate(EXPENSE_TYPES):
            for _ in range(int(generator.poisson(rate))):
                rows["wholesaler_id"].append(wholesaler_id)
                rows["territory_id"].append(territory_id)
                rows["expense_type_id"].append(type_index + 1)
                rows["expense_category_id"].append(int(category_of_type[type_index]))
                rows["firm_id"].append(
                    int(generator.choice(local_firms)) if client_facing and len(local_firms) else None
                )
                rows["amount"].append(round(float(typical * generator.lognormal(0, 0.45)), 2))
    count = len(rows["amount"])
    return pl.DataFrame(
        {
            "expense_id": pl.Series(day_number(day) * EXPENSE_IDS_PER_DAY + np.arange(count), dtype=pl.Int64),
            "expense_date": pl.Series([day] * count, dtype=pl.Date),
            **rows,
        },
        schema=_SCHEMA,
    )
