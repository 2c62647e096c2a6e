"""Faults on the pivot load: a process killed at each stage, bad config, secrets.

Each scenario runs the real pipeline in a child process against its own chDB
store, kills it with SIGKILL at a named failpoint (pipeline/failpoints.py),
then checks that the day is either wholly old or wholly new and that a rerun
completes it.
"""

import json
import os
import shutil
import signal
import subprocess
import sys

import dagster as dg
import pytest

from pipeline.assets import pivot
from pipeline.failpoints import ENV_FAILPOINT
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.generation import GenerationSettings

pytestmark = [pytest.mark.faults, pytest.mark.slow]

DAY = "2024-01-16"
OLD_TRADES, NEW_TRADES = 300, 500

LOAD_SCRIPT = """
import sys, dagster as dg
from pipeline.assets import pivot
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.generation import GenerationSettings
clickhouse = ClickHouseResource(url=sys.argv[1])
resources = {"clickhouse": clickhouse, "generation": GenerationSettings()}
with dg.instance_for_test() as instance:
    if sys.argv[3] == "reference":
        assert dg.materialize([pivot.instruments, pivot.constituents, pivot.fx_rates], resources=resources,
                              instance=instance).success
    assert dg.materialize([pivot.trades_1d, pivot.trades_1d_rollup], resources=resources,
                          instance=instance, partition_key=sys.argv[2],
                          run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": int(sys.argv[4])}}}}
                          ).success
"""

STATE = """
def state(r, d):
    day = {"d": d}
    fact = r.query_rows("SELECT countIf(is_constituent_exposure = 0), count(), round(sum(notional), 2) "
                        "FROM pivot.trades_1d WHERE trade_date = {d:Date}", day)[0]
    rollup = r.query_rows("SELECT sum(trade_count), round(sumMerge(notional_state), 2) FROM pivot.trades_1d_rollup "
                          "WHERE trade_date = {d:Date}", day)[0]
    staging = r.query_rows("SELECT count() FROM system.tables WHERE database = 'pivot' AND name LIKE '%staging%'")[0][0]
    return {"parent_rows": fact[0], "rows": fact[1], "notional": fact[2],
            "rollup_rows": rollup[0], "rollup_notional": rollup[1], "staging_tables": staging}
"""

# LOAD_SCRIPT's arguments and a fifth: "after" prints the day's state once the load is done; "resume"
# prints it first (what a killed load left behind), then loads, then prints it again. Reading the
# state in the process that loads saves an interpreter start-up per read.
LOAD_AND_STATE_SCRIPT = (
    STATE
    + """
import json, sys
from pipeline.resources.clickhouse import ClickHouseResource, close_all_clients
if sys.argv[5] == "resume":
    print(json.dumps(state(ClickHouseResource(url=sys.argv[1]), sys.argv[2])), flush=True)
    close_all_clients()
"""
    + LOAD_SCRIPT
    + """
print(json.dumps(state(ClickHouseResource(url=sys.argv[1]), sys.argv[2])), flush=True)
"""
)


def _python(args, env, check=True):
    completed = subprocess.run([sys.executable, "-c", *args], env=env, capture_output=True, text=True, timeout=300)
    if check and completed.returncode != 0:
        raise AssertionError(completed.stderr[-3000:])
    return completed


def _states(completed) -> list[dict]:
    return [json.loads(line) for line in completed.stdout.strip().splitlines() if line.startswith("{\"parent_rows\"")]


@pytest.fixture(scope="module")
def old_day_store(tmp_path_factory):
    """A store holding the reference data and DAY's OLD_TRADES, loaded once for the module, and its state."""
    store = tmp_path_factory.mktemp("old_day") / "clickhouse"
    env = {k: v for k, v in os.environ.items() if k != ENV_FAILPOINT}
    load = [LOAD_AND_STATE_SCRIPT, f"chdb://{store}", DAY, "reference", str(OLD_TRADES), "after"]
    [old] = _states(_python(load, env))
    assert old["parent_rows"] == OLD_TRADES and old["rollup_rows"] == old["rows"]
    return store, old


@pytest.fixture
def loaded_old_day(tmp_path, old_day_store):
    """A copy of the module's old-day store (no process holds it: a cold copy; its links are relative),
    so each case kills and reruns a load on a store of its own."""
    template, old = old_day_store
    shutil.copytree(template, tmp_path / "clickhouse", symlinks=True)
    env = {k: v for k, v in os.environ.items() if k != ENV_FAILPOINT}
    return f"chdb://{tmp_path / 'clickhouse'}", env, old


@pytest.mark.parametrize(
    "point, fact_after_kill, rollup_after_kill",
    [
        ("trades_1d.generated", "old", "old"),
        ("clickhouse.trades_1d.before_swap", "old", "old"),
        ("clickhouse.trades_1d_rollup.before_swap", "new", "old"),
    ],
)
def test_killed_load_leaves_whole_days_and_a_rerun_completes(loaded_old_day, point, fact_after_kill, rollup_after_kill):
    url, env, old = loaded_old_day
    killed = _python([LOAD_SCRIPT, url, DAY, "trades", str(NEW_TRADES)], {**env, ENV_FAILPOINT: point}, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    after_kill, rerun = _states(_python([LOAD_AND_STATE_SCRIPT, url, DAY, "trades", str(NEW_TRADES), "resume"], env))
    expected_parent_rows = {"old": OLD_TRADES, "new": NEW_TRADES}[fact_after_kill]
    assert after_kill["parent_rows"] == expected_parent_rows
    if fact_after_kill == "old":
        assert (after_kill["rows"], after_kill["notional"]) == (old["rows"], old["notional"])
    # the rollup is the whole old version: equal to the old fact, never a mix
    assert rollup_after_kill == "old"
    assert (after_kill["rollup_rows"], after_kill["rollup_notional"]) == (old["rollup_rows"], old["rollup_notional"])

    # the rerun (same process, after the state above was read)
    assert rerun["parent_rows"] == NEW_TRADES
    assert rerun["rollup_rows"] == rerun["rows"]
    assert rerun["rollup_notional"] == pytest.approx(rerun["notional"], abs=0.01)
    # the killed run's staging table was cleaned up when the rerun applied the DDL
    assert rerun["staging_tables"] == 0


def test_unknown_and_mistyped_config_is_refused_before_anything_runs(clickhouse):
    """An unknown key and a value of the wrong type are refused by Dagster's config schema before the
    run starts. A value out of range is refused by the asset's config model (TradesConfig), which the
    step builds before it generates or writes anything, at once: not retried like a busy store."""
    for config, complaint in (
        ({"trades_per_dya": 10}, "trades_per_dya"),
        ({"trades_per_day": "many"}, "trades_per_day"),
    ):
        with dg.instance_for_test() as instance, pytest.raises(Exception, match=complaint):
            dg.materialize(
                [pivot.trades_1d],
                resources={"clickhouse": clickhouse, "generation": GenerationSettings()},
                instance=instance,
                partition_key=DAY,
                run_config={"ops": {"pivot__trades_1d": {"config": config}}},
            )
    for out_of_range, bound in ((-1, "greater than or equal to 0"), (10**12, "less than or equal to")):
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                [pivot.trades_1d],
                resources={"clickhouse": clickhouse, "generation": GenerationSettings()},
                instance=instance,
                partition_key=DAY,
                run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": out_of_range}}}},
                raise_on_error=False,
            )
            events = [e.dagster_event for e in instance.all_logs(result.run_id) if e.dagster_event]
            failures = [e for e in events if e.event_type_value == "STEP_FAILURE"]
            assert not result.success and len(failures) == 1
            assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in events)
            message = failures[0].step_failure_data.error.message
            assert f"run config refused: trades_per_day: Input should be {bound}" in message
    assert clickhouse.query_rows("SELECT count() FROM pivot.trades_1d")[0][0] == 0


def test_partition_keys_outside_the_range_are_refused(clickhouse):
    for key in ("2023-12-31", "2099-01-01", "yesterday"):
        with dg.instance_for_test() as instance, pytest.raises(Exception, match=key):
            dg.materialize(
                [pivot.trades_1d],
                resources={"clickhouse": clickhouse, "generation": GenerationSettings()},
                instance=instance,
                partition_key=key,
            )


def test_an_unreachable_server_fails_clearly_and_never_shows_the_password():
    secret = "hunter2-not-for-logs"
    unreachable = ClickHouseResource(url=f"http://analyst:{secret}@127.0.0.1:9")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [pivot.instruments],
            resources={"clickhouse": unreachable, "generation": GenerationSettings()},
            instance=instance,
            raise_on_error=False,
        )
        assert not result.success
        logged = "\n".join(str(record) for record in instance.all_logs(result.run_id))
        assert "Cannot reach the ClickHouse server at http://analyst:***@127.0.0.1:9" in logged
        assert "PIVOT_CLICKHOUSE_URL" in logged
        assert secret not in logged
        run = instance.get_run_by_id(result.run_id)
        assert secret not in json.dumps(run.run_config) + json.dumps(dict(run.tags))


def test_an_unusable_store_directory_is_named(tmp_path):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    store = not_a_directory / "clickhouse"
    with pytest.raises(Exception, match=f"Cannot create the embedded ClickHouse store directory {store}"):
        _python(
            [
                "from pipeline.resources.clickhouse import ClickHouseResource; import sys; "
                "ClickHouseResource(url=sys.argv[1]).get_client()",
                f"chdb://{store}",
            ],
            dict(os.environ),
        )
