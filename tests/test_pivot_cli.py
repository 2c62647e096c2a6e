"""The CLI paths the README gives, run as a user would, against their own temporary store."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.trade_generation import trades_on
from pipeline.settings import DEFAULT_SEED, REPO_ROOT

pytestmark = pytest.mark.slow
DAGSTER = str(Path(sys.executable).with_name("dagster"))


@pytest.fixture
def cli_env(tmp_path):
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        PIVOT_CLICKHOUSE_URL=f"chdb://{tmp_path / 'clickhouse'}",
        PIVOT_DATA_DIR=str(tmp_path / "data"),
    )
    (tmp_path / "dagster_home").mkdir()
    return env


def _run(args, env, check=True):
    completed = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    if check and completed.returncode != 0:
        raise AssertionError(f"{args} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return completed


def _query(env, *sqls):
    """Each query's rows (as strings), all read by one process."""
    script = (
        "import json, sys; from pipeline.resources.clickhouse import ClickHouseResource; "
        "import os; r = ClickHouseResource(url=os.environ['PIVOT_CLICKHOUSE_URL']); "
        "print(json.dumps([[list(map(str, row)) for row in r.query_rows(sql)] for sql in sys.argv[1:]]))"
    )
    return json.loads(_run([sys.executable, "-c", script, *sqls], env).stdout.strip().splitlines()[-1])


def test_partition_and_range_from_the_cli(cli_env):
    materialize = [DAGSTER, "asset", "materialize", "-m", "pipeline.definitions"]
    _run(materialize + ["--select", "pivot/instruments,pivot/constituents,pivot/fx_rates"], cli_env)
    config = json.dumps({"ops": {"pivot__trades_1d": {"config": {"trades_per_day": 500}}}})
    _run(materialize + ["--select", "pivot/trades_1d", "--partition", "2024-01-16", "--config-json", config], cli_env)
    _run(
        materialize
        + [
            "--select",
            "pivot/trades_1d,pivot/trades_1d_rollup",
            "--partition-range",
            "2024-01-01...2024-01-03",
            "--config-json",
            config,
        ],
        cli_env,
    )
    per_day, rollup_days = _query(
        cli_env,
        "SELECT trade_date, countIf(is_constituent_exposure = 0) FROM pivot.trades_1d "
        "GROUP BY trade_date ORDER BY trade_date",
        "SELECT DISTINCT trade_date FROM pivot.trades_1d_rollup ORDER BY trade_date",
    )
    # New Year's Day every venue is closed (loaded, empty); Tokyo stays closed to 2024-01-03, so those
    # days trade less than a full day's 500.
    instruments = build_instruments(DEFAULT_SEED)
    expected = {day: trades_on(date.fromisoformat(day), 500, instruments) for day in ("2024-01-02", "2024-01-03")}
    assert 0 < expected["2024-01-02"] < 500
    assert per_day == [[day, str(count)] for day, count in expected.items()] + [["2024-01-16", "500"]]
    assert rollup_days == [["2024-01-02"], ["2024-01-03"]]


def test_bad_partition_key_and_bad_config_fail_clearly(cli_env):
    """A partition key that is no date and an out-of-range trades_per_day each fail the command, named,
    and nothing is written. The out-of-range value is refused as the step starts, like any run would
    refuse it; the run turns the executor's retries off only so the refusal is not tried twice more,
    15 s apart."""
    materialize = [DAGSTER, "asset", "materialize", "-m", "pipeline.definitions", "--select", "pivot/trades_1d"]
    bad_key = _run(materialize + ["--partition", "2024-13-45"], cli_env, check=False)
    assert bad_key.returncode != 0
    assert "2024-13-45" in bad_key.stderr + bad_key.stdout
    bad_config = _run(
        materialize
        + [
            "--partition",
            "2024-01-16",
            "--config-json",
            json.dumps(
                {
                    "execution": {"config": {"retries": {"disabled": {}}}},
                    "ops": {"pivot__trades_1d": {"config": {"trades_per_day": -5}}},
                }
            ),
        ],
        cli_env,
        check=False,
    )
    assert bad_config.returncode != 0
    assert "trades_per_day" in bad_config.stderr + bad_config.stdout
    assert "Input should be greater than or equal to 0" in bad_config.stderr + bad_config.stdout
    assert _query(cli_env, "SELECT count() FROM pivot.trades_1d") == [[["0"]]]  # refused before writing


def test_a_busy_embedded_store_gives_a_clear_error(clickhouse):
    if not clickhouse.is_embedded:
        pytest.skip("only the embedded store admits one process at a time")
    store = clickhouse.url.removeprefix("chdb://")
    script = (
        "from pipeline.resources.clickhouse import ClickHouseResource; import sys; "
        "ClickHouseResource(url=sys.argv[1]).get_client()"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, clickhouse.url], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode != 0
    assert f"Cannot open the embedded ClickHouse store at {store}" in completed.stderr
    assert "one process per data directory" in completed.stderr
    # and the holder's data is untouched
    assert (
        clickhouse.query_rows(
            "SELECT count() FROM system.tables WHERE database = {db:String}", {"db": clickhouse.database}
        )[0][0]
        == 7  # the five tables, pivot.trades_1d_versions and pivot.trades_1d_archive
    )
