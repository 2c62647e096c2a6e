"""The embedded ClickHouse store unavailable mid-run: held by another process when a load starts.

Process A loads the reference data (and 2024-01-02, one trade) into a new chDB store, then holds
the store (one process per data directory); process B materializes pivot/trades_1d meanwhile. B's
first attempt fails with the clear busy-store message, and A lets go once B logs that the step is up
for retry (whatever the machine's load, the first attempt always meets a held store); the load's
RetryPolicy (pipeline/assets/policies.py: 2 retries, 5 s exponential backoff) retries, and the retry
loads the day, once.
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

# LOAD_SCRIPT, then the store is held until stdin closes (the load's process holds it already; the
# client is opened here too so the hold never depends on that).
HOLD_SCRIPT = (
    LOAD_SCRIPT
    + """
client = ClickHouseResource(url=sys.argv[1]).get_client()
print("held", flush=True)
sys.stdin.read()
"""
)

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
    holder_log = tmp_path / "holder.log"  # a file, not a pipe: the load's log never fills one up
    with holder_log.open("w") as log:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_SCRIPT, url, "2024-01-02", "reference", "1"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    run = None
    try:
        held = next((line for line in holder.stdout if line.strip() == "held"), None)
        assert held, holder_log.read_text()[-3000:]
        started = time.monotonic()
        run = subprocess.Popen(
            [sys.executable, "-c", RUN_SCRIPT, url, DAY, str(TRADES)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # B's log, up to its first retry (or its end): then A lets go.
        stderr_lines = []
        for line in run.stderr:
            stderr_lines.append(line)
            if "STEP_UP_FOR_RETRY" in line:
                break
        holder.stdin.close()
        stderr = "".join(stderr_lines) + run.stderr.read()  # B prints its outcome only at the end
        stdout = run.stdout.read()
        run.wait(timeout=120)
        elapsed = time.monotonic() - started
        assert holder.wait(timeout=30) == 0, holder_log.read_text()[-3000:]
    finally:
        for process in (holder, run):
            if process is not None and process.poll() is None:
                process.kill()
    assert run.returncode == 0, stderr[-3000:]
    outcome = json.loads(stdout.strip().splitlines()[-1])
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
