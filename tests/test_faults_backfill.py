"""A 12-partition backfill killed halfway and resumed: every partition exactly once at the end.

The backfill is what Dagster runs for the single-run facts (BackfillPolicy.single_run): one run
over the whole date range, trades_1d then trades_1d_rollup. A child process with its own chDB
store runs it and SIGKILLs itself after the 6th date (failpoint `trades_1d.after.<date>`, inside
the asset's per-date loop); rerunning the same range must leave each date with exactly its trades,
once, and its rollup equal to its fact. Twelve dates hold a weekend on each side of the kill.
"""

import json
import os
import signal
import subprocess
import sys
from datetime import date, timedelta

import pytest

from pipeline.failpoints import ENV_FAILPOINT
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.trade_generation import generate_trades
from pipeline.settings import DEFAULT_SEED

pytestmark = [pytest.mark.faults, pytest.mark.slow]

START = date(2024, 2, 1)
DATES = [str(START + timedelta(days=i)) for i in range(12)]
HALF = len(DATES) // 2
KILLED_AFTER = DATES[HALF - 1]
TRADES_PER_DAY = 20

STATE = """
def state(r):
    fact = r.query_rows("SELECT toString(trade_date), countIf(is_constituent_exposure = 0), count(), "
                        "count() - uniqExact(trade_id, symbol), round(sum(notional), 2) "
                        "FROM pivot.trades_1d GROUP BY trade_date ORDER BY trade_date")
    rollup = r.query_rows("SELECT toString(trade_date), sum(trade_count), round(sumMerge(notional_state), 2) "
                          "FROM pivot.trades_1d_rollup GROUP BY trade_date ORDER BY trade_date")
    return {"fact": {d: [base, rows, dups, notional] for d, base, rows, dups, notional in fact},
            "rollup": {d: [rows, notional] for d, rows, notional in rollup}}
"""

# argv: url, first date, last date, "reference" (load it first, then the range) or "resume" (print the
# state left behind, run the range, print the state after), trades per day. One process per step saves
# interpreter start-ups; the state is read in the same process that then holds the store.
BACKFILL_SCRIPT = (
    STATE
    + """
import json, sys, dagster as dg
from pipeline.assets import pivot
from pipeline.resources.clickhouse import ClickHouseResource, close_all_clients
from pipeline.resources.generation import GenerationSettings
clickhouse = ClickHouseResource(url=sys.argv[1])
resources = {"clickhouse": clickhouse, "generation": GenerationSettings()}
if sys.argv[4] == "resume":
    print(json.dumps(state(clickhouse)), flush=True)
    close_all_clients()
with dg.instance_for_test() as instance:
    if sys.argv[4] == "reference":
        assert dg.materialize([pivot.instruments, pivot.constituents, pivot.fx_rates], resources=resources,
                              instance=instance).success
    assert dg.materialize(
        [pivot.trades_1d, pivot.trades_1d_rollup], resources=resources, instance=instance,
        tags={"dagster/asset_partition_range_start": sys.argv[2], "dagster/asset_partition_range_end": sys.argv[3]},
        run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": int(sys.argv[5])}}}},
    ).success
if sys.argv[4] == "resume":
    print(json.dumps(state(clickhouse)), flush=True)
"""
)


def _python(args, env):
    return subprocess.run([sys.executable, "-c", *args], env=env, capture_output=True, text=True, timeout=300)


def test_a_backfill_killed_halfway_and_resumed_loads_every_partition_once(tmp_path):
    url = f"chdb://{tmp_path / 'clickhouse'}"
    env = {k: v for k, v in os.environ.items() if k != ENV_FAILPOINT}

    killed = _python(
        [BACKFILL_SCRIPT, url, DATES[0], DATES[-1], "reference", str(TRADES_PER_DAY)],
        {**env, ENV_FAILPOINT: f"trades_1d.after.{KILLED_AFTER}"},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = _python([BACKFILL_SCRIPT, url, DATES[0], DATES[-1], "resume", str(TRADES_PER_DAY)], env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    halfway, final = (json.loads(line) for line in resumed.stdout.strip().splitlines()[-2:])
    # Each date's traded rows, from the pure generator: weekends (every venue closed) are empty
    # partitions, a venue's holiday has fewer trades.
    instruments = build_instruments(DEFAULT_SEED)
    expected = {
        day: generate_trades(date.fromisoformat(day), TRADES_PER_DAY, instruments, DEFAULT_SEED).height for day in DATES
    }
    trading = [day for day in DATES if expected[day]]
    assert HALF < len(trading) < len(DATES)
    assert [day for day in DATES[:HALF] if not expected[day]] and [day for day in DATES[HALF:] if not expected[day]]
    # the first half of the dates is in, whole; nothing after the kill; no rollup yet (it runs after the facts)
    assert sorted(halfway["fact"]) == [day for day in DATES[:HALF] if expected[day]]
    assert all(base == expected[day] and dups == 0 for day, (base, _, dups, _) in halfway["fact"].items())
    assert halfway["rollup"] == {}

    assert sorted(final["fact"]) == trading and sorted(final["rollup"]) == trading
    for day in trading:
        base, rows, dups, notional = final["fact"][day]
        assert (base, dups) == (expected[day], 0), day
        assert final["rollup"][day][0] == rows, day
        assert final["rollup"][day][1] == pytest.approx(notional, abs=0.05), day
    # the dates loaded before the kill were replaced, not appended to: same rows as before
    for day in halfway["fact"]:
        assert final["fact"][day] == halfway["fact"][day], day
