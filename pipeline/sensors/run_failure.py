"""The run-failure sensor: what failed and why, where an operator looks.

For every failed run it writes one JSON line to <data dir>/run_failures.jsonl
(the file a pager or a `tail -f` follows), an engine event on the failed run
itself (visible on the run's page in the UI), and a line in the sensor's own
log. It reads only the Dagster instance: no warehouse is touched.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipeline.settings import data_dir

FAILURE_LOG_NAME = "run_failures.jsonl"


def failure_log_path() -> Path:
    """<data dir>/run_failures.jsonl."""
    return data_dir() / FAILURE_LOG_NAME


def _error_text(error) -> str:
    """The error and its causes, innermost last: Dagster wraps user errors in a generic
    'Error occurred while executing op' whose cause is what an operator needs."""
    parts = []
    while error is not None and len(parts) < 5:
        parts.append((error.message or "").strip())
        error = error.cause
    return " <- caused by: ".join(p for p in parts if p)[:4000]


def failure_record(context: dg.RunFailureSensorContext) -> dict:
    run = context.dagster_run
    failed_steps = [
        {
            "step": event.step_key,
            "error": _error_text(event.event_specific_data.error)
            if event.event_specific_data and event.event_specific_data.error
            else "",
        }
        for event in context.get_step_failure_events()
    ]
    run_error = context.failure_event.message or ""
    return {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "partition_range": [
            run.tags.get("dagster/asset_partition_range_start"),
            run.tags.get("dagster/asset_partition_range_end"),
        ]
        if run.tags.get("dagster/asset_partition_range_start")
        else None,
        "assets": sorted(key.to_user_string() for key in (run.asset_selection or [])),
        "backfill_id": run.tags.get("dagster/backfill"),
        "failed_steps": failed_steps,
        "reason": run_error.strip()[:2000],
    }


@dg.run_failure_sensor(
    name="record_run_failures",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
    description="Records every failed run (job, partition, failed steps, errors) in .data/run_failures.jsonl "
    "and on the run's own event log.",
)
def record_run_failures(context: dg.RunFailureSensorContext) -> None:
    """See the module docstring."""
    record = failure_record(context)
    path = failure_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
    steps = (
        ", ".join(
            f"{s['step']}: {s['error'].split(' <- caused by: ')[-1].splitlines()[0] if s['error'] else '?'}"
            for s in record["failed_steps"]
        )
        or record["reason"]
    )
    summary = f"run {record['run_id']} of {record['job']} failed ({record['partition'] or 'no partition'}): {steps}"
    context.log.error(summary)
    context.instance.report_engine_event(
        f"Recorded by record_run_failures in {path}: {steps}",
        context.dagster_run,
    )
