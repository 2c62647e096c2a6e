"""The worker task `dagster`: `dagster asset materialize` of one pivot partition, timed from outside
and split, from the run's event log, into the pipeline's work and Dagster's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.measuring import REPO_ROOT, temporary_directory


def _run_config(args: dict) -> dict:
    config = {
        "ops": {"pivot__trades_1d": {"config": {"trades_per_day": args["trades_per_day"]}}},
        "resources": {"generation": {"config": {"seed": args["seed"]}}},
    }
    if args.get("executor"):
        # The default multi_or_in_process_executor picks by run config: one process per step,
        # or every step in the run's own process.
        config["execution"] = {"config": {args["executor"]: {}}}
    return config


def _materialize(tmp: Path, home: Path, args: dict) -> float:
    """The reference tables (FX rates too: the day is loaded in USD as well), then the timed
    partition run (fact + rollup): its wall seconds."""
    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        PIVOT_CLICKHOUSE_URL=f"chdb://{tmp / 'clickhouse'}",
        PIVOT_DATA_DIR=str(tmp / "data"),
    )
    materialize = [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "pipeline.definitions"]

    def run(extra):
        completed = subprocess.run(materialize + extra, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        if completed.returncode:
            raise RuntimeError(f"{extra} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")

    run(["--select", "pivot/instruments,pivot/constituents,pivot/fx_rates"])
    started = time.perf_counter()
    run(
        [
            "--select",
            "pivot/trades_1d,pivot/trades_1d_rollup",
            "--partition",
            args["date"],
            "--config-json",
            json.dumps(_run_config(args)),
        ]
    )
    return time.perf_counter() - started


def _event_times(instance) -> tuple[dict[str, dict], dict[str, float]]:
    """The last run's step start/end and resource-init timestamps, from its event log."""
    run_record = instance.get_run_records(limit=1)[0]
    steps: dict[str, dict] = {}
    resource_init: dict[str, float] = {}
    for event in instance.all_logs(run_record.dagster_run.run_id):
        if event.dagster_event is None:
            continue
        kind = event.dagster_event.event_type_value
        if kind in ("RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS"):
            resource_init[kind] = event.timestamp
        if event.step_key is None:
            continue
        if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            steps.setdefault(event.step_key, {})[kind] = event.timestamp
    return steps, resource_init


def task_dagster(args: dict) -> dict:
    """`dagster asset materialize` of one partition (fact + rollup + their checks), as a user runs it,
    with the code location's executor, or `executor` (in_process / multiprocess) where the code
    location leaves Dagster's default multi_or_in_process_executor in place."""
    import dagster as dg

    with temporary_directory("dagster") as tmp:
        home = tmp / "dagster_home"
        home.mkdir()
        wall = _materialize(tmp, home, args)
        os.environ["DAGSTER_HOME"] = str(home)
        with dg.DagsterInstance.get() as instance:
            steps, resource_init = _event_times(instance)
            materialization = instance.get_latest_materialization_event(dg.AssetKey(["pivot", "trades_1d"]))
            metadata = materialization.asset_materialization.metadata
            rows = metadata["dagster/partition_row_count"].value
        step_seconds = {
            key: s.get("STEP_SUCCESS", s.get("STEP_FAILURE", 0)) - s["STEP_START"]
            for key, s in steps.items()
            if "STEP_START" in s
        }
        # Pipeline work = time inside the steps (generation, loads, rollup, checks) and the
        # resources' setup before them (opening the store, applying the DDL: the pipeline's own
        # code, which any runner would pay); Dagster's own = the rest (process start with the
        # imports of Dagster and of the code location, run bookkeeping, process exit).
        inside_steps = sum(step_seconds.values())
        resource_setup = resource_init.get("RESOURCE_INIT_SUCCESS", 0.0) - resource_init.get(
            "RESOURCE_INIT_STARTED", 0.0
        )
        return {
            "seconds": wall,
            "rows": rows,
            "step_seconds": step_seconds,
            "seconds_inside_steps": inside_steps,
            "seconds_resource_setup": resource_setup,
            "dagster_overhead_seconds": wall - inside_steps - resource_setup,
        }
