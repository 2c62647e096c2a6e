"""Versions of a trade date of `pivot.trades_1d`: a reload or a restore keeps the day it replaces.

The replaced day's parts are never rewritten: before the swap they are hard-linked into a slot table
(`ALTER TABLE pivot.trades_1d_version_<slot> REPLACE PARTITION <date> FROM pivot.trades_1d`, a
metadata operation), a slot not holding any kept version of the date; `pivot.trades_1d_versions`
(ddl/clickhouse/050_trades_1d_versions.sql) records each version's number, state, slot, when it went
live and was replaced, by which run, its source, rows and top-level notional_usd. A restore swaps a
kept version's parts back the same way (`REPLACE PARTITION … FROM` the slot: atomic for readers, the
slot keeps its copy) after the live day has become a version in turn. The last `kept` versions of a
date stay; older ones are dropped from their slots.

Every change goes: copy the live day into a free slot -> record the intent (the live version `kept`
in that slot, the new one `pending`, one INSERT) -> swap -> record the new one `live`. A process killed
anywhere in between leaves the date whole (the swap is one statement) and a pending version, which
the next operation on the date settles by looking at the live partition: if its parts are the very
parts hard-linked into the slot, the swap never happened (the old version is live again, the new one
`failed`); otherwise it did (the new one is live). A copy into a slot not yet recorded is never read.

Dagster-free and client-free: the store is the ClickHouse resource (or anything with `command`,
`query_rows` and `database`). Not on a cluster: there the day swap is the cluster swap
(pipeline/pivot/cluster_swap.py) and versions are refused (README "Versions, restore and compaction").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

import polars as pl

from pipeline.failpoints import failpoint

TABLE = "trades_1d"
CATALOG = "pivot.trades_1d_versions"
SLOT_PREFIX = "trades_1d_version_"
TOP_LEVEL = "exposure_type IN ('Direct', 'ETF', 'ETC')"
_EMPTY_OK = {"allow_replace_partition_from_empty_source": 1}
_COLUMNS = (
    "trade_date",
    "version",
    "state",
    "slot",
    "loaded_at",
    "replaced_at",
    "run_id",
    "source",
    "rows",
    "notional_usd",
    "recorded_at",
)


class VersionStore(Protocol):
    database: str

    def command(self, sql: str, parameters: dict | None = None, settings: dict | None = None): ...

    def query_rows(self, sql: str, parameters: dict | None = None) -> list[tuple]: ...


class VersionError(RuntimeError):
    """A restore that cannot be done (no such version, a cluster): nothing was changed."""


@dataclass(frozen=True)
class Version:
    """One version of a trade date, as its latest row in the catalog records it."""

    trade_date: date
    version: int
    state: str
    slot: int
    loaded_at: datetime
    replaced_at: datetime | None
    run_id: str
    source: str
    rows: int
    notional_usd: float

    def with_(self, **changes) -> Version:
        return Version(**{**self.__dict__, **changes})


def slot_table(slot: int) -> str:
    return f"pivot.{SLOT_PREFIX}{slot}"


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


_last_recorded = [0]


def _recorded_micros() -> int:
    # Strictly increasing within the process: a version's latest row must be unambiguous.
    micros = max(time.time_ns() // 1000, _last_recorded[0] + 1)
    _last_recorded[0] = micros
    return micros


def _utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _micros(moment: datetime) -> int:
    # Milliseconds are what the catalog keeps: a replaced_at must compare equal to its loaded_at read back.
    return int(moment.timestamp() * 1000) * 1000


def is_versioned(store) -> bool:
    """Versions are kept on one store (embedded or server), not on a cluster."""
    return not getattr(store, "cluster", "")


class DayVersions:
    """The versions of one trade date: settle, list, keep the live day before a swap, record after it."""

    def __init__(self, store: VersionStore, trade_date: date, *, kept: int, run_id: str = "") -> None:
        self.store, self.trade_date, self.kept, self.run_id = store, trade_date, kept, run_id
        self._pending: Version | None = None
        self._kept_after: list[Version] = []  # the kept versions once the pending one is live

    # -- reading -----------------------------------------------------------------------------

    def versions(self) -> list[Version]:
        """Every version of the date at its latest state, oldest first."""
        rows = self.store.query_rows(
            f"SELECT {', '.join(_COLUMNS[:-1])} FROM {CATALOG} WHERE trade_date = {{day:Date}} "
            "ORDER BY version, recorded_at DESC LIMIT 1 BY version",
            parameters={"day": self.trade_date},
        )
        return [Version(r[0], int(r[1]), r[2], int(r[3]), r[4], r[5], r[6], r[7], int(r[8]), float(r[9])) for r in rows]

    def held(self) -> list[Version]:
        """The live version and the kept ones, newest first (what the date holds)."""
        return sorted((v for v in self.versions() if v.state in ("live", "kept")), key=lambda v: -v.version)

    def _partition_rows(self, table: str) -> int:
        return self.store.query_rows(
            f"SELECT count() FROM {table} WHERE trade_date = {{day:Date}}", parameters={"day": self.trade_date}
        )[0][0]

    def _partition_figures(self, table: str) -> tuple[int, float]:
        rows, notional = self.store.query_rows(
            f"SELECT count(), sumIf(notional_usd, {TOP_LEVEL}) FROM {table} WHERE trade_date = {{day:Date}}",
            parameters={"day": self.trade_date},
        )[0]
        return int(rows), float(notional)

    def _part_hashes(self, table: str) -> list[str]:
        # rows > 0: a REPLACE PARTITION leaves an empty covering part, which a restarted engine lists as active.
        name = table.removeprefix("pivot.")
        return sorted(
            h
            for (h,) in self.store.query_rows(
                "SELECT hash_of_all_files FROM system.parts WHERE database = {db:String} AND table = {table:String} "
                "AND partition = {day:String} AND active AND rows > 0",
                parameters={"db": self.store.database, "table": name, "day": str(self.trade_date)},
            )
        )

    def _record(self, *versions: Version) -> None:
        # One INSERT: the rows of one change land together or not at all. Times travel as microseconds.
        selects, parameters = [], {}
        for i, v in enumerate(versions):
            selects.append(
                f"SELECT {{d{i}:Date}}, {{v{i}:UInt32}}, {{s{i}:String}}, {{slot{i}:UInt16}}, "
                f"fromUnixTimestamp64Micro({{l{i}:Int64}}, 'UTC'), "
                f"if({{r{i}:Int64}} < 0, NULL, fromUnixTimestamp64Micro({{r{i}:Int64}}, 'UTC')), "
                f"{{run{i}:String}}, {{src{i}:String}}, {{n{i}:UInt64}}, {{usd{i}:Float64}}, "
                f"fromUnixTimestamp64Micro({{at{i}:Int64}}, 'UTC')"
            )
            parameters |= {
                f"d{i}": v.trade_date,
                f"v{i}": v.version,
                f"s{i}": v.state,
                f"slot{i}": v.slot,
                f"l{i}": _micros(v.loaded_at),
                f"r{i}": -1 if v.replaced_at is None else _micros(v.replaced_at),
                f"run{i}": v.run_id,
                f"src{i}": v.source,
                f"n{i}": v.rows,
                f"usd{i}": v.notional_usd,
                f"at{i}": _recorded_micros(),
            }
        self.store.command(
            f"INSERT INTO {CATALOG} ({', '.join(_COLUMNS)}) " + " UNION ALL ".join(selects),
            parameters=parameters,
            settings={"async_insert": 0},
        )

    # -- settling a killed change ------------------------------------------------------------

    def settle(self, versions: list[Version] | None = None) -> list[str]:
        """Settle the pending versions a killed process left (see the module docstring); what was done.
        `versions`: the date's versions if just read."""
        done = []
        versions = self.versions() if versions is None else versions
        for pending in (v for v in versions if v.state == "pending"):
            before = max(
                (v for v in versions if v.state == "kept" and v.replaced_at == pending.loaded_at),
                key=lambda v: v.version,
                default=None,
            )
            if before is None:
                swapped = bool(self._partition_rows(f"pivot.{TABLE}")) or not pending.rows
            else:
                swapped = self._part_hashes(f"pivot.{TABLE}") != self._part_hashes(slot_table(before.slot))
            if swapped:
                rows, notional = self._partition_figures(f"pivot.{TABLE}")
                self._record(pending.with_(state="live", rows=rows, notional_usd=notional))
                done.append(f"version {pending.version} was swapped in: live")
            else:
                back = [before.with_(state="live", slot=0, replaced_at=None)] if before else []
                self._record(pending.with_(state="failed"), *back)
                done.append(f"version {pending.version} was never swapped in: the day as it was")
        if done:
            self._drop_beyond_kept()
        return done

    # -- a change ---------------------------------------------------------------------------

    def _ensure_slot(self, slot: int) -> str:
        table = slot_table(slot)
        self.store.command(f"CREATE TABLE IF NOT EXISTS {table} AS pivot.{TABLE}")
        return table

    def _free_slot(self, versions: list[Version]) -> int:
        used = {v.slot for v in versions if v.state == "kept"}
        return next(slot for slot in range(len(used) + 1) if slot not in used)

    def _live(self, versions: list[Version]) -> Version | None:
        live = [v for v in versions if v.state == "live"]
        if live:
            return live[-1]
        held = self._partition_rows(f"pivot.{TABLE}")
        if not held:
            return None
        # A day loaded before versions were kept: it becomes version 1, its source unknown.
        rows, notional = self._partition_figures(f"pivot.{TABLE}")
        first = max((v.version for v in versions), default=0) + 1
        return Version(
            self.trade_date, first, "live", 0, _now(), None, "", "loaded before versions were kept", rows, notional
        )

    def prepare(self, source: str, rows: int, source_table: str | None = None) -> None:
        """Before the swap of a new day (`source`, `rows` of it): keep the live day in a free slot and record
        the intent. `source_table` is where the new day comes from, if it is a slot (a restore)."""
        versions = self.versions()
        if self.settle(versions):
            versions = self.versions()
        live = self._live(versions)
        now = _now()
        number = max((v.version for v in versions), default=live.version if live else 0) + 1
        if live is not None and number <= live.version:
            number = live.version + 1
        pending = Version(self.trade_date, number, "pending", 0, now, None, self.run_id, source, rows, 0.0)
        if live is None or self.kept <= 0:
            # Nothing to keep (a first load, or no versions kept): the live day, if any, is dropped by the swap.
            replaced = live.with_(state="dropped", replaced_at=now) if live else None
            self._record(pending, *([replaced] if replaced else []))
            self._pending, self._kept_after = pending, [v for v in versions if v.state == "kept"]
            return
        slot = self._free_slot(versions)
        table = self._ensure_slot(slot)
        self.store.command(
            f"ALTER TABLE {table} REPLACE PARTITION {{day:Date}} FROM pivot.{TABLE}",
            parameters={"day": self.trade_date},
            settings=_EMPTY_OK,
        )
        replaced = live.with_(state="kept", slot=slot, replaced_at=now)
        self._record(replaced, pending)
        self._pending, self._kept_after = pending, [*(v for v in versions if v.state == "kept"), replaced]

    def commit(self, notional_usd: float | None = None) -> Version:
        """After the swap: the pending version is live; versions beyond the ones kept are dropped."""
        failpoint("versions.trades_1d.swapped")
        pending = self._pending
        if notional_usd is None:
            rows, notional_usd = self._partition_figures(f"pivot.{TABLE}")
            pending = pending.with_(rows=rows)
        live = pending.with_(state="live", notional_usd=notional_usd)
        self._record(live)
        self._drop_beyond_kept(self._kept_after)
        self._pending = None
        return live

    def _drop_beyond_kept(self, kept: list[Version] | None = None) -> None:
        kept = [v for v in self.versions() if v.state == "kept"] if kept is None else kept
        kept = sorted(kept, key=lambda v: -v.version)
        beyond = kept[max(self.kept, 0) :]
        for version in beyond:
            self.store.command(
                f"ALTER TABLE {slot_table(version.slot)} DROP PARTITION {{day:Date}}",
                parameters={"day": self.trade_date},
            )
        if beyond:
            self._record(*(v.with_(state="dropped") for v in beyond))

    def archived(self) -> list[Version]:
        """The date went to its archive (pipeline/pivot/retention.py, which drops its slots' copies): the live
        version and the kept ones are recorded `dropped`; what was recorded."""
        now = _now()
        gone = [
            v.with_(state="dropped", replaced_at=v.replaced_at or now)
            for v in self.versions()
            if v.state in ("live", "kept")
        ]
        if gone:
            self._record(*gone)
        return gone

    def restore(self, number: int, rebuild_rollup: Callable[[date], int] | None = None) -> Version:
        """Put kept version `number` live again, atomically; the live day becomes a version in turn. Raises
        VersionError (nothing changed) when the date holds no such kept version."""
        if not is_versioned(self.store):
            raise VersionError(CLUSTER_REFUSAL)
        self.settle()
        versions = self.versions()
        wanted = next((v for v in versions if v.version == number), None)
        if wanted is None or wanted.state != "kept":
            held = ", ".join(f"{v.version} ({v.state})" for v in self.held()) or "none"
            why = f"is {wanted.state}" if wanted else "does not exist"
            raise VersionError(
                f"{self.trade_date}: version {number} {why}, nothing changed; the versions it holds: {held} "
                f"(python -m pipeline.restore pivot/trades_1d {self.trade_date} lists them)"
            )
        source = f"restored version {wanted.version}: {wanted.source}"
        kept_slot = slot_table(wanted.slot)
        if self.kept <= 0:
            raise VersionError("PIVOT_VERSIONS_KEPT is 0: a restore would lose the live day, nothing changed")
        self.prepare(source, wanted.rows, kept_slot)
        failpoint("versions.trades_1d.restore.before_swap")
        self.store.command(
            f"ALTER TABLE pivot.{TABLE} REPLACE PARTITION {{day:Date}} FROM {kept_slot}",
            parameters={"day": self.trade_date},
            settings=_EMPTY_OK,
        )
        live = self.commit(wanted.notional_usd)
        if rebuild_rollup is not None:
            rebuild_rollup(self.trade_date)
        return live


LISTING_COLUMNS = ("version", "replaced_at", "rows", "notional_usd", "source")


def versions_frame(held: list[Version]) -> pl.DataFrame:
    """The versions a date holds, newest first, as the CLI and the asset metadata list them: the live one
    with replaced_at null (empty in CSV)."""
    return pl.DataFrame(
        [
            {
                "version": v.version,
                "replaced_at": None if v.replaced_at is None else v.replaced_at.strftime("%Y-%m-%d %H:%M:%S"),
                "rows": v.rows,
                "notional_usd": v.notional_usd,
                "source": v.source,
            }
            for v in held
        ],
        schema={
            "version": pl.Int64,
            "replaced_at": pl.String,
            "rows": pl.Int64,
            "notional_usd": pl.Float64,
            "source": pl.String,
        },
    )


CLUSTER_REFUSAL = (
    "versions of a trade date are not kept on a cluster (PIVOT_CLICKHOUSE_CLUSTER is set): a day there is "
    "swapped per shard by load_version, and a restore across shards is not built; nothing changed"
)
