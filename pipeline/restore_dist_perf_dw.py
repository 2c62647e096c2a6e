"""List or restore the versions of a date of a dist_perf_dw fact: `python -m pipeline.restore` for the
asset keys `dist_perf_dw/fact_*` (pipeline/restore.py dispatches here).

    python -m pipeline.restore dist_perf_dw/fact_aum_flows 2024-01-16                # the versions the date holds
    python -m pipeline.restore dist_perf_dw/fact_aum_flows 2024-01-16 --format csv   # version,replaced_at,rows,...
    python -m pipeline.restore dist_perf_dw/fact_aum_flows 2024-01-16 --version 2    # put version 2 live

The columns are pivot's (`notional_usd` is the fact's amount total: net_amount for fact_aum_flows,
pipeline/dist_perf_dw/versions.py AMOUNT_COLUMNS). A restore is one transaction under the date's lock:
the live rows go to the history as a version in turn, the kept version's rows are copied back with
their foreign keys proven. The database is $PIVOT_POSTGRES_URL, else the project's local PostgreSQL,
as for the assets. A date of fact_wholesaler_comp is its month (any day of it names it).
"""

from __future__ import annotations

import argparse
import os
import sys

from pipeline.dist_perf_dw.versions import VersionError, asset_table, listing, partition_window
from pipeline.settings import ENV_POSTGRES_URL


def main(args: argparse.Namespace) -> int:
    """The CLI's parsed arguments (asset, trade_date, version, format) -> exit code."""
    from pipeline.resources.postgres import ForeignKeyViolationError, PostgresResource, PostgresUnavailableError
    from pipeline.restore import print_versions

    try:
        table = asset_table(args.asset)
        start, end = partition_window(table, args.trade_date)
        postgres = PostgresResource(url=os.environ.get(ENV_POSTGRES_URL, ""))
        postgres.ensure_schema()  # a database from before versions were kept gets the history tables
        if args.version is not None:
            replaced, number, rows = postgres.restore_partition_version(table, start, end, args.version, "cli")
            kept = f"the replaced live version {replaced} kept" if replaced else "nothing was live"
            print(
                f"{start}: version {args.version} of {args.asset} restored, live as version {number} "
                f"({rows:,} rows); {kept}",
                file=sys.stderr,
            )
        frame = listing(postgres.partition_versions(table, start))
    except (VersionError, PostgresUnavailableError, ForeignKeyViolationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_versions(frame, f"{start}: {frame.height} version(s) of {args.asset}; the live one has no replaced_at",
                   args.format)
    return 0
