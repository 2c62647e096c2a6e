"""A loaded dist_perf_dw for the web pages' tests and load test: the dimensions and the facts of a
list of days (and their months' compensation), generated and loaded exactly as the assets do
(the FactSpecs' generators, `PostgresResource.reload_dimension` / `replace_partition`), without
a Dagster run."""

import datetime as dt

from pipeline.assets.dist_perf_dw import FACT_SPECS
from pipeline.dist_perf_dw import tables
from pipeline.dist_perf_dw.calendar import is_business_day
from pipeline.dist_perf_dw.universe import generate_dimensions
from pipeline.resources.generation import GenerationSettings
from pipeline.resources.postgres import PostgresResource
from pipeline.settings import DEFAULT_SEED


def business_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return [day for day in days if is_business_day(day)]


def load_dist_perf_dw(
    postgres: PostgresResource,
    days: list[dt.date],
    seed: int = DEFAULT_SEED,
    flow_scale: float = 1.0,
    as_of: dt.date | None = None,
) -> dict[str, int]:
    """Load the dimensions, then every daily fact for `days` and the compensation of their months.
    Returns the rows loaded per table."""
    postgres.ensure_schema()
    settings = GenerationSettings(seed=seed, flow_scale=flow_scale)
    dimensions = generate_dimensions(seed)
    loaded = {}
    for table in tables.DIMENSION_TABLES:
        postgres.reload_dimension(table, dimensions[table])
        loaded[table] = dimensions[table].height
    as_of = as_of or max(days)
    for name, spec in FACT_SPECS.items():
        if name == "fact_wholesaler_comp":
            continue
        loaded[name] = 0
        for day in days:
            frame = spec.generate(settings, day, as_of)
            postgres.replace_partition(name, spec.date_column, day, day + dt.timedelta(days=1), frame)
            loaded[name] += frame.height
    comp = FACT_SPECS["fact_wholesaler_comp"]
    loaded["fact_wholesaler_comp"] = 0
    for month in sorted({day.replace(day=1) for day in days}):
        frame = comp.generate(settings, month, as_of)
        following = (month + dt.timedelta(days=32)).replace(day=1)
        postgres.replace_partition("fact_wholesaler_comp", comp.date_column, month, following, frame)
        loaded["fact_wholesaler_comp"] += frame.height
    return loaded


def load_pivot_day(store: str, day: dt.date, trades_per_day: int, seed: int = DEFAULT_SEED) -> dict:
    """An embedded pivot store (`store`: a directory) holding the reference data and one generated trade
    date, loaded as the assets do; returns what the day holds per exposure type (USD notional)."""
    from pipeline.pivot.constituents import build_constituents
    from pipeline.pivot.day_load import load_trade_date, read_reference_data
    from pipeline.pivot.fx import synthetic_rates
    from pipeline.pivot.instruments import build_instruments
    from pipeline.pivot.queries import EXPOSURE_TOTALS
    from pipeline.resources.clickhouse import ClickHouseResource, close_all_clients

    clickhouse = ClickHouseResource(url=f"chdb://{store}")
    try:
        clickhouse.apply_ddl()
        clickhouse.replace_table("instruments", build_instruments(seed))
        clickhouse.replace_table("constituents", build_constituents(seed))
        # The rates around the day only (the day load reads its own date's): the whole horizon is 66k rows.
        month = dt.timedelta(days=31)
        clickhouse.replace_table("fx_rates", synthetic_rates(seed, day - month, day + month))
        load_trade_date(clickhouse, day, read_reference_data(clickhouse), trades_per_day=trades_per_day, seed=seed)
        totals = clickhouse.query_rows(EXPOSURE_TOTALS, {"day": day})
        return {exposure_type: notional_usd for exposure_type, _, _, _, notional_usd, _ in totals}
    finally:
        close_all_clients()
