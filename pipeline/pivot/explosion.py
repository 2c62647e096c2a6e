"""Look-through: explode ETF/ETC trades into constituent-exposure rows.

Pure Polars. The parent row stays as it is (weight 1.0, exposure_type ETF or
ETC); each constituent in force on the trade date adds a row with
quantity = parent quantity x shares_per_unit and the parent's notional, P&L
and risk measures scaled by the constituent's weight. Rows are produced in
bounded chunks so a day of tens of millions of exposure rows is never held
in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

import polars as pl

from pipeline.pivot.trade_schema import TRADE_COLUMNS, TRADE_SCHEMA, WEIGHTED_MEASURES

COMPOSITE_EXPOSURE_TYPES = ("ETF", "ETC")
CONSTITUENT_EXPOSURE = "Constituent"
# Rows per chunk of the stream into ClickHouse. The chunks of a day stream through one INSERT,
# so their size does not set the parts, only the memory in flight (one chunk being built, one
# queued, one being read by the engine): with the fact's 128 KB compression buffers a 1M-trade day
# (~20M rows) peaks at 1.86-1.87 GB at 50k, 1.97-2.03 GB at 100k, for the same CPU (issue 18, item 6:
# benchmarks/README.md "Memory of a 1M-trade day"); 250k had cost 0.2-0.3 GB more than 100k before.
DEFAULT_CHUNK_ROWS = 50_000
# A constituent row takes its instrument's classification, but keeps the parent trade's currency:
# its notional, P&L and price are shares of the parent trade's amounts, denominated in the currency
# the trade was done in, so that is the currency they are labelled with and converted from
# (pipeline.pivot.fx). Its USD values then add up to the parent's USD values times the weights.
CONSTITUENT_ATTRIBUTES = ["asset_class", "product", "sector"]


def constituents_in_force(constituents: pl.DataFrame, trade_date: date) -> pl.DataFrame:
    """The composite -> constituent map effective on `trade_date` (effective_date <= d <= expiry_date)."""
    return constituents.filter((pl.col("effective_date") <= trade_date) & (pl.col("expiry_date") >= trade_date)).select(
        "parent_symbol", "constituent_symbol", "weight", "shares_per_unit"
    )


def _constituent_map(map_in_force: pl.DataFrame, instruments: pl.DataFrame) -> pl.DataFrame:
    # Attributes arrive in the fact's own types, so a chunk needs no casts after the join.
    attributes = instruments.select(
        pl.col("symbol").alias("constituent_symbol"),
        *[pl.col(c).cast(pl.String).cast(TRADE_SCHEMA[c]).alias(f"constituent_{c}") for c in CONSTITUENT_ATTRIBUTES],
    )
    return map_in_force.join(attributes, on="constituent_symbol", how="left", maintain_order="left").rename(
        {"weight": "constituent_weight"}
    )


def _composite_parents(trades: pl.DataFrame, composite_map: pl.DataFrame, chunk_rows: int) -> pl.DataFrame:
    """The composite trades with a map in force, each tagged with the output chunk it falls into."""
    fan_out = composite_map.group_by("parent_symbol", maintain_order=True).agg(pl.len().alias("fan_out"))
    parents = trades.filter(pl.col("exposure_type").cast(pl.String).is_in(COMPOSITE_EXPOSURE_TYPES)).join(
        fan_out, left_on="symbol", right_on="parent_symbol", how="inner", maintain_order="left"
    )
    return parents.with_columns(chunk=(pl.col("fan_out").cum_sum() - 1) // max(1, chunk_rows))


def _exploded_chunks(parents: pl.DataFrame, composite_map: pl.DataFrame) -> Iterator[pl.DataFrame]:
    if parents.is_empty():
        return
    constituent = pl.lit(CONSTITUENT_EXPOSURE).cast(TRADE_SCHEMA["exposure_type"])
    for (_,), chunk in parents.partition_by("chunk", as_dict=True, maintain_order=True).items():
        # One lazy query per chunk: Polars fuses the join, the rewrites and the column
        # order, so each chunk is materialised once instead of once per step.
        yield (
            chunk.lazy()
            .drop("chunk", "fan_out")
            .join(
                composite_map.lazy(),
                left_on="symbol",
                right_on="parent_symbol",
                how="inner",
                maintain_order="left_right",
            )
            .with_columns(
                parent_symbol=pl.col("symbol"),
                symbol=pl.col("constituent_symbol"),
                underlying_symbol=pl.col("constituent_symbol"),
                exposure_type=constituent,
                instrument_type=constituent.cast(TRADE_SCHEMA["instrument_type"]),
                is_constituent_exposure=pl.lit(1, dtype=pl.UInt8),
                weight=pl.col("constituent_weight"),
                quantity=pl.col("quantity") * pl.col("shares_per_unit"),
                notional=pl.col("notional") * pl.col("constituent_weight"),
                price=pl.col("price") * pl.col("constituent_weight") / pl.col("shares_per_unit"),
                **{c: pl.col(f"constituent_{c}") for c in CONSTITUENT_ATTRIBUTES},
                **{m: pl.col(m) * pl.col("constituent_weight") for m in WEIGHTED_MEASURES},
            )
            .select([pl.col(name).cast(dtype) for name, dtype in TRADE_SCHEMA.items()])
            .collect()
        )


def explode_constituents(
    trades: pl.DataFrame,
    map_in_force: pl.DataFrame,
    instruments: pl.DataFrame,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[pl.DataFrame]:
    """Yield the constituent-exposure rows of the day's composite trades, about `chunk_rows` at a time."""
    composite_map = _constituent_map(map_in_force, instruments)
    yield from _exploded_chunks(_composite_parents(trades, composite_map, chunk_rows), composite_map)


def trades_with_look_through(
    trades: pl.DataFrame,
    constituents: pl.DataFrame,
    instruments: pl.DataFrame,
    trade_date: date,
    explode: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[pl.DataFrame]:
    """`streamed_day` for a day whose trades are already one frame; an empty day is one empty chunk."""
    if trades.is_empty():
        yield trades.select(TRADE_COLUMNS)
        return
    yield from streamed_day([trades], constituents, instruments, trade_date, explode=explode, chunk_rows=chunk_rows)


def streamed_day(
    trade_chunks: Iterable[pl.DataFrame],
    constituents: pl.DataFrame,
    instruments: pl.DataFrame,
    trade_date: date,
    explode: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[pl.DataFrame]:
    """The whole day as chunks, never held whole: for each generated chunk of trades, its traded
    rows, then (if `explode`) its constituent rows, about `chunk_rows` at a time.

    Only one chunk of trades (and its composite parents) is referenced at a time, so memory is
    bounded by the trade chunk and `chunk_rows`, not by the day.
    """
    composite_map = _constituent_map(constituents_in_force(constituents, trade_date), instruments) if explode else None
    for trades in trade_chunks:
        parents = _composite_parents(trades, composite_map, chunk_rows) if explode else None
        for offset in range(0, trades.height, max(1, chunk_rows)):
            yield trades.slice(offset, chunk_rows).select(TRADE_COLUMNS)
        del trades
        if explode:
            yield from _exploded_chunks(parents, composite_map)
        parents = None
