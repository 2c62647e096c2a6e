"""`make demo`: load both warehouses for a few recent trade dates and print the answers.

Runs on the embedded defaults (chDB under .data/clickhouse, the project's own
PostgreSQL under .data/postgres) unless PIVOT_CLICKHOUSE_URL / PIVOT_POSTGRES_URL
say otherwise, and records every run in the project's own Dagster instance
(`dagster.yaml` in $DAGSTER_HOME, PostgreSQL storage, set up by
`pipeline.instance.prepare_instance`): the instance `make ui` opens, so the UI
shows every asset the demo materialized, with its metadata.

The output is one line per step (asset or check, partition, rows, seconds) and
the answers; Dagster's own log lines are printed only when a step fails.
"""

import argparse
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

UI_URL = "http://127.0.0.1:3000"
DEMO_DAYS = 3
# Dagster's run log is complete in the instance (the UI shows it); on the terminal it would bury
# the progress lines, so the console logger only speaks for errors.
QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# Asset pages worth opening after the demo (the UI's asset catalog, by key).
PAGES_TO_OPEN = ("pivot/trades_1d", "pivot/trades_1d_rollup", "dist_perf_dw/fact_aum_flows")
# Row-count metadata keys, Dagster's own first.
ROW_COUNT_KEYS = ("dagster/partition_row_count", "dagster/row_count", "rows")
FAILED_LOG_LINES = 15
SOURCE_TAG, PROCESS_TAG = "pivot/source", "pivot/demo_process"
LABEL_WIDTH = 72  # the longest check label, "check dist_perf_dw/fact_wholesaler_comp:comp_net_flows_match_aum_flows"


class DemoStepFailed(RuntimeError):
    """A demo run failed; the message names the run and how to read its log."""


@dataclass(frozen=True)
class StepLine:
    """What one step of a demo run did: an asset materialized or a check evaluated."""

    label: str
    partition: str | None
    rows: int | None
    seconds: float | None
    outcome: str = ""

    def render(self) -> str:
        result = f"{self.rows:>12,} rows" if self.rows is not None else f"{self.outcome:>17}"
        seconds = f"{self.seconds:6.1f} s" if self.seconds is not None else ""
        return f"  {self.label:<{LABEL_WIDTH}} {self.partition or '-':<10} {result} {seconds}".rstrip()


def _quiet_dagster() -> None:
    """No Dagster chatter on the terminal: its API-status warnings (beta, preview, superseded,
    deprecated: `dg check defs` and the tests show them to developers) and its python loggers below ERROR."""
    import dagster as dg

    for category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    for name in ("dagster", "dagster_postgres", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


def row_count(metadata: dict) -> int | None:
    for key in ROW_COUNT_KEYS:
        if key in metadata:
            value = metadata[key]
            return int(getattr(value, "value", value))
    return None


def step_lines(instance, run_id: str) -> list[StepLine]:
    """One line per materialization and check evaluation of the run, with its step's duration."""
    import dagster as dg

    records = instance.all_logs(run_id)
    durations = {
        r.dagster_event.step_key: r.dagster_event.event_specific_data.duration_ms / 1000
        for r in records
        if r.dagster_event and r.dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS
    }
    lines = []
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            lines.append(
                StepLine(
                    materialization.asset_key.to_user_string(),
                    materialization.partition,
                    row_count(materialization.metadata),
                    durations.get(event.step_key),
                )
            )
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            lines.append(
                StepLine(
                    f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
                    getattr(evaluation, "partition", None),
                    None,
                    durations.get(event.step_key),
                    "passed" if evaluation.passed else f"FAILED ({evaluation.severity.value.lower()})",
                )
            )
    return lines


def _error_chain(error) -> list[str]:
    """An error and its causes, one message each; the stack traces stay in the UI."""
    messages = []
    while error is not None:
        messages.append(error.message.strip())
        error = error.cause
    return messages


def failure_report(instance, run_id: str) -> str:
    """The failed run's own log (its last lines, one line per entry), its errors, and where to read it all."""
    import dagster as dg

    lines, errors = [], []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        failure = (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE)
        if event is not None and event.event_type in failure:
            error = getattr(event.event_specific_data, "error", None)
            if error is not None and not (errors and event.event_type == dg.DagsterEventType.RUN_FAILURE):
                errors.append(f"  {event.step_key or 'run'}: " + "\n    caused by: ".join(_error_chain(error)))
        if record.level < logging.INFO:
            continue
        stamp = time.strftime("%H:%M:%S", time.localtime(record.timestamp))
        message = record.user_message.strip().splitlines()[0] if record.user_message.strip() else ""
        lines.append(f"  {stamp} {logging.getLevelName(record.level):<7} {record.step_key or '-'}: {message}")
    shown = "\n".join(lines[-FAILED_LOG_LINES:])
    return (
        f"\nRun {run_id} failed. Dagster's log of it (last {min(len(lines), FAILED_LOG_LINES)} lines):\n"
        f"{shown}\n\nErrors:\n" + "\n".join(errors) + "\n\n"
        f"The full log with stack traces: `make ui`, then Runs → {run_id}\n  ({UI_URL}/runs/{run_id})"
    )


def _process_tag() -> str:
    """This process, as "pid@start time": a pid alone may be reused."""
    import psutil

    return f"{os.getpid()}@{psutil.Process().create_time():.0f}"


def _process_alive(tag: str) -> bool:
    import psutil

    pid, _, started = tag.partition("@")
    try:
        return f"{psutil.Process(int(pid)).create_time():.0f}" == started
    except (psutil.Error, ValueError):
        return False


def release_abandoned_demo_runs(instance) -> list[str]:
    """Mark failed the demo runs whose process died mid-run (killed, machine rebooted), and free their
    pool slots: in-process runs have no daemon watching them, and a slot held by a dead run would
    block the `clickhouse` pool (1 slot on the embedded store) for every later run."""
    import dagster as dg

    released = []
    unfinished = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]
    for run in instance.get_runs(dg.RunsFilter(statuses=unfinished, tags={SOURCE_TAG: "demo"})):
        if _process_alive(run.tags.get(PROCESS_TAG, "")):
            continue
        instance.report_run_failed(run, "The demo process ended before the run finished.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def recent_trade_dates(count: int) -> list[str]:
    """The last `count` complete trade dates that are NYSE business days (yesterday and before, in the
    partitions' timezone): a weekend or a holiday would load an empty day."""
    from datetime import date

    from pipeline.dist_perf_dw.calendar import is_business_day
    from pipeline.partitions import trade_date_partitions

    keys = trade_date_partitions.get_partition_keys()
    return [key for key in keys[-(count * 2 + 7) :] if is_business_day(date.fromisoformat(key))][-count:]


def months_of(dates: list[str]) -> list[str]:
    """Compensation is monthly and a month is a partition only once it is over: the complete months
    of the demo dates, or else the last complete month."""
    from pipeline.partitions import month_partitions

    complete_months = month_partitions.get_partition_keys()
    return sorted({day[:8] + "01" for day in dates} & set(complete_months)) or complete_months[-1:]


def stage_definitions(defs, partitions_def) -> list:
    """The assets partitioned by `partitions_def`, and the checks that run with them (those whose
    assets are all among them); checks evaluated by a sensor (freshness) stay out of the runs."""
    import dagster as dg

    assets = [
        asset
        for asset in defs.assets
        if isinstance(asset, dg.AssetsDefinition) and asset.partitions_def == partitions_def
    ]
    keys = {key for asset in assets for key in asset.keys}
    checks = [
        check
        for check in defs.asset_checks
        if check.partitions_def == partitions_def and {k.asset_key for k in check.check_keys} <= keys
    ]
    return assets + checks


def run_demo(instance, dates: list[str], trades_per_day: int, out=print) -> list[StepLine]:
    """Materialize reference data, `dates` and their months on `instance`, printing one line per step.

    Raises DemoStepFailed (with the run's log) when a run fails."""
    import dagster as dg

    from pipeline.definitions import defs
    from pipeline.partitions import month_partitions, trade_date_partitions

    def partitioned_by(partitions_def) -> list[dg.AssetsDefinition]:
        return stage_definitions(defs, partitions_def)

    trades_config = {"ops": {"pivot__trades_1d": {"config": {"trades_per_day": trades_per_day}}}}
    stages = [("Reference data and dimensions", partitioned_by(None), None, {})]
    stages += [(f"Trade date {day}", partitioned_by(trade_date_partitions), day, trades_config) for day in dates]
    stages += [(f"Month {month}", partitioned_by(month_partitions), month, {}) for month in months_of(dates)]

    for run_id in release_abandoned_demo_runs(instance):
        out(f"(marked failed: run {run_id} of an earlier demo that was stopped mid-run)")
    done: list[StepLine] = []
    for title, assets, partition_key, run_config in stages:
        if not assets:
            continue
        out(f"{title}:", flush=True)
        result = dg.materialize(
            assets,
            resources=defs.resources,
            instance=instance,
            partition_key=partition_key,
            run_config={**run_config, **QUIET_LOGGERS},
            raise_on_error=False,
            tags={SOURCE_TAG: "demo", PROCESS_TAG: _process_tag()},
        )
        lines = step_lines(instance, result.run_id)
        for line in lines:
            out(line.render(), flush=True)
        done += lines
        if not result.success:
            raise DemoStepFailed(failure_report(instance, result.run_id))
    return done


def _print_frame(title: str, frame, rows: int = 8) -> None:
    import polars as pl

    print(f"\n=== {title} ({frame.height:,} rows; first {min(rows, frame.height)})")
    with pl.Config(
        tbl_rows=rows,
        tbl_cols=-1,
        tbl_width_chars=160,
        float_precision=2,
        thousands_separator=True,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
    ):
        print(frame.head(rows))


def print_pivot_answers(clickhouse, trade_date: str) -> None:
    from pipeline.pivot.queries import ROLLUP, SPEC_QUERIES, USD_VIEWS, for_date

    for name, sql in SPEC_QUERIES.items():
        _print_frame(
            f"pivot: {name.replace('_', ' ')} on {trade_date}", clickhouse.query_polars(for_date(sql, trade_date))
        )
    # The spec's measures are in each row's own currency; these two add up across currencies.
    for name, sql in USD_VIEWS.items():
        _print_frame(
            f"pivot: {name.removesuffix('_usd').replace('_', ' ')} in USD on {trade_date}",
            clickhouse.query_polars(for_date(sql, trade_date)),
        )
    _print_frame(
        "pivot: rollup (the spec's query, every loaded date), largest notional first",
        clickhouse.query_polars(ROLLUP + "ORDER BY total_notional DESC"),
    )


def next_steps() -> str:
    pages = "\n".join(f"  {UI_URL}/assets/{key}" for key in PAGES_TO_OPEN)
    return (
        f"Next:\n  1. `make ui`, then open {UI_URL} (runs, materializations and checks of this demo are there).\n"
        f"  2. The asset pages, each with its row counts and metadata per partition:\n{pages}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load both warehouses for recent dates and print the answers.")
    parser.add_argument("--days", type=int, default=DEMO_DAYS, help="how many recent trade dates to load")
    parser.add_argument("--trades-per-day", type=int, default=20_000, help="base trades per date")
    parser.add_argument("--no-answers", action="store_true", help="load only; skip the query answers")
    args = parser.parse_args(argv)

    _quiet_dagster()
    started = time.perf_counter()
    from pipeline.instance import prepare_instance
    from pipeline.settings import ENV_DAGSTER_STORAGE_URL, data_dir

    # The instance of `make ui`: dagster.yaml in $DAGSTER_HOME, storage on the project's PostgreSQL.
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home").resolve()
    env = prepare_instance(home)
    os.environ.update(DAGSTER_HOME=env["DAGSTER_HOME"], **{ENV_DAGSTER_STORAGE_URL: env[ENV_DAGSTER_STORAGE_URL]})

    import dagster as dg

    from pipeline.definitions import defs

    dates = recent_trade_dates(args.days)
    print(
        f"Loading reference data and {len(dates)} trade date(s), {dates[0]} … {dates[-1]}, at "
        f"{args.trades_per_day:,} trades a day; Dagster instance: {home}",
        flush=True,
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        try:
            run_demo(instance, dates, args.trades_per_day)
        except DemoStepFailed as failure:
            print(failure, file=sys.stderr)
            return 1
    loaded = time.perf_counter() - started

    if not args.no_answers:
        from pipeline.dist_perf_dw.report import print_dist_perf_dw_report

        # build_resources resolves the EnvVar fields (PIVOT_CLICKHOUSE_URL, PIVOT_POSTGRES_URL) as a run does.
        with dg.build_resources({key: defs.resources[key] for key in ("clickhouse", "postgres")}) as stores:
            print_pivot_answers(stores.clickhouse, dates[-1])
            print_dist_perf_dw_report(stores.postgres.get_engine(), dates, months_of(dates))
    print(f"\nLoaded {len(dates)} trade date(s) into both warehouses in {loaded:.1f} s.\n")
    print(next_steps())
    return 0


if __name__ == "__main__":
    sys.exit(main())
