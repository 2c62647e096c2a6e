"""The embedded ClickHouse store unavailable mid-run: held by another process when a load starts.

Process A holds the chDB store (one process per data directory) for a few seconds; process B
materializes pivot/trades_1d meanwhile. B's first attempt fails with the clear busy-store message,
the load's RetryPolicy (pipeline/assets/policies.py: 2 retries, 5 s exponential backoff) retries,
and once A lets go the retry loads the day, once.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from pipeline.failpoints import ENV_FAILPOINT
from tests.test_faults_pivot import LOAD_SCRIPT

pytestmark = [pytest.mark.faults, pytest.mark.slow]

DAY = "2024-01-16"
TRADES = 50
HOLD_SECONDS = 8

HOLD_SCRIPT = """
import sys, time
from pipeline.resources.clickhouse import ClickHouseResource
client = ClickHouseResource(url=sys.argv[1]).get_client()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""

RUN_SCRIPT = """
import json, sys, dagster as dg
from pipeline.assets import pivot
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.generation import GenerationSettings
clickhouse = ClickHouseResource(url=sys.argv[1])
resources = {"clickhouse": clickhouse, "generation": GenerationSettings()}
with dg.instance_for_test() as instance:
    result = dg.materialize([pivot.trades_1d], resources=resources, instance=instance,
                            partition_key=sys.argv[2], raise_on_error=False,
                            run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": int(sys.argv[3])}}}})
    events = [r.dagster_event for r in instance.all_logs(result.run_id) if r.dagster_event]
    print(json.dumps({
        "success": result.success,
        "setup_warnings": [r.user_message for r in instance.all_logs(result.run_id)
                           if r.level >= 30 and "Cannot open" in (r.user_message or "")],
        "retries": [str(e.event_specific_data.error.to_string()) for e in events
                    if e.event_type_value == "STEP_UP_FOR_RETRY" and e.step_key == "pivot__trades_1d"],
        "types": [e.event_type_value for e in events],
        "rows": clickhouse.query_rows("SELECT countIf(is_constituent_exposure = 0), "
                                      "count() - uniqExact(trade_id, symbol) FROM pivot.trades_1d")[0],
    }))
"""


def test_a_store_held_by_another_process_fails_clearly_then_the_retry_loads_the_day(tmp_path):
    url = f"chdb://{tmp_path / 'clickhouse'}"
    store = tmp_path / "clickhouse"
    env = {k: v for k, v in os.environ.items() if k != ENV_FAILPOINT}
    reference = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, url, "2024-01-02", "reference", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reference.returncode == 0, reference.stderr[-3000:]

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, url, str(HOLD_SECONDS)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-c", RUN_SCRIPT, url, DAY, str(TRADES)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.monotonic() - started
        assert holder.wait(timeout=30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["success"], outcome
    assert 1 <= len(outcome["retries"]) <= 2, outcome
    first = outcome["retries"][0]
    assert (
        f"Cannot open the embedded ClickHouse store at {store}" in first and "one process per data directory" in first
    )
    # the day is loaded once: the final table also holds the reference load's 2024-01-02 (1 trade)
    assert outcome["rows"] == [TRADES + 1, 0], outcome
    print(f"run took {elapsed:.1f} s; retries {len(outcome['retries'])}")
    assert elapsed < 60, elapsed
