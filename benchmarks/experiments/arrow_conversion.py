"""What handing a day's chunks to the engine as Arrow costs in Polars, by column kind and layout:
the LowCardinality columns as Categorical (re-encoded on every `to_arrow()`) or as the Enums the
pipeline uses, and the whole chunk as `large_string` or as string views (what chDB gets).

    python -m benchmarks.experiments.arrow_conversion [--trades-per-day N]

Prints one JSON line per measurement: the best of 3 runs over the exploded chunks of one day.
"""

import argparse
import json
import time
from datetime import date

import polars as pl

from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.explosion import trades_with_look_through
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.trade_generation import generate_trades
from pipeline.pivot.trade_schema import LOW_CARDINALITY
from pipeline.settings import DEFAULT_SEED

DAY = date(2024, 1, 15)


def best_of(convert, chunks: list[pl.DataFrame], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for chunk in chunks:
            convert(chunk)
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.arrow_conversion", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--trades-per-day", type=int, default=300_000)
    args = parser.parse_args()
    instruments, constituents = build_instruments(DEFAULT_SEED), build_constituents(DEFAULT_SEED)
    trades = generate_trades(DAY, args.trades_per_day, instruments, DEFAULT_SEED)
    chunks = list(trades_with_look_through(trades, constituents, instruments, DAY))
    rows = sum(chunk.height for chunk in chunks)
    low_cardinality = list(LOW_CARDINALITY)
    as_categorical = [chunk.select(pl.col(low_cardinality).cast(pl.String).cast(pl.Categorical)) for chunk in chunks]
    as_enum = [chunk.select(low_cardinality) for chunk in chunks]
    figures = {
        "low_cardinality_as_categorical": best_of(lambda c: c.to_arrow(), as_categorical),
        "low_cardinality_as_enum": best_of(lambda c: c.to_arrow(), as_enum),
        "whole_chunk_large_string": best_of(lambda c: c.to_arrow(), chunks),
        "whole_chunk_string_view": best_of(lambda c: c.to_arrow(compat_level=pl.CompatLevel.newest()), chunks),
    }
    for name, seconds in figures.items():
        print(json.dumps({"figure": name, "rows": rows, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
