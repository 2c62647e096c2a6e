"""Which source each loaded trade date came from, so a sensor that re-loads dates (a new composition, a
new FX rate) re-loads a landed day from its landed files and a synthetic day from its seed, never one
over the other.

Reads only the Dagster instance: each date's latest pivot/trades_1d materialization carries
`pivot/source` (and, for synthetic days, `pivot/trades_per_day`). A date materialized before the
source was recorded was synthetic (the only source there was).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from pipeline.assets import pivot

_PAGE = 1000
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class DateRange:
    """A contiguous run of trade dates to re-load with one run config."""

    first: str
    last: str
    trades_config: dict

    @property
    def source(self) -> str:
        return self.trades_config["source"]

    def tags(self) -> dict[str, str]:
        return {PARTITION_RANGE_START: self.first, PARTITION_RANGE_END: self.last}

    def run_config(self) -> dict:
        return {"ops": {"pivot__trades_1d": {"config": dict(self.trades_config)}}}

    def describe(self) -> str:
        span = self.first if self.first == self.last else f"{self.first}..{self.last}"
        return f"{span} ({self.source})"


def landed_run_config() -> dict:
    return {"ops": {"pivot__trades_1d": {"config": {"source": "landed"}}}}


def trades_config_by_date(instance: dg.DagsterInstance, dates: list[str]) -> dict[str, dict]:
    """Each date's trades_1d config to re-load it as it was loaded: {"source": "landed"} or
    {"source": "synthetic", "trades_per_day": n} (n omitted when it was not recorded)."""
    latest: dict[str, dg.AssetMaterialization] = {}
    wanted = set(dates)
    cursor = None
    while wanted - set(latest):
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=pivot.trades_1d.key, asset_partitions=sorted(wanted - set(latest))),
            limit=_PAGE,
            cursor=cursor,
        )
        for record in page.records:  # newest first
            materialization = record.asset_materialization
            if materialization is not None and materialization.partition not in latest:
                latest[materialization.partition] = materialization
        if not page.has_more:
            break
        cursor = page.cursor
    configs = {}
    for key in dates:
        metadata = latest[key].metadata if key in latest else {}
        source = metadata.get(pivot.SOURCE_KEY)
        if source is not None and source.value == "landed":
            configs[key] = {"source": "landed"}
            continue
        config = {"source": "synthetic"}
        trades_per_day = metadata.get(pivot.TRADES_PER_DAY_KEY)
        if trades_per_day is not None:
            config["trades_per_day"] = int(trades_per_day.value)
        configs[key] = config
    return configs


def ranges_by_source(instance: dg.DagsterInstance, dates: list[str]) -> list[DateRange]:
    """The dates as ranges to re-load, one per run: consecutive dates (in the sorted list) loaded the
    same way share a range; a landed range also breaks at a calendar gap, so it never covers a date
    nobody landed (that would fail) or one loaded otherwise."""
    configs = trades_config_by_date(instance, dates)
    ranges: list[DateRange] = []
    for key in sorted(dates):
        config = configs[key]
        if ranges and ranges[-1].trades_config == config:
            previous = ranges[-1]
            adjacent = date.fromisoformat(key) - date.fromisoformat(previous.last) == timedelta(days=1)
            if config["source"] != "landed" or adjacent:
                ranges[-1] = DateRange(previous.first, key, config)
                continue
        ranges.append(DateRange(key, key, config))
    return ranges
