"""The reference-data sensor: landed composition, holdings and instrument master files reload the
reference data and re-explode the trades they change.

Operators (or an upstream feed) drop files into $PIVOT_LANDING_DIR: five-column composition CSVs
(`pipeline.pivot.landing`) at the top level or in compositions/, issuer holdings files (iShares CSV,
SPDR XLSX) and ticker_map.csv in compositions/, instrument master files in instruments/. Each tick
the sensor builds the reference data with every landed file exactly as the assets do
(`pipeline.pivot.reference.build_reference`: pure, never the ClickHouse store, which admits one
process at a time while sensors run in the daemon). New or changed valid files request a reload of
pivot/instruments and pivot/constituents, then re-explode and re-roll every already materialized
trade date that a new composition period covers, each from the source it was loaded from (a landed
day from its landed trades, a synthetic day from its seed: one run per range of dates loaded alike,
`pipeline.sensors.trade_sources`). A changed instrument master file reloads the reference data only
(the trade dates keep the attributes they were loaded with until they are reloaded). A refused file
is reported once, in the tick's log and skip reason, and changes nothing. Nothing is read while any
of these files is still being written (its size or modification time changed since the last tick, or
it is first seen: `files.files_still_being_written`); the skip reason names it. The cursor maps each
file (its path under the landing folder) to its content hash, so each version is handled exactly
once, and keeps the last observation of every file.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from pipeline.assets import pivot
from pipeline.jobs.pivot import pivot_reference_refresh_job
from pipeline.landed_files.folders import (
    COMPOSITIONS_FOLDER,
    INSTRUMENTS_FOLDER,
    SETTINGS_FILE,
    LandedFileError,
    content_digest,
    files_still_being_written,
)
from pipeline.pivot.landed.holdings_readers import TICKER_MAP_FILE
from pipeline.pivot.landed.instruments import instrument_files
from pipeline.pivot.landing import period_end
from pipeline.pivot.reference import build_reference, reference_files
from pipeline.resources.generation import GenerationSettings
from pipeline.sensors.trade_sources import ranges_by_source
from pipeline.settings import landing_dir


@dataclass(frozen=True)
class FileOutcome:
    """One landed reference file on this tick: its cursor key, hash, verdict and the periods it defines."""

    key: str
    digest: str
    is_valid: bool
    summary: str
    periods: tuple[tuple[str, date], ...] = ()


def _read_cursor(cursor: str | None) -> tuple[dict[str, str], dict[str, list[int]]]:
    """({file key: content hash}, {file key: [size, mtime_ns]}); a cursor from before the settle
    wait is the hashes alone."""
    state = json.loads(cursor) if cursor else {}
    if "observed" in state:
        return state["files"], state["observed"]
    return state, {}


def _key(root: Path, path: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else path.name


def reference_file_outcomes(root: Path, seed: int):
    """Every landed reference file's outcome, and the merged map (None when a master file is refused)."""
    try:
        reference = build_reference(seed, root)
    except LandedFileError as error:
        if error.path.is_dir() or error.path.name == SETTINGS_FILE:
            # A folder's refusal (files a load would not read, files still settling, a bad _format.toml):
            # one outcome keyed by the folder and identified by the message, so it is reported once.
            digest = hashlib.sha256(str(error).encode()).hexdigest()
            return [FileOutcome(_key(root, error.path) or ".", digest, False, str(error))], None
        # A refused master file refuses the whole reference load (everything else is checked against it).
        paths = instrument_files(root / INSTRUMENTS_FOLDER)
        return [FileOutcome(_key(root, p), content_digest(p), False, str(error)) for p in paths], None
    outcomes = [
        FileOutcome(_key(root, r.path), r.digest, r.is_valid, r.summary(), tuple(r.periods()))
        for r in reference.composition_files
    ]
    outcomes += [
        FileOutcome(
            _key(root, o.path),
            o.digest,
            o.is_valid,
            o.summary(),
            ((o.result.parent_symbol, o.result.as_of),) if o.is_valid else (),
        )
        for o in reference.holdings
    ]
    outcomes += [
        FileOutcome(_key(root, p), content_digest(p), True, f"{p.name}: instrument master file, valid")
        for p in reference.master_files
    ]
    ticker_map = root / COMPOSITIONS_FOLDER / TICKER_MAP_FILE
    if ticker_map.is_file():
        # A new ticker map can change every holdings file's map: their periods count as changed.
        periods = tuple(p for o in outcomes if o.key.startswith(COMPOSITIONS_FOLDER) for p in o.periods)
        outcomes.append(FileOutcome(_key(root, ticker_map), content_digest(ticker_map), True, "ticker map", periods))
    return outcomes, reference.constituents


def affected_trade_dates(outcomes: list[FileOutcome], merged, materialized: set[str]) -> list[str]:
    """Materialized trade dates whose look-through changes: each new period's [start, end] in the
    merged map, intersected with the dates already loaded. Pure, so it is tested directly."""
    if merged is None or not materialized:
        return []
    windows = [(start, period_end(merged, parent, start)) for o in outcomes for parent, start in o.periods]
    return sorted(key for key in materialized if any(start <= date.fromisoformat(key) <= end for start, end in windows))


@dg.sensor(
    name="pivot_landed_constituents",
    job=pivot_reference_refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Checks composition, issuer holdings and instrument master files dropped in $PIVOT_LANDING_DIR; "
    "a new valid file reloads pivot/instruments and pivot/constituents and re-explodes the trade dates its "
    "new period covers, each from its own source.",
)
def pivot_landed_constituents(context: dg.SensorEvaluationContext, generation: GenerationSettings) -> dg.SensorResult:
    """See the module docstring."""
    seen, observed = _read_cursor(context.cursor)
    root = landing_dir()
    waiting, observed = files_still_being_written(reference_files(root), observed, key=lambda p: _key(root, p))
    if waiting:
        reason = "\n".join(f"waiting for {key}: {why}" for key, why in sorted(waiting.items()))
        return dg.SensorResult(
            skip_reason=dg.SkipReason(reason), cursor=json.dumps({"files": seen, "observed": observed}, sort_keys=True)
        )
    outcomes, merged = reference_file_outcomes(root, generation.seed)
    new = [o for o in outcomes if seen.get(o.key) != o.digest]
    for outcome in new:
        seen[outcome.key] = outcome.digest
        (context.log.info if outcome.is_valid else context.log.error)(outcome.summary)
    for key in sorted(set(seen) - {o.key for o in outcomes}):
        seen.pop(key)  # removed: its period leaves the map on the next reload
    cursor = json.dumps({"files": seen, "observed": observed}, sort_keys=True)
    valid = [o for o in new if o.is_valid]
    invalid = [o for o in new if not o.is_valid]
    if not valid or merged is None:
        reason = (
            f"no new or changed files in {root}"
            if not invalid
            else "rejected, nothing changed: " + "; ".join(o.summary for o in invalid)
        )
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)
    for outcome in invalid:
        context.log.error(f"rejected, not applied: {outcome.summary}")

    materialized = context.instance.get_materialized_partitions(pivot.trades_1d.key)
    dates = affected_trade_dates(valid, merged, materialized)
    files = ",".join(f"{o.key}:{o.digest}" for o in valid)
    tags = {"pivot/landed_files": ",".join(Path(o.key).name for o in valid)[:200]}
    reference = [pivot.instruments.key, pivot.constituents.key]
    if not dates:
        context.log.info("requesting a reload of the reference data (no materialized trade date is affected)")
        run_key = hashlib.sha256(files.encode()).hexdigest()[:32]
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=run_key, asset_selection=reference, tags=tags)],
            cursor=cursor,
        )
    # One run per range of dates loaded the same way: a landed day re-explodes from its own landed
    # trades, a synthetic day from its seed, never one over the other. Each run reloads the reference
    # data first (idempotent), then its dates in order, rollups after their facts.
    ranges = ranges_by_source(context.instance, dates)
    selection = [*reference, pivot.trades_1d.key, pivot.trades_1d_rollup.key]
    context.log.info(
        f"requesting a reload of the reference data and re-explosion of {len(dates)} trade dates in "
        f"{len(ranges)} run(s): {', '.join(r.describe() for r in ranges)}"
    )
    requests = [
        dg.RunRequest(
            run_key=hashlib.sha256(f"{files}|{r.first}|{r.last}".encode()).hexdigest()[:32],
            asset_selection=selection,
            tags={**tags, **r.tags()},
            run_config=r.run_config(),
        )
        for r in ranges
    ]
    return dg.SensorResult(run_requests=requests, cursor=cursor)
