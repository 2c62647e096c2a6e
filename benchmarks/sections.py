"""The harness's sections: each runs its worker task `--repeats` times and turns the runs into figures.

One function per section (`measure_pivot`, `measure_landed`, ...), in the order of SECTIONS;
each takes the parsed options, the `raw` dict it files its runs under and the run's `errors` (a
failure that leaves the other figures standing), and returns its figures.
The worker tasks themselves are in benchmarks/pivot_tasks.py, dagster_task.py, postgres_task.py and
dist_landed_task.py and history_task.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.figures import figure

REPO_ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("pivot", "fx", "landed", "limit", "naive", "dagster", "memory", "postgres", "dist_landed", "history")


def run_worker(task: str, args: dict, env: dict | None = None) -> dict:
    """One measurement in a fresh interpreter; its last stdout line is the JSON result."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", task, json.dumps(args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark task {task} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def repeat(task: str, args: dict, times: int, label: str) -> list[dict]:
    results = []
    for i in range(times):
        started = time.perf_counter()
        results.append(run_worker(task, args))
        print(f"  {label} run {i + 1}/{times}: {time.perf_counter() - started:.1f} s", flush=True)
    return results


def _common(options: argparse.Namespace) -> dict:
    return {"date": options.date, "seed": options.seed, "chunk_rows": options.chunk_rows}


def _day(options: argparse.Namespace) -> dict:
    return {**_common(options), "trades_per_day": options.trades_per_day}


def _median(values, digits: int = 3) -> float:
    return round(statistics.median(values), digits)


# -- pivot --------------------------------------------------------------------------------------


def _pivot_steps(runs: list[dict]) -> list[dict]:
    steps = runs[0]["steps"]
    figures = []
    for step in ("generate", "explode", "load_trades_1d", "rollup"):
        extra = {"base_rows": runs[0]["partition"]["base_rows"]}
        if step == "rollup":
            extra["rollup_rows"] = steps["rollup"]["rollup_rows"]
        figures.append(
            figure(
                f"pivot.{step}",
                steps[step]["rows"],
                [r["steps"][step]["seconds"] for r in runs],
                [r["steps"][step]["peak_rss_mb"] for r in runs],
                group="pivot",
                **extra,
            )
        )
    return figures


def _pivot_partition(runs: list[dict]) -> dict:
    partition = runs[0]["partition"]
    return figure(
        "pivot.partition_end_to_end",
        partition["rows"],
        [r["partition"]["seconds"] for r in runs],
        [r["partition"]["peak_rss_mb"] for r in runs],
        group="pivot",
        base_rows=partition["base_rows"],
        rows_in_table=runs[0]["rows_in_table"],
        seconds_breakdown={
            k: _median(r["partition"][k] for r in runs)
            for k in ("seconds_generate", "seconds_explode_producer", "seconds_load", "seconds_rollup")
        },
    )


def _pivot_queries(runs: list[dict]) -> list[dict]:
    return [
        figure(
            f"query.{query}",
            runs[0]["partition"]["rows"],
            [s for r in runs for s in r["queries"][query]["seconds"]],
            group="query",
            result_rows=runs[0]["queries"][query]["result_rows"],
        )
        for query in runs[0]["queries"]
    ]


def measure_pivot(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """Each pivot step, the partition end to end and the spec queries."""
    print(f"pivot partition, {options.trades_per_day:,} base trades, step by step", flush=True)
    args = {**_day(options), "query_repeats": options.query_repeats}
    runs = raw["pivot"] = repeat("pivot", args, options.repeats, "pivot")
    return [*_pivot_steps(runs), _pivot_partition(runs), *_pivot_queries(runs)]


# -- the other chDB sections --------------------------------------------------------------------


def measure_fx(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """The reporting currency's cost: the same day load without and with the USD columns, each in a
    fresh process on a fresh store, back to back in every repeat. Loading both in one process
    would favour the second (a warmer engine; the share swung from -3 % to +48 %), and the median
    of the pairs' shares is immune to the machine's drift over the section, which the medians of
    each side are not."""
    print(f"fx: the same {options.trades_per_day:,}-trade day load without and with USD, alternating", flush=True)
    runs: dict[bool, list[dict]] = {False: [], True: []}
    for i in range(options.repeats):
        for usd in (False, True):
            started = time.perf_counter()
            runs[usd].append(run_worker("fx_day", {**_day(options), "usd": usd}))
            side = "with USD" if usd else "without"
            print(f"  fx {side} run {i + 1}/{options.repeats}: {time.perf_counter() - started:.1f} s", flush=True)
    raw["fx_without_usd"], raw["fx_with_usd"] = runs[False], runs[True]
    with_usd = [r["seconds"] for r in runs[True]]
    without = [r["seconds"] for r in runs[False]]
    return [
        figure(
            "fx.conversion_cost",
            runs[True][0]["rows"],
            with_usd,
            group="fx",
            seconds_without_usd=_median(without),
            added_share=round(statistics.median(w / o - 1 for w, o in zip(with_usd, without, strict=True)), 4),
            added_share_of_medians=round(statistics.median(with_usd) / statistics.median(without) - 1, 4),
        )
    ]


def measure_landed(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """The same day generated (synthetic) and read from a landed Parquet file, a process each."""
    print(f"landed: the same {options.trades_per_day:,} base trades, generated vs read from Parquet", flush=True)
    by_mode = {}
    for mode in ("synthetic", "landed"):
        runs = raw[f"landed_{mode}"] = repeat(
            "landed", {**_day(options), "mode": mode}, options.repeats, f"landed {mode}"
        )
        extra = {"base_rows": runs[0]["base_rows"]}
        if mode == "landed":
            extra["file_mb"] = runs[0]["file_mb"]
            extra["seconds_check"] = _median(r["seconds_check"] for r in runs)
        by_mode[mode] = figure(
            f"landed.{mode}_day",
            runs[0]["rows"],
            [r["seconds"] for r in runs],
            [r["peak_rss_mb"] for r in runs],
            group="landed",
            seconds_base_trades=_median(r["seconds_base_trades"] for r in runs),
            **extra,
        )
    landed, synthetic = by_mode["landed"], by_mode["synthetic"]
    landed["throughput_vs_synthetic"] = round(landed["rows_per_s"] / synthetic["rows_per_s"], 3)
    landed["peak_rss_vs_synthetic"] = round(landed["peak_rss_mb"] / synthetic["peak_rss_mb"], 3)
    return [synthetic, landed]


def measure_limit(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """The engine alone ingesting the same rows, already in Arrow."""
    print("limit: the engine alone ingesting the same rows", flush=True)
    runs = raw["limit"] = repeat("limit", _day(options), options.repeats, "limit")
    return [
        figure(
            "limit.chdb_insert_from_arrow",
            runs[0]["rows"],
            [r["seconds"] for r in runs],
            [r["peak_rss_mb"] for r in runs],
            group="limit",
            arrow_mb=runs[0]["arrow_mb"],
        )
    ]


def measure_naive(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """A row-wise load of a sample of the day."""
    print(f"naive: row-wise load of {options.naive_rows:,} rows", flush=True)
    runs = raw["naive"] = repeat(
        "naive", {**_day(options), "sample_rows": options.naive_rows}, options.repeats, "naive"
    )
    return [
        figure(
            "naive.rowwise_to_dicts_insert",
            runs[0]["rows"],
            [r["seconds"] for r in runs],
            [r["peak_rss_mb"] for r in runs],
            group="naive",
        )
    ]


def measure_memory(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """Peak RSS of one partition at each of `--memory-sizes`."""
    figures = []
    for size in [int(s) for s in options.memory_sizes.split(",") if s]:
        print(f"memory: one partition of {size:,} base trades", flush=True)
        args = {**_common(options), "trades_per_day": size}
        runs = raw[f"memory_{size}"] = repeat("memory", args, options.repeats, f"{size:,}")
        figures.append(
            figure(
                f"memory.partition_{size}",
                runs[0]["rows"],
                [r["seconds"] for r in runs],
                [r["peak_rss_mb"] for r in runs],
                group="memory",
                base_rows=size,
                baseline_rss_mb=statistics.median(r["baseline_rss_mb"] for r in runs),
            )
        )
    return figures


# -- dagster and dist_perf_dw -------------------------------------------------------------------


def measure_dagster(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """`dagster asset materialize` of one partition; a failure goes to `errors`, not fatal."""
    figures = []
    # The code location's own executor (pipeline/definitions.py: in_process_executor, since the
    # embedded store admits one process), so the run is the one a user gets.
    for executor in ("in_process",):
        print(f"dagster asset materialize, {executor} executor", flush=True)
        try:
            runs = raw[f"dagster_{executor}"] = repeat("dagster", _day(options), options.repeats, executor)
        except RuntimeError as error:  # reported, not fatal: the other figures still stand
            errors.append(f"dagster_materialize_{executor}: {str(error)[-1500:]}")
            print(f"  failed: {str(error)[-500:]}", flush=True)
            continue
        overhead = [r["dagster_overhead_seconds"] for r in runs]
        wall = [r["seconds"] for r in runs]
        figures.append(
            figure(
                f"pivot.dagster_materialize_{executor}",
                runs[0]["rows"],
                wall,
                group="pivot",
                dagster_overhead_seconds=_median(overhead),
                dagster_overhead_share=round(statistics.median(o / w for o, w in zip(overhead, wall)), 4),
                seconds_inside_steps=_median(r["seconds_inside_steps"] for r in runs),
                seconds_resource_setup=_median(r.get("seconds_resource_setup", 0.0) for r in runs),
            )
        )
    return figures


def measure_postgres(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """The dist_perf_dw fact load: the pipeline against bare COPY, pandas to_sql and the ORM."""
    print(f"dist_perf_dw: fact_aum_flows, {options.pg_rows:,} rows", flush=True)
    args = {"rows": options.pg_rows, "naive_rows": options.pg_naive_rows, "seed": options.seed}
    runs = raw["postgres"] = repeat("postgres", args, options.repeats, "postgres")
    return [
        figure(
            f"postgres.{path}",
            runs[0]["paths"][path]["rows"],
            [r["paths"][path]["seconds"] for r in runs],
            group="postgres",
            **{k: v for k, v in runs[0]["paths"][path].items() if k not in ("rows", "seconds")},
        )
        for path in runs[0]["paths"]
    ]


def measure_dist_landed(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """A landed flows date (one Parquet file) through the landed fact_aum_flows load, and the bare COPY
    of the same rows into the same table, back to back in each repeat's process (benchmarks/
    dist_landed_task.py). The headline ratio is the median of the repeats' own ratios (bare COPY
    seconds / pipeline seconds), immune to the machine's drift between repeats."""
    print(f"dist_landed: a landed flows date of {options.dist_landed_rows:,} rows (Parquet) vs bare COPY", flush=True)
    args = {"rows": options.dist_landed_rows, "seed": options.seed}
    runs = raw["dist_landed"] = repeat("dist_landed", args, options.repeats, "dist_landed")
    pipeline = [r["pipeline"]["seconds"] for r in runs]
    bare = [r["bare_copy"]["seconds"] for r in runs]
    profile = {k: _median(r["profile"][k] for r in runs) for k in runs[0]["profile"]}
    profile["transaction_seconds"] = _median(r["pipeline"]["transaction_seconds"] for r in runs)
    profile["client_cpu_seconds"] = _median(r["pipeline"]["client_cpu_seconds"] for r in runs)
    return [
        figure(
            "dist_landed.pipeline_flows_date",
            runs[0]["pipeline"]["rows"],
            pipeline,
            [r["pipeline"]["peak_rss_mb"] for r in runs],
            group="dist_landed",
            file_rows=runs[0]["file_rows"],
            file_mb=runs[0]["file_mb"],
            inferred_advisors=runs[0]["inferred_advisors"],
            ratio_to_bare_copy=round(statistics.median(b / p for b, p in zip(bare, pipeline, strict=True)), 3),
            seconds_breakdown=profile,
        ),
        figure("dist_landed.bare_copy", runs[0]["bare_copy"]["rows"], bare, group="dist_landed"),
    ]


def measure_history(options: argparse.Namespace, raw: dict, errors: list[str]) -> list[dict]:
    """A year of trade dates (benchmarks/history_task.py), once: a backfill of `--history-days` sessions is
    minutes, and its figures are counts and one-shot times, not medians of a steady state."""
    print(f"history: {options.history_days} trading days at {options.history_trades:,} trades a day, one "
          "--partition-range run; settle, the year's range queries, a restore", flush=True)
    args = {"days": options.history_days, "trades_per_day": options.history_trades,
            "day_trades": options.trades_per_day, "query_repeats": options.query_repeats}
    (run,) = raw["history"] = repeat("history", args, 1, "history")
    figures = [
        figure("history.backfill_day", run["trades_per_day"], [run["backfill_seconds_per_day"]], group="history",
               days=run["days"], calendar_days=run["calendar_days"],
               backfill_seconds=round(run["backfill_seconds"], 1)),
        figure("history.settle", run["dates_settled"], [run["settle_seconds"]], group="history",
               parts_before=run["parts_before_settle"], parts_after=run["parts_after_settle"]),
        figure("history.restore_version", run["restored_rows"], [run["restore_seconds"]], group="history"),
    ]
    for name, query in run["queries"].items():
        for route in ("rollup", "fact"):
            figures.append(figure(
                f"history.year_{name}_from_{route}", query["rows"], [query[f"{route}_seconds"]], group="history",
                served_from=query["rollup_table"] if route == "rollup" else "pivot.trades_1d",
                answers_agree=query["answers_agree"],
            ))
    figures.append(figure(
        "history.parts_per_year", run["days"], [0.0], group="history",
        day_trades=run["day_trades"], parts_per_day=run["parts_per_day_at_day_trades"],
        unsettled=run["year_parts_unsettled_at_day_trades"], settled=run["year_parts_settled_at_day_trades"],
        max_parts_in_total=run["max_parts_in_total"], parts_to_throw_insert=run["parts_to_throw_insert"],
    ))
    return figures


MEASURES = {
    "pivot": measure_pivot,
    "fx": measure_fx,
    "landed": measure_landed,
    "limit": measure_limit,
    "naive": measure_naive,
    "dagster": measure_dagster,
    "memory": measure_memory,
    "postgres": measure_postgres,
    "dist_landed": measure_dist_landed,
    "history": measure_history,
}
assert tuple(MEASURES) == SECTIONS


def measure_sections(options: argparse.Namespace) -> tuple[list[dict], dict, list[str]]:
    """The sections of `--only`, in the order of SECTIONS: (figures, raw runs, errors)."""
    sections = set(options.only.split(","))
    unknown = sections - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    figures: list[dict] = []
    raw: dict = {}
    errors: list[str] = []
    for section in SECTIONS:
        if section not in sections:
            continue
        figures += MEASURES[section](options, raw, errors)
    return figures, raw, errors
