"""The harness's figure records: one per measurement, the ratios between them, and the issue's targets.

`figure` builds a record from a section's repeated runs; `add_ratios` sets each one's throughput
against the engine limit and the naive path (or, for dist_perf_dw, bare COPY and pandas to_sql);
`check_targets` holds the records to the TARGET_* goals below.
"""

from __future__ import annotations

import argparse
import statistics

# The targets, checked against every run.
TARGET_RATIO_TO_LIMIT = 0.8
TARGET_RATIO_TO_NAIVE = 20
TARGET_FX_COST_SHARE = 0.05  # issue 12: FX conversion adds at most 5 % to a day
TARGET_PEAK_RSS_MB_1M = 2.0 * 1024  # issue 18, item 6 (2.5 GB before)
TARGET_PG_RATIO_TO_COPY = 0.8
TARGET_PG_RATIO_TO_TO_SQL = 10
TARGET_ROLLUP_SPEEDUP = 10
TARGET_DAGSTER_OVERHEAD_SHARE = 0.10
TARGET_LANDED_THROUGHPUT_RATIO = 0.9  # issue 11: a landed Parquet day >= 0.9 x the synthetic path
TARGET_LANDED_RSS_RATIO = 1.1  # and its peak RSS within 10 % of it
TARGET_DIST_LANDED_RATIO_TO_COPY = 0.8  # issue 17: a landed flows date >= 0.8 x bare COPY of its rows
TARGET_DIST_LANDED_PEAK_RSS_MB = 1.5 * 1024  # at 1M rows, peak RSS <= 1.5 GB
DIST_LANDED_TARGET_ROWS = 1_000_000


def figure(name: str, rows: int, seconds: list[float], peak_rss_mb: list[float] | None = None, **extra) -> dict:
    median = statistics.median(seconds)
    out = {
        "name": name,
        "rows": int(rows),
        "runs": len(seconds),
        "seconds_median": round(median, 4),
        "seconds_min": round(min(seconds), 4),
        "seconds_max": round(max(seconds), 4),
        "rows_per_s": round(rows / median) if median > 0 else None,
        "peak_rss_mb": round(statistics.median(peak_rss_mb), 1) if peak_rss_mb else None,
        "ratio_to_limit": None,
        "ratio_to_naive": None,
    }
    out.update(extra)
    return out


def by_name(figures: list[dict]) -> dict[str, dict]:
    return {f["name"]: f for f in figures}


# -- ratios -------------------------------------------------------------------------------------


def add_ratios(figures: list[dict]) -> None:
    named = by_name(figures)
    limit = named.get("limit.chdb_insert_from_arrow")
    naive = named.get("naive.rowwise_to_dicts_insert")
    for f in figures:
        if f["group"] in ("pivot", "limit", "naive") and f["name"] not in ("pivot.generate",):
            if limit and f["rows_per_s"]:
                f["ratio_to_limit"] = round(f["rows_per_s"] / limit["rows_per_s"], 3)
            if naive and f["rows_per_s"]:
                f["ratio_to_naive"] = round(f["rows_per_s"] / naive["rows_per_s"], 1)
    copy, to_sql = named.get("postgres.bare_copy"), named.get("postgres.pandas_to_sql")
    for f in figures:
        if f["group"] == "postgres" and f["rows_per_s"]:
            if copy:
                f["ratio_to_limit"] = round(f["rows_per_s"] / copy["rows_per_s"], 3)
            if to_sql:
                f["ratio_to_naive"] = round(f["rows_per_s"] / to_sql["rows_per_s"], 1)
    landed_copy, landed = named.get("dist_landed.bare_copy"), named.get("dist_landed.pipeline_flows_date")
    if landed_copy and landed and landed["rows_per_s"]:
        landed["ratio_to_limit"] = round(landed["rows_per_s"] / landed_copy["rows_per_s"], 3)
    rollup, raw = named.get("query.rollup"), named.get("query.rollup_raw_group_by")
    if rollup and raw:
        rollup["speedup_vs_raw_group_by"] = round(raw["seconds_median"] / rollup["seconds_median"], 1)


# -- targets ------------------------------------------------------------------------------------


def _target(name: str, measured, goal: str, met) -> dict:
    return {"target": name, "measured": measured, "goal": goal, "met": bool(met)}


def _pivot_targets(named: dict[str, dict]) -> list[dict]:
    targets = []
    e2e = named.get("pivot.partition_end_to_end")
    if e2e and e2e["ratio_to_limit"] is not None:
        targets.append(
            _target(
                "pivot partition end to end vs engine limit",
                e2e["ratio_to_limit"],
                f">= {TARGET_RATIO_TO_LIMIT}",
                e2e["ratio_to_limit"] >= TARGET_RATIO_TO_LIMIT,
            )
        )
    if e2e and e2e["ratio_to_naive"] is not None:
        targets.append(
            _target(
                "pivot partition end to end vs row-wise",
                e2e["ratio_to_naive"],
                f">= {TARGET_RATIO_TO_NAIVE}",
                e2e["ratio_to_naive"] >= TARGET_RATIO_TO_NAIVE,
            )
        )
    fx = named.get("fx.conversion_cost")
    if fx:
        targets.append(
            _target(
                "reporting currency: added share of the day load",
                fx["added_share"],
                f"<= {TARGET_FX_COST_SHARE}",
                fx["added_share"] <= TARGET_FX_COST_SHARE,
            )
        )
    return targets


def _memory_targets(figures: list[dict]) -> list[dict]:
    targets = []
    memory = {f["base_rows"]: f for f in figures if f["group"] == "memory"}
    if 1_000_000 in memory:
        targets.append(
            _target(
                "peak RSS, 1M-base-trade partition (MB)",
                memory[1_000_000]["peak_rss_mb"],
                f"<= {TARGET_PEAK_RSS_MB_1M:.0f}",
                memory[1_000_000]["peak_rss_mb"] <= TARGET_PEAK_RSS_MB_1M,
            )
        )
    if len(memory) >= 2:
        # Flat: the largest partition peaks within 20 % of the next smaller one.
        sizes = sorted(memory)
        smaller, largest = memory[sizes[-2]], memory[sizes[-1]]
        ratio = largest["peak_rss_mb"] / smaller["peak_rss_mb"]
        targets.append(
            _target(
                f"peak RSS {sizes[-1]:,} / {sizes[-2]:,} base trades", round(ratio, 2), "flat (<= 1.2)", ratio <= 1.2
            )
        )
    return targets


def _postgres_targets(named: dict[str, dict]) -> list[dict]:
    targets = []
    pipeline = named.get("postgres.pipeline_replace_partition")
    if pipeline and pipeline["ratio_to_limit"] is not None:
        targets.append(
            _target(
                "dist_perf_dw fact load vs bare COPY",
                pipeline["ratio_to_limit"],
                f">= {TARGET_PG_RATIO_TO_COPY}",
                pipeline["ratio_to_limit"] >= TARGET_PG_RATIO_TO_COPY,
            )
        )
    if pipeline and pipeline["ratio_to_naive"] is not None:
        targets.append(
            _target(
                "dist_perf_dw fact load vs pandas to_sql",
                pipeline["ratio_to_naive"],
                f">= {TARGET_PG_RATIO_TO_TO_SQL}",
                pipeline["ratio_to_naive"] >= TARGET_PG_RATIO_TO_TO_SQL,
            )
        )
    return targets


def _rollup_targets(named: dict[str, dict]) -> list[dict]:
    rollup = named.get("query.rollup")
    if not (rollup and "speedup_vs_raw_group_by" in rollup):
        return []
    return [
        _target(
            "rollup query vs the same GROUP BY on the raw partition",
            rollup["speedup_vs_raw_group_by"],
            f">= {TARGET_ROLLUP_SPEEDUP}",
            rollup["speedup_vs_raw_group_by"] >= TARGET_ROLLUP_SPEEDUP,
        )
    ]


def _landed_targets(named: dict[str, dict]) -> list[dict]:
    landed = named.get("landed.landed_day")
    if not landed:
        return []
    return [
        _target(
            "landed Parquet day throughput / synthetic day",
            landed["throughput_vs_synthetic"],
            f">= {TARGET_LANDED_THROUGHPUT_RATIO}",
            landed["throughput_vs_synthetic"] >= TARGET_LANDED_THROUGHPUT_RATIO,
        ),
        _target(
            "landed Parquet day peak RSS / synthetic day",
            landed["peak_rss_vs_synthetic"],
            f"<= {TARGET_LANDED_RSS_RATIO}",
            landed["peak_rss_vs_synthetic"] <= TARGET_LANDED_RSS_RATIO,
        ),
    ]


def _dist_landed_targets(named: dict[str, dict]) -> list[dict]:
    landed = named.get("dist_landed.pipeline_flows_date")
    if not landed:
        return []
    targets = [
        _target(
            "landed flows date vs bare COPY (median of the repeats' ratios)",
            landed["ratio_to_bare_copy"],
            f">= {TARGET_DIST_LANDED_RATIO_TO_COPY}",
            landed["ratio_to_bare_copy"] >= TARGET_DIST_LANDED_RATIO_TO_COPY,
        )
    ]
    if landed["rows"] >= DIST_LANDED_TARGET_ROWS:
        targets.append(
            _target(
                f"landed flows date peak RSS (MB), {landed['rows']:,} rows",
                landed["peak_rss_mb"],
                f"<= {TARGET_DIST_LANDED_PEAK_RSS_MB:.0f}",
                landed["peak_rss_mb"] <= TARGET_DIST_LANDED_PEAK_RSS_MB,
            )
        )
    return targets


def _history_targets(named: dict[str, dict]) -> list[dict]:
    parts = named.get("history.parts_per_year")
    if not parts:
        return []
    targets = [
        _target(
            f"a settled year's active parts at {parts['day_trades']:,} trades/day vs max_parts_in_total (50 % = WARN)",
            parts["settled"],
            f"< {parts['max_parts_in_total'] // 2:,}",
            parts["settled"] < parts["max_parts_in_total"] // 2,
        )
    ]
    for name in ("rollup", "top_level"):
        rollup, fact = named.get(f"history.year_{name}_from_rollup"), named.get(f"history.year_{name}_from_fact")
        if rollup and fact:
            targets.append(_target(
                f"the year's {name} query: served from the rollup, same answer as the fact, not slower",
                f"{rollup['served_from']}, agree={rollup['answers_agree']}, "
                f"{rollup['seconds_median']:.3f} s vs {fact['seconds_median']:.3f} s",
                "pivot.trades_1d_rollup, agree=True, <=",
                rollup["served_from"] == "pivot.trades_1d_rollup" and rollup["answers_agree"]
                and rollup["seconds_median"] <= fact["seconds_median"],
            ))
    return targets


def _dagster_targets(named: dict[str, dict]) -> list[dict]:
    targets = []
    for executor in ("in_process",):
        run = named.get(f"pivot.dagster_materialize_{executor}")
        if run:
            targets.append(
                _target(
                    f"Dagster overhead share of the partition's wall time ({executor} executor)",
                    run["dagster_overhead_share"],
                    f"< {TARGET_DAGSTER_OVERHEAD_SHARE}",
                    run["dagster_overhead_share"] < TARGET_DAGSTER_OVERHEAD_SHARE,
                )
            )
    return targets


def check_targets(figures: list[dict], options: argparse.Namespace) -> list[dict]:
    named = by_name(figures)
    return [
        *_pivot_targets(named),
        *_memory_targets(figures),
        *_postgres_targets(named),
        *_rollup_targets(named),
        *_landed_targets(named),
        *_dist_landed_targets(named),
        *_history_targets(named),
        *_dagster_targets(named),
    ]
