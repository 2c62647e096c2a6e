"""The landed-trades sensor: a new or changed trade file in $PIVOT_LANDING_DIR/trades/ loads exactly the
trade dates it touches, from the landed files (source=landed).

Each tick lists the folder and observes every file's size and modification time; a file is read only
once they held still for a tick (`files.ready_files`: a copy in progress is never read). A settled file
whose content hash is new is checked with `trades.check_trade_file` (format, values, duplicate
trade_ids; not the symbols: that needs pivot.instruments, and sensors never open the ClickHouse store,
which admits one process at a time; the asset checks the symbols and fails the run naming them). A valid
file requests the dates it holds now and, for a changed file, the dates it held before: one run of
pivot/trades_1d + pivot/trades_1d_rollup per range of consecutive dates, with source=landed run config.
A refused file is reported once, in the tick's log and skip reason, naming the file and what to fix,
and requests nothing. A removed file requests nothing (the days it loaded stay; land a header-only file
named with the date to empty a day). The cursor keeps, per file name, its content hash and dates, and
the last observation of every file.
"""

import hashlib
import json
from datetime import date, timedelta

import dagster as dg

from pipeline.jobs.pivot import pivot_daily_job
from pipeline.landed_files.folders import TRADES_FOLDER, FileState, LandedFileError, content_digest, ready_files
from pipeline.partitions import trade_date_partitions
from pipeline.pivot.landed.trade_checks import check_trade_file
from pipeline.pivot.landed.trade_files import trade_files
from pipeline.sensors.trade_sources import DateRange
from pipeline.settings import landing_dir


def _read_cursor(cursor: str | None) -> dict:
    """{"files": {name: [digest, [ISO dates]]}, "observed": {name: [size, mtime_ns]}}."""
    state = json.loads(cursor) if cursor else {}
    return {"files": state.get("files", {}), "observed": state.get("observed", {})}


def date_ranges(dates: set[str]) -> list[DateRange]:
    """Consecutive calendar dates as one landed range each (a range never spans a date nobody landed)."""
    ranges: list[DateRange] = []
    for key in sorted(dates):
        if ranges and date.fromisoformat(key) - date.fromisoformat(ranges[-1].last) == timedelta(days=1):
            ranges[-1] = DateRange(ranges[-1].first, key, ranges[-1].trades_config)
        else:
            ranges.append(DateRange(key, key, {"source": "landed"}))
    return ranges


@dg.sensor(
    name="pivot_landed_trades",
    job=pivot_daily_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Checks trade files dropped in $PIVOT_LANDING_DIR/trades/ once they stop changing; a new or "
    "changed valid file loads exactly the trade dates it touches from the landed files (source=landed).",
)
def pivot_landed_trades(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """See the module docstring."""
    state = _read_cursor(context.cursor)
    seen: dict[str, list] = state["files"]
    directory = landing_dir() / TRADES_FOLDER
    paths = trade_files(directory)
    previous = {name: FileState.from_cursor(value) for name, value in state["observed"].items()}
    ready, waiting, observed = ready_files(paths, previous)

    touched: set[str] = set()
    loaded_files: list[str] = []
    refused: list[str] = []
    for path in ready:
        digest = content_digest(path)
        before = seen.get(path.name)
        if before and before[0] == digest:
            continue
        old_dates = before[1] if before else []
        try:
            check = check_trade_file(path)
        except LandedFileError as error:
            context.log.error(error.summary())
            refused.append(error.summary())
            seen[path.name] = [digest, old_dates]
            continue
        context.log.info(check.summary())
        new_dates = sorted(str(d) for d in check.dates)
        touched |= set(new_dates) | set(old_dates)
        seen[path.name] = [digest, new_dates]
        loaded_files.append(f"{path.name}:{digest}")
    for name in sorted(set(seen) - {p.name for p in paths}):
        context.log.info(f"trades/{name} was removed: the days it loaded stay as they are")
        seen.pop(name)

    cursor = json.dumps({"files": seen, "observed": {n: s.to_cursor() for n, s in observed.items()}}, sort_keys=True)
    last = trade_date_partitions.get_last_partition_key()
    first = trade_date_partitions.get_first_partition_key()
    outside = sorted(d for d in touched if not (first <= d <= (last or first)))
    if outside:
        context.log.warning(
            f"trade dates {', '.join(outside)} are outside the partitions ({first}..{last}): not requested; "
            "a date not yet begun loads with its daily run"
        )
    ranges = date_ranges(touched - set(outside))
    notes = [f"waiting for {name}: {why}" for name, why in sorted(waiting.items())]
    if not ranges:
        parts = [f"refused, nothing requested: {'; '.join(refused)}"] if refused else []
        parts += notes or ([] if refused else [f"no new or changed trade files in {directory}"])
        return dg.SensorResult(skip_reason=dg.SkipReason("\n".join(parts)), cursor=cursor)

    files = ",".join(loaded_files)
    tags = {"pivot/landed_trade_files": ",".join(f.split(":")[0] for f in loaded_files)[:200]}
    context.log.info(f"requesting landed loads of {', '.join(r.describe() for r in ranges)}")
    requests = [
        dg.RunRequest(
            run_key=hashlib.sha256(f"{files}|{r.first}|{r.last}".encode()).hexdigest()[:32],
            tags={**tags, **r.tags()},
            run_config=r.run_config(),
        )
        for r in ranges
    ]
    return dg.SensorResult(run_requests=requests, cursor=cursor)
