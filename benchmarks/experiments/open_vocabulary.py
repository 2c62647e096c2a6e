"""What an open vocabulary costs on the way into ClickHouse: the same 1M-trade day (19.8M rows),
its LowCardinality columns as closed Polars Enums, as Strings, or as Categoricals, timed through
`ClickHouseResource.replace_partition` (Arrow conversion + one streamed INSERT + the swap).

    python -m benchmarks.experiments.open_vocabulary [--trades-per-day N] [--repeats N]

The day is generated and exploded once per variant and held in memory, so only the conversion and
the ingest are timed. Prints one JSON line per run: variant, seconds, rows/s.
"""

import argparse
import gc
import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.explosion import streamed_day
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.trade_generation import generate_trade_chunks
from pipeline.pivot.trade_schema import LOW_CARDINALITY, OPEN_VOCABULARY_COLUMNS
from pipeline.resources.clickhouse import ClickHouseResource, close_all_clients
from pipeline.settings import DEFAULT_SEED

DAY = date(2024, 1, 16)
# "enum" is the fact schema before issue 11: every LowCardinality column a closed Enum (counterparty,
# a plain String column in the DDL, was a String then too).
VARIANTS = {"enum": "enum", "string": pl.String, "categorical": pl.Categorical}


def day_chunks(trades_per_day: int, variant: str) -> list[pl.DataFrame]:
    instruments, constituents = build_instruments(DEFAULT_SEED), build_constituents(DEFAULT_SEED)
    chunks = streamed_day(
        generate_trade_chunks(DAY, trades_per_day, instruments, DEFAULT_SEED), constituents, instruments, DAY
    )
    dtype = VARIANTS[variant]
    if dtype == "enum":
        closed = {c: LOW_CARDINALITY[c] for c in OPEN_VOCABULARY_COLUMNS if c in LOW_CARDINALITY}
        return [chunk.with_columns(pl.col(c).cast(pl.String).cast(t) for c, t in closed.items()) for chunk in chunks]
    opened = [pl.col(c).cast(pl.String).cast(dtype) for c in OPEN_VOCABULARY_COLUMNS]
    return [chunk.with_columns(opened) for chunk in chunks]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.open_vocabulary", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--trades-per-day", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="pivot-open-vocabulary-", dir="/tmp"))
    try:
        clickhouse = ClickHouseResource(url=f"chdb://{store}")
        clickhouse.apply_ddl()
        for variant in args.variants.split(","):
            chunks = day_chunks(args.trades_per_day, variant)
            rows = sum(c.height for c in chunks)
            for _ in range(args.repeats):
                started = time.perf_counter()
                clickhouse.replace_partition("trades_1d", DAY, chunks)
                seconds = time.perf_counter() - started
                print(
                    json.dumps(
                        {
                            "variant": variant,
                            "rows": rows,
                            "seconds": round(seconds, 2),
                            "rows_per_s": round(rows / seconds),
                        }
                    ),
                    flush=True,
                )
            del chunks
            gc.collect()
    finally:
        close_all_clients()
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
