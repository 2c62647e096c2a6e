"""The harness's output: the run's metadata, the markdown table (figures, then targets) and the chart."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.figures import TARGET_PEAK_RSS_MB_1M, TARGET_RATIO_TO_LIMIT, by_name

REPO_ROOT = Path(__file__).resolve().parent.parent

# The left panel's bars, bottom to top: the naive path, the pivot steps, the engine limit.
THROUGHPUT_BARS = (
    "naive.rowwise_to_dicts_insert",
    "pivot.generate",
    "pivot.explode",
    "pivot.load_trades_1d",
    "pivot.rollup",
    "pivot.partition_end_to_end",
    "pivot.dagster_materialize_in_process",
    "pivot.dagster_materialize_multiprocess",
    "limit.chdb_insert_from_arrow",
)


def meta(options: argparse.Namespace) -> dict:
    import psutil

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    return {
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:]),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": commit.stdout.strip(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "trades_per_day": options.trades_per_day,
        "repeats": options.repeats,
    }


# -- markdown -----------------------------------------------------------------------------------


def _num(value, digits=0) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)


def markdown(report: dict) -> str:
    m = report["meta"]
    lines = [
        f"Measured {m['finished_utc']} at commit {m['git_commit']} on {m['cpus']} cores / {m['memory_gb']} GiB, "
        f"`{m['command']}`; median of {m['repeats']} runs (min–max).",
        "",
        "| figure | rows | seconds (min–max) | rows/s | peak RSS MB | × limit | × naive |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in report["figures"]:
        seconds = f"{f['seconds_median']:.3f} ({f['seconds_min']:.3f}–{f['seconds_max']:.3f})"
        name = f["name"]
        if "speedup_vs_raw_group_by" in f:
            name += f" ({f['speedup_vs_raw_group_by']}× faster than raw)"
        if "dagster_overhead_share" in f:
            name += f" (Dagster's own {f['dagster_overhead_seconds']:.1f} s = {f['dagster_overhead_share']:.0%})"
        lines.append(
            f"| {name} | {_num(f['rows'])} | {seconds} | {_num(f['rows_per_s'])} | {_num(f['peak_rss_mb'])} | "
            f"{_num(f['ratio_to_limit'], 2)} | {_num(f['ratio_to_naive'], 1)} |"
        )
    for error in report.get("errors", []):
        lines += ["", f"Failed: {error.splitlines()[0]} (see latest.json)"]
    if report["targets"]:
        lines += ["", "| target | measured | goal | met |", "|---|---:|---|---|"]
        for t in report["targets"]:
            lines.append(f"| {t['target']} | {t['measured']} | {t['goal']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


# -- chart --------------------------------------------------------------------------------------


def _throughput_panel(axes, report: dict) -> None:
    named = by_name(report["figures"])
    bars = [(n, named[n]) for n in THROUGHPUT_BARS if n in named]
    if not bars:
        return
    labels = [n.split(".", 1)[1] for n, _ in bars]
    values = [f["rows_per_s"] / 1e6 for _, f in bars]
    colors = [
        "tab:red" if n.startswith("naive") else "tab:gray" if n.startswith("limit") else "tab:blue" for n, _ in bars
    ]
    axes.barh(labels, values, color=colors)
    for y, v in enumerate(values):
        axes.text(v, y, f" {v:.2f}", va="center", fontsize=8)
    if "limit.chdb_insert_from_arrow" in named:
        limit = named["limit.chdb_insert_from_arrow"]["rows_per_s"] / 1e6
        axes.axvline(limit, color="tab:gray", linestyle="--", label=f"engine limit {limit:.2f} M rows/s")
        axes.axvline(limit * TARGET_RATIO_TO_LIMIT, color="tab:orange", linestyle=":", label="0.8 × limit")
        axes.legend(loc="lower right", fontsize=8)
    axes.set_xscale("log")
    axes.set_xlabel("million rows per second (log)")
    axes.set_title(f"pivot: throughput per stage ({report['meta']['trades_per_day']:,} base trades)")


def _memory_panel(axes, report: dict) -> None:
    memory = sorted((f for f in report["figures"] if f["group"] == "memory"), key=lambda f: f["base_rows"])
    if not memory:
        return
    x = [f["base_rows"] / 1e6 for f in memory]
    axes.plot(x, [f["peak_rss_mb"] / 1024 for f in memory], marker="o", label="peak RSS of the partition")
    axes.plot(
        x,
        [f["baseline_rss_mb"] / 1024 for f in memory],
        marker=".",
        linestyle="--",
        label="process before the partition (imports, chDB)",
    )
    axes.axhline(
        TARGET_PEAK_RSS_MB_1M / 1024,
        color="tab:orange",
        linestyle=":",
        label=f"{TARGET_PEAK_RSS_MB_1M / 1024:.1f} GB target (1M)",
    )
    for f in memory:
        axes.annotate(
            f"{f['rows'] / 1e6:.1f}M rows\n{f['seconds_median']:.0f} s",
            (f["base_rows"] / 1e6, f["peak_rss_mb"] / 1024),
            fontsize=8,
            textcoords="offset points",
            xytext=(4, 6),
        )
    axes.set_ylim(bottom=0)
    axes.set_xlabel("base trades in the partition (millions)")
    axes.set_ylabel("GB")
    axes.set_title("pivot: peak memory against partition size")
    axes.legend(fontsize=8, loc="lower right")


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    _throughput_panel(left, report)
    _memory_panel(right, report)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
