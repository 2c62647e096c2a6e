"""Answer a spec query over a range of trade dates.

    python -m pipeline.query top_level --from 2024-02-05 --to 2024-02-09                  # a table
    python -m pipeline.query pm_pnl --from 2024-01-01 --to 2024-12-31 --usd --format csv  # header + rows
    python -m pipeline.query symbol_exposure --from 2024-02-05 --to 2024-02-09 --symbol MSFT

Names: top_level, look_through, symbol_exposure (the spec's AAPL query, any symbol), etf_decomposition,
pm_pnl, rollup; `--usd` sums notional_usd and pnl_usd. The first line on stderr says which table served
it (`served from pivot.trades_1d_rollup` or `served from pivot.trades_1d`), the next one why. The store is
$PIVOT_CLICKHOUSE_URL (else the embedded one).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date

import polars as pl

from pipeline.pivot.queries import DEFAULT_SYMBOL, RANGE_QUERY_NAMES
from pipeline.settings import ENV_CLICKHOUSE_CLUSTER, ENV_CLICKHOUSE_URL, default_clickhouse_url

HAS_TABLES = (
    "SELECT count() FROM system.tables WHERE database = {database:String} AND name IN ('trades_1d', 'trades_1d_rollup')"
)


def _trade_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.query", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=RANGE_QUERY_NAMES, help="the spec query")
    parser.add_argument("--from", dest="start", type=_trade_date, required=True, help="first trade date, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", type=_trade_date, required=True, help="last trade date (included)")
    parser.add_argument("--symbol", default=DEFAULT_SYMBOL, help=f"symbol_exposure's symbol (default {DEFAULT_SYMBOL})")
    parser.add_argument("--usd", action="store_true", help="measures in USD (notional_usd, pnl_usd)")
    parser.add_argument("--format", choices=["table", "csv"], default="table")
    parser.add_argument("--database", default="pivot", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.start > args.end:
        parser.error(f"--from {args.start} is after --to {args.end}")

    # stderr's first line names the serving table (or the error): the driver's own log lines would come
    # first, and what they say is in the error message.
    logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
    from clickhouse_connect.driver.exceptions import ClickHouseError

    from pipeline.pivot.ranges import answer
    from pipeline.resources.clickhouse import ClickHouseResource, ClickHouseUnavailableError

    try:
        store = ClickHouseResource(
            url=os.environ.get(ENV_CLICKHOUSE_URL) or default_clickhouse_url(),
            database=args.database,
            cluster=os.environ.get(ENV_CLICKHOUSE_CLUSTER, ""),
        )
        if store.query_rows(HAS_TABLES, {"database": args.database})[0][0] < 2:
            raise ClickHouseUnavailableError(
                f"no pivot.trades_1d or pivot.trades_1d_rollup in {store.location} (database {args.database}): "
                "materialize pivot/trades_1d and pivot/trades_1d_rollup first"
            )
        query, frame = answer(store, args.name, args.start, args.end, symbol=args.symbol, usd=args.usd)
    except (ClickHouseUnavailableError, ValueError) as error:
        # A malformed PIVOT_CLICKHOUSE_URL is a pydantic ValidationError (a ValueError): its own message only.
        problems = error.errors() if hasattr(error, "errors") else []
        message = problems[0]["msg"].removeprefix("Value error, ") if problems else str(error)
        print(f"error: {message}", file=sys.stderr)
        return 1
    except ClickHouseError as error:  # the engine refused or broke off the query (tables of another shape, …)
        print(f"error: the query failed on {store.location}: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"served from {query.table}", file=sys.stderr)
    print(f"  ({query.reason}; {frame.height:,} row(s), {args.start} to {args.end})", file=sys.stderr)
    try:
        if args.format == "csv":
            sys.stdout.write(frame.write_csv())
        else:
            with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_width_chars=250, thousands_separator=True):
                print(frame)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
