"""Look-through: explode ETF/ETC trades into constituent-exposure rows.

Pure Polars. The parent row stays as it is (weight 1.0, exposure_type ETF or
ETC); each constituent in force on the trade date adds a row with
quantity = parent quantity x shares_per_unit and the parent's notional, P&L
and risk measures scaled by the constituent's weight. Rows are produced in
bounded chunks so a day of tens of millions of exposure rows is never held
in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import polars as pl

from pipeline.trade_generation import TRADE_COLUMNS, WEIGHTED_MEASURES, conform_to_schema

COMPOSITE_EXPOSURE_TYPES = ("ETF", "ETC")
CONSTITUENT_EXPOSURE = "Constituent"
DEFAULT_CHUNK_ROWS = 1_000_000
CONSTITUENT_ATTRIBUTES = ["asset_class", "product", "currency", "sector"]


def constituents_in_force(constituents: pl.DataFrame, trade_date: date) -> pl.DataFrame:
    """The composite -> constituent map effective on `trade_date` (effective_date <= d <= expiry_date)."""
    return constituents.filter(
        (pl.col("effective_date") <= trade_date) & (pl.col("expiry_date") >= trade_date)
    ).select("parent_symbol", "constituent_symbol", "weight", "shares_per_unit")


def _constituent_map(map_in_force: pl.DataFrame, instruments: pl.DataFrame) -> pl.DataFrame:
    attributes = instruments.select(
        pl.col("symbol").alias("constituent_symbol"),
        *[pl.col(c).cast(pl.String).alias(f"constituent_{c}") for c in CONSTITUENT_ATTRIBUTES],
    )
    return map_in_force.join(attributes, on="constituent_symbol", how="left").rename(
        {"weight": "constituent_weight"}
    )


def explode_constituents(
    trades: pl.DataFrame,
    map_in_force: pl.DataFrame,
    instruments: pl.DataFrame,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[pl.DataFrame]:
    """Yield the constituent-exposure rows of the day's composite trades, about `chunk_rows` at a time."""
    composite_map = _constituent_map(map_in_force, instruments)
    fan_out = composite_map.group_by("parent_symbol").agg(pl.len().alias("fan_out"))
    parents = trades.filter(pl.col("exposure_type").cast(pl.String).is_in(COMPOSITE_EXPOSURE_TYPES)).join(
        fan_out, left_on="symbol", right_on="parent_symbol", how="inner"
    )
    if parents.is_empty():
        return
    parents = parents.with_columns(chunk=(pl.col("fan_out").cum_sum() - 1) // max(1, chunk_rows))
    for (_,), chunk in parents.partition_by("chunk", as_dict=True, maintain_order=True).items():
        exploded = chunk.drop("chunk", "fan_out").join(
            composite_map, left_on="symbol", right_on="parent_symbol", how="inner"
        )
        yield conform_to_schema(
            exploded.with_columns(
                parent_symbol=pl.col("symbol"),
                symbol=pl.col("constituent_symbol"),
                underlying_symbol=pl.col("constituent_symbol"),
                exposure_type=pl.lit(CONSTITUENT_EXPOSURE),
                instrument_type=pl.lit(CONSTITUENT_EXPOSURE),
                is_constituent_exposure=pl.lit(1, dtype=pl.UInt8),
                weight=pl.col("constituent_weight"),
                quantity=pl.col("quantity") * pl.col("shares_per_unit"),
                notional=pl.col("notional") * pl.col("constituent_weight"),
                price=pl.col("price") * pl.col("constituent_weight") / pl.col("shares_per_unit"),
                **{c: pl.col(f"constituent_{c}") for c in CONSTITUENT_ATTRIBUTES},
                **{m: pl.col(m) * pl.col("constituent_weight") for m in WEIGHTED_MEASURES},
            )
        )


def trades_with_look_through(
    trades: pl.DataFrame,
    constituents: pl.DataFrame,
    instruments: pl.DataFrame,
    trade_date: date,
    explode: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[pl.DataFrame]:
    """The whole day as chunks: first the traded rows, then (if `explode`) their constituent rows."""
    yield trades.select(TRADE_COLUMNS)
    if explode:
        yield from explode_constituents(
            trades, constituents_in_force(constituents, trade_date), instruments, chunk_rows
        )
