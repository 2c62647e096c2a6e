"""The landed-feeds sensor of dist_perf_dw: a new or changed file in $PIVOT_LANDING_DIR/dist_perf_dw/<feed>/
requests the loads it affects, from the landed feeds (source=landed).

The settle-then-request pattern of `pivot_landed_trades` (pipeline/sensors/landed_trades.py): each tick
observes every feed file's size and modification time and reads a file only once they held still for a
tick (`ready_files`); a settled file whose content hash is new is checked on its own by the feed's
reader (values, codes, ids, dates; not what needs the warehouse, such as unknown CUSIPs: the load
refuses those, naming them). Then:

- a flows file requests `fact_aum_flows` for exactly the dates it holds now and, if changed, held
  before (a header-only file: the date in its name); a positions file `fact_revenue` for the dates its
  snapshots price (a date's revenue uses the latest snapshot on or before it: from the snapshot's date
  up to the day before the next snapshot any positions file holds, or to the last partition); an
  expenses file `fact_distribution_expense` for its dates: one run per range of consecutive dates;
- a new, changed or removed transaction code mapping (mappings/transaction_codes.csv) changes how every
  flows file reads: each flows file counts as changed and requests its dates again;
- a master file (firms, advisors, products, wholesalers) requests one run of the dimensions;
- when a dimension run completes inferred advisors (its `dates_to_reload` metadata: the dates whose
  flows went to the Unassigned wholesaler), those dates' flows are requested again.

A refused file is reported once (the tick's log and skip reason) and requests nothing; a removed file
requests nothing (the dates it loaded stay). The cursor keeps, per feed/file, its content hash and
dates, the last observation of every file, and the last dimension run it read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import dagster as dg

from pipeline.assets import dist_perf_dw
from pipeline.dist_perf_dw.landed.facts import read_fact_file
from pipeline.dist_perf_dw.landed.feeds import (
    FEEDS,
    FLOWS,
    MAPPINGS_FOLDER,
    MASTER_FEEDS,
    TRANSACTION_CODE_MAPPING,
    feed_files,
)
from pipeline.dist_perf_dw.landed.flows import read_flow_file, read_transaction_code_mapping
from pipeline.dist_perf_dw.landed.masters import read_master_file
from pipeline.dist_perf_dw.tables import DIMENSION_TABLES
from pipeline.landed_files.folders import (
    FileState,
    LandedFileError,
    content_digest,
    date_in_name,
    folder_settings,
    ready_files,
)
from pipeline.partitions import trade_date_partitions
from pipeline.sensors.landed_trades import date_ranges
from pipeline.settings import dist_landing_dir

# The fact each feed's dates load.
FACT_OF_FEED = {"flows": "fact_aum_flows", "positions": "fact_revenue", "expenses": "fact_distribution_expense"}
DIMENSIONS_KEY = "dist_perf_dw/dim_advisors"


def _key(path) -> str:
    return f"{path.parent.name}/{path.name}"


def _read_cursor(cursor: str | None) -> dict:
    state = json.loads(cursor) if cursor else {}
    return {"files": state.get("files", {}), "observed": state.get("observed", {}),
            "advisors_seen": state.get("advisors_seen", 0)}


def _landed(tables) -> dict:
    return {"ops": {f"dist_perf_dw__{table}": {"config": {"source": "landed"}} for table in tables}}


def _file_dates(path) -> list[str]:
    """The dates a fact file holds (checked on its own), or [] for a master file; LandedFileError if bad."""
    feed = FEEDS[path.parent.name]
    settings = folder_settings(path.parent)
    if feed in MASTER_FEEDS:
        read_master_file(path, feed, settings)
        return []
    if feed is FLOWS:
        checked = read_flow_file(path, read_transaction_code_mapping(dist_landing_dir()), settings)
    else:
        checked = read_fact_file(path, feed, settings)
    dates = {str(d) for d in checked.dates}
    named = date_in_name(path)
    if not dates and named is not None:
        dates.add(str(named))  # a header-only file declares its date empty
    return sorted(dates)


def priced_dates(changed: set[str], snapshots: set[str], last: str) -> set[str]:
    """Every date whose revenue a changed snapshot date prices: from it up to the day before the next
    snapshot date (of any positions file), or up to `last`."""
    later = sorted(snapshots | changed)
    priced = set()
    for snapshot in changed:
        following = [d for d in later if d > snapshot]
        end = dt.date.fromisoformat(following[0]) - dt.timedelta(days=1) if following else dt.date.fromisoformat(last)
        day = dt.date.fromisoformat(snapshot)
        while day <= end:
            priced.add(day.isoformat())
            day += dt.timedelta(days=1)
    return priced


def _completed_advisor_dates(context: dg.SensorEvaluationContext, seen: int) -> tuple[set[str], int]:
    """The dates_to_reload of dimension runs after `seen` (their storage id), and the newest id read."""
    records = context.instance.fetch_materializations(dg.AssetKey.from_user_string(DIMENSIONS_KEY), limit=20)
    dates, newest = set(), seen
    for record in records.records:
        if record.storage_id <= seen:
            continue
        newest = max(newest, record.storage_id)
        value = record.asset_materialization.metadata.get("dates_to_reload")
        dates |= set(value.value if value is not None else [])
    return dates, newest


@dg.sensor(
    name="dist_perf_dw_landed_feeds",
    # The dimensions and the daily facts (compensation is monthly: it follows by its schedule or by hand).
    target=[*dist_perf_dw.dimension_assets, dist_perf_dw.fact_aum_flows, dist_perf_dw.fact_revenue,
            dist_perf_dw.fact_distribution_expense],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Checks the distribution team's feeds in $PIVOT_LANDING_DIR/dist_perf_dw/<feed>/ once they stop "
    "changing; a new or changed flows, positions or expenses file loads exactly the dates it holds, a master "
    "file the dimensions (source=landed).",
)
def dist_perf_dw_landed_feeds(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """See the module docstring."""
    state = _read_cursor(context.cursor)
    seen: dict[str, list] = state["files"]
    root = dist_landing_dir()
    paths, refused = [], []
    for feed in FEEDS.values():
        try:
            paths += feed_files(root / feed.folder)
        except LandedFileError as error:
            refused.append(error.summary())
    mapping = root / MAPPINGS_FOLDER / TRANSACTION_CODE_MAPPING
    watched = [*paths, mapping] if mapping.is_file() else paths
    previous = {name: FileState.from_cursor(value) for name, value in state["observed"].items()}
    ready, waiting, observed = ready_files(watched, previous, _key)
    # A flows file's digest covers the mapping it is read with; a mapping still changing holds them back.
    if mapping in ready:
        ready.remove(mapping)
        flows_suffix = f"+{content_digest(mapping)}"
    else:
        flows_suffix = None if mapping.is_file() else ""

    masters: list[str] = []
    dates: dict[str, set[str]] = {feed: set() for feed in FACT_OF_FEED}
    for path in ready:
        if path.parent.name == FLOWS.folder and flows_suffix is None:
            continue
        name = _key(path)
        digest = content_digest(path) + (flows_suffix if path.parent.name == FLOWS.folder else "")
        before = seen.get(name)
        if before and before[0] == digest:
            continue
        old_dates = before[1] if before else []
        try:
            new_dates = _file_dates(path)
        except LandedFileError as error:
            if error.summary() not in refused:  # a bad mapping refuses every flows file alike: once
                context.log.error(error.summary())
                refused.append(error.summary())
            seen[name] = [digest, old_dates]
            continue
        seen[name] = [digest, new_dates]
        if path.parent.name in FACT_OF_FEED:
            dates[path.parent.name] |= set(new_dates) | set(old_dates)
        else:
            masters.append(f"{name}:{digest}")
    for name in sorted(set(seen) - {_key(p) for p in paths}):
        context.log.info(f"{name} was removed: what it loaded stays as it is")
        seen.pop(name)
    completed, advisors_seen = _completed_advisor_dates(context, state["advisors_seen"])
    dates["flows"] |= completed

    cursor = json.dumps({"files": seen, "observed": {n: s.to_cursor() for n, s in observed.items()},
                         "advisors_seen": advisors_seen}, sort_keys=True)
    requests = []
    if masters:
        requests.append(dg.RunRequest(
            run_key=hashlib.sha256(",".join(masters).encode()).hexdigest()[:32],
            asset_selection=[dist_perf_dw.table_key(t) for t in DIMENSION_TABLES],
            run_config=_landed(DIMENSION_TABLES),
        ))
    first, last = trade_date_partitions.get_first_partition_key(), trade_date_partitions.get_last_partition_key()
    snapshots = {d for name, (_, held) in seen.items() if name.startswith("positions/") for d in held}
    dates["positions"] = priced_dates(dates["positions"], snapshots, last or first)
    for feed, table in FACT_OF_FEED.items():
        for span in date_ranges({d for d in dates[feed] if first <= d <= (last or first)}):
            files = ",".join(sorted(f"{n}:{v[0]}" for n, v in seen.items() if n.startswith(f"{feed}/")))
            requests.append(dg.RunRequest(
                run_key=hashlib.sha256(f"{table}|{files}|{span.first}|{span.last}|{advisors_seen}".encode())
                .hexdigest()[:32],
                asset_selection=[dist_perf_dw.table_key(table)],
                tags=span.tags(),
                run_config=_landed([table]),
            ))
    if not requests:
        notes = [f"waiting for {name}: {why}" for name, why in sorted(waiting.items())]
        parts = [f"refused, nothing requested: {'; '.join(refused)}"] if refused else []
        parts += notes or ([] if refused else [f"no new or changed feed files in {root}"])
        return dg.SensorResult(skip_reason=dg.SkipReason("\n".join(parts)), cursor=cursor)
    context.log.info(f"requesting {len(requests)} landed load(s)")
    return dg.SensorResult(run_requests=requests, cursor=cursor)
