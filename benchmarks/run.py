"""The benchmark harness: the pivot pipeline against the engine's own limit and the naive path.

    python -m benchmarks.run                                   # default scale, a few minutes
    python -m benchmarks.run --trades-per-day 1000000 \\
        --memory-sizes 100000,1000000,3000000 --pg-rows 1000000 \\
        --dist-landed-rows 1000000                              # the README's figures

One run measures, on the same data and this machine: each pivot step (generate,
explode, load trades_1d, rebuild the rollup) and one partition end to end,
in-process and through `dagster asset materialize`; the chDB engine ingesting the
very same rows with nothing around it (the limit); a row-wise load (the naive
path); peak memory of a partition at several sizes; the spec queries; and the
dist_perf_dw fact load against a bare COPY, pandas to_sql and the ORM; a landed dist_perf_dw flows
date (Parquet) end to end against the bare COPY of the same rows.
Every figure is repeated (`--repeats`, each in a fresh subprocess) and reported
as median with min/max. Results go to <out>/latest.json, latest.md and latest.png.

Where things are: this module is the CLI (options, then measure and write); benchmarks/sections.py
measures each section; benchmarks/figures.py holds the figure records, ratios and targets;
benchmarks/report.py writes the table and the chart; benchmarks/worker.py is the subprocess entry
point, running a task of benchmarks/pivot_tasks.py, dagster_task.py or postgres_task.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.figures import add_ratios, check_targets
from benchmarks.report import chart, markdown, meta
from benchmarks.sections import REPO_ROOT, SECTIONS, measure_sections
from pipeline.pivot.explosion import DEFAULT_CHUNK_ROWS

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--trades-per-day",
        type=int,
        default=100_000,
        help="base trades of the measured partition (each explodes to ~20 rows); default %(default)s",
    )
    parser.add_argument(
        "--memory-sizes",
        default="25000,100000,300000",
        help="base trades per partition for the memory curve, comma-separated; default %(default)s",
    )
    parser.add_argument(
        "--pg-rows", type=int, default=200_000, help="fact_aum_flows rows of the dist_perf_dw load; default %(default)s"
    )
    parser.add_argument(
        "--dist-landed-rows",
        type=int,
        default=200_000,
        help="flows of the landed dist_perf_dw date (one Parquet file); default %(default)s",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=250,
        help="trading days of the history section's backfill (one --partition-range run); default %(default)s",
    )
    parser.add_argument(
        "--history-trades", type=int, default=2_000, help="base trades per day of that backfill; default %(default)s"
    )
    parser.add_argument(
        "--naive-rows", type=int, default=50_000, help="rows of the row-wise sample (it is slow); default %(default)s"
    )
    parser.add_argument(
        "--pg-naive-rows",
        type=int,
        default=50_000,
        help="rows of the pandas to_sql and ORM samples; default %(default)s",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per figure (median and spread); default %(default)s"
    )
    parser.add_argument("--query-repeats", type=int, default=5, help="runs per query; default %(default)s")
    parser.add_argument(
        "--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows per insert block; default %(default)s"
    )
    # A day every venue holds a full session (2024-01-15, the spec's example date, is a US holiday).
    parser.add_argument("--date", default="2024-01-16", help="the trade date measured; default %(default)s")
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"sections to run, comma-separated, of {','.join(SECTIONS)}; default all",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory; default %(default)s")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="measure nothing: rebuild ratios, targets, table and chart from an earlier latest.json",
    )
    return parser.parse_args(argv)


def measure(options: argparse.Namespace) -> dict:
    figures, raw, errors = measure_sections(options)
    add_ratios(figures)
    return {
        "meta": meta(options),
        "figures": figures,
        "targets": check_targets(figures, options),
        "errors": errors,
        "raw": raw,
    }


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    started = time.perf_counter()
    if options.from_json:
        report = json.loads(options.from_json.read_text())
        add_ratios(report["figures"])
        report["targets"] = check_targets(report["figures"], options)
    else:
        report = measure(options)
        report["meta"]["harness_seconds"] = round(time.perf_counter() - started, 1)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "latest.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    table = markdown(report)
    (options.out / "latest.md").write_text(table)
    if not options.no_chart:
        chart(report, options.out / "latest.png")
    print(table)
    print(f"wrote {options.out / 'latest.json'} in {report['meta']['harness_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
