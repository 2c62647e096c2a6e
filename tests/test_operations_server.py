"""Production-like operation, end to end: `dagster dev` on a PostgreSQL instance, the three CLI
backfill paths, and the UI in headless Chromium.

One webserver + daemon serves the whole module, started the way `make ui` starts it
(pipeline.instance) but on a free port, with its own DAGSTER_HOME, its own chDB store,
its own landing and data directories, and throwaway databases on the test PostgreSQL
for the Dagster storage and for dist_perf_dw. The tests run in file order and build
on each other's data, like an operator's session.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipeline.resources.local_postgres import create_database_if_missing, drop_database
from pipeline.settings import REPO_ROOT
from tests.browser import chromium_page

pytestmark = pytest.mark.slow

PYTHON = sys.executable
DAGSTER = str(Path(sys.executable).with_name("dagster"))
SMALL_TRADES = {"ops": {"pivot__trades_1d": {"config": {"trades_per_day": 200}}}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DagsterServer:
    """A running `dagster dev` and the environment to talk to its instance."""

    def __init__(self, env: dict, port: int, process: subprocess.Popen, log: Path):
        self.env, self.port, self.process, self.log = env, port, process, log
        self.url = f"http://127.0.0.1:{port}"

    def run(self, args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
        completed = subprocess.run(args, cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        if completed.returncode != 0:
            raise AssertionError(
                f"{args} exited {completed.returncode}:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
            )
        return completed

    def instance(self) -> dg.DagsterInstance:
        """A fresh instance object on the server's storage, as a restarted process would open it."""
        saved = dict(os.environ)
        os.environ.update({k: self.env[k] for k in ("DAGSTER_HOME", "PIVOT_DAGSTER_STORAGE_URL")})
        try:
            return dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"])
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.url + "/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@contextlib.contextmanager
def dagster_server(command: list[str], env: dict, port: int, log: Path) -> Iterator[DagsterServer]:
    """`command` (dagster dev, dagster-webserver) on 127.0.0.1:`port` with the repository's workspace,
    loaded; stopped with every child it started (its own process group, nothing else) afterwards."""
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port), "-w", str(REPO_ROOT / "workspace.yaml")],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DagsterServer(env, port, process, log)
    try:
        _wait_until_loaded(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _wait_until_loaded(server: DagsterServer, timeout: float = 180) -> None:
    """Until the code location is loaded; a load error fails at once, with its message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"the server exited:\n{server.log.read_text()[-4000:]}"
        try:
            entries = server.graphql(LOCATION_QUERY)["data"]["workspaceOrError"]["locationEntries"]
        except OSError:
            entries = []
        loaded = [entry["locationOrLoadError"] for entry in entries if entry["locationOrLoadError"]]
        errors = [location["message"] for location in loaded if location["__typename"] == "PythonError"]
        assert not errors, f"the code location failed to load: {errors[0][:2000]}"
        if entries and len(loaded) == len(entries):
            return
        time.sleep(0.5)
    raise AssertionError(f"the server did not load in {timeout}s:\n{server.log.read_text()[-4000:]}")


# What `dagster schedule stop` and `dagster sensor stop` do (dagster/_cli/schedule.py, sensor.py), for
# several instigators in one process: one start-up and one code-location load instead of one each.
# argv: workspace file, comma-separated schedule names, comma-separated sensor names.
STOP_SCRIPT = """
import sys
from dagster._cli.schedule import _get_repo
from dagster._cli.utils import get_instance_for_cli
from dagster._cli.workspace.cli_target import RepositoryOpts
from dagster_shared.cli import WorkspaceOpts
workspace = WorkspaceOpts(workspace=[sys.argv[1]])
schedules, sensors = sys.argv[2].split(","), sys.argv[3].split(",")
with get_instance_for_cli() as instance, _get_repo(workspace, RepositoryOpts(), instance) as repo:
    for name in filter(None, schedules):
        schedule = repo.get_schedule(name)
        instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)
    for name in filter(None, sensors):
        sensor = repo.get_sensor(name)
        instance.stop_sensor(sensor.get_remote_origin_id(), sensor.selector_id, sensor)
    stopped = {state.name for state in instance.all_instigator_state() if state.status.value == "STOPPED"}
    assert stopped >= {*filter(None, schedules), *filter(None, sensors)}, stopped
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, postgres_admin_url) -> DagsterServer:
    root = tmp_path_factory.mktemp("operations")
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
    databases = {"dagster": f"dagster_test_{suffix}", "warehouse": f"dist_perf_dw_ops_{suffix}"}
    for database in databases.values():
        create_database_if_missing(postgres_admin_url, database)

    def url_of(database: str, driver: str) -> str:
        return postgres_admin_url.set(drivername=driver, database=database).render_as_string(hide_password=False)

    env = dict(os.environ)
    env.update(
        PIVOT_CLICKHOUSE_URL=f"chdb://{root / 'clickhouse'}",
        PIVOT_DATA_DIR=str(root / "data"),
        PIVOT_LANDING_DIR=str(root / "landing"),
        PIVOT_DAGSTER_STORAGE_URL=url_of(databases["dagster"], "postgresql+psycopg2"),
        PIVOT_POSTGRES_URL=url_of(databases["warehouse"], "postgresql+psycopg"),
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONUNBUFFERED="1",
    )
    port = _free_port()
    subprocess.run(
        [PYTHON, "-m", "pipeline.instance", "prepare", "--home", env["DAGSTER_HOME"]],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    # The schedules that run by default would launch their own runs whenever a suite crosses
    # their tick (06:30 New York daily), and the freshness sensor launches check runs on its
    # own: the tests count runs, so they stop them first.
    from pipeline.definitions import defs
    from pipeline.sensors.freshness import facts_freshness_sensor

    stops = [
        schedule.name for schedule in defs.schedules if schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    ]
    subprocess.run(
        [PYTHON, "-c", STOP_SCRIPT, str(REPO_ROOT / "workspace.yaml"), ",".join(stops), facts_freshness_sensor.name],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        with dagster_server([DAGSTER, "dev"], env, port, root / "dagster_dev.log") as server:
            yield server
    finally:
        for database in databases.values():
            drop_database(postgres_admin_url, database)


def _wait_for_runs(instance: dg.DagsterInstance, filters: dg.RunsFilter, count: int, timeout: float = 600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters)
        if len(runs) >= count and all(run.is_finished for run in runs):
            return runs
        time.sleep(2)
    raise AssertionError(
        f"runs not finished in {timeout}s: {[(r.run_id, r.status) for r in instance.get_runs(filters)]}"
    )


def _materialized_partitions(instance, key: str) -> list[str]:
    records = instance.fetch_materializations(dg.AssetKey.from_user_string(key), limit=10_000).records
    return sorted(r.partition_key for r in records if r.partition_key)


REFERENCE_ASSETS = "pivot/instruments,pivot/constituents,pivot/fx_rates"


def test_instance_on_postgres_stores_runs_that_survive_a_restart(server):
    from pipeline.definitions import defs

    dimensions = ",".join(
        key.to_user_string()
        for asset in defs.assets
        for key in asset.keys
        if key.path[0] == "dist_perf_dw" and key.path[1].startswith("dim_")
    )
    server.run(
        [DAGSTER, "asset", "materialize", "-m", "pipeline.definitions", "--select", f"{REFERENCE_ASSETS},{dimensions}"]
    )
    with server.instance() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_latest_materialization_event(dg.AssetKey(["pivot", "constituents"])) is not None
        assert instance.event_log_storage.get_concurrency_info("clickhouse").slot_count == 1


def test_asset_materialize_partition_range_is_one_run(server):
    server.run(
        [
            DAGSTER,
            "asset",
            "materialize",
            "-m",
            "pipeline.definitions",
            "--select",
            "pivot/trades_1d,pivot/trades_1d_rollup",
            "--partition-range",
            "2024-01-02...2024-01-04",
            "--config-json",
            json.dumps(SMALL_TRADES),
        ]
    )
    with server.instance() as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/asset_partition_range_start": "2024-01-02"}))
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        assert _materialized_partitions(instance, "pivot/trades_1d") == ["2024-01-02", "2024-01-03", "2024-01-04"]
        assert _materialized_partitions(instance, "pivot/trades_1d_rollup") == [
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
        ]


def test_job_backfill_runs_one_run_per_partition_through_the_daemon(server):
    completed = server.run(
        [
            DAGSTER,
            "job",
            "backfill",
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
            "-j",
            "dist_perf_dw_daily",
            "--from",
            "2024-01-02",
            "--to",
            "2024-01-03",
            "--noprompt",
        ]
    )
    assert "Launched backfill job" in completed.stdout or "backfill" in completed.stdout.lower()
    with server.instance() as instance:
        backfill = instance.get_backfills()[0]
        runs = _wait_for_runs(instance, dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}), 2)
        assert sorted(run.tags["dagster/partition"] for run in runs) == ["2024-01-02", "2024-01-03"]
        assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs), [r.status for r in runs]
        assert _materialized_partitions(instance, "dist_perf_dw/fact_aum_flows") == ["2024-01-02", "2024-01-03"]


# New Year's Day (every venue closed: an empty partition) and the four sessions after it. The size of
# the range changes nothing the test proves (one run for the range, each partition once, the checks),
# only its run time; the monthly fact gets January, the month the range overlaps.
BACKFILL_FROM, BACKFILL_TO = "2024-01-01", "2024-01-05"
BACKFILL_DAYS = [f"2024-01-{d:02d}" for d in range(1, 6)]


def test_asset_backfill_through_graphql_respects_policies_and_checks_pass(server):
    """`python -m pipeline.backfill` over every asset: the single-run facts get one run for the
    range, every partition is materialized exactly once by the backfill, the monthly fact gets
    the one month the range overlaps, every check passes. January is not wholly loaded, so the
    compensation check compares totals only (its flows comparison over a whole month is
    tests/test_operations.py's)."""
    completed = server.run(
        [
            PYTHON,
            "-m",
            "pipeline.backfill",
            "--url",
            server.url,
            "--from",
            BACKFILL_FROM,
            "--to",
            BACKFILL_TO,
            "--select",
            "*",
            "--config-json",
            json.dumps(SMALL_TRADES),
            "--timeout",
            "900",
        ],
        timeout=960,
    )
    assert "completed: every targeted partition materialized" in completed.stdout
    assert "pivot/trades_1d" in completed.stdout  # the progress display names the assets
    with server.instance() as instance:
        backfill = instance.get_backfills()[0]
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
        backfill_run_ids = {run.run_id for run in runs}
        assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
        for key in (
            "pivot/trades_1d",
            "pivot/trades_1d_rollup",
            "dist_perf_dw/fact_aum_flows",
            "dist_perf_dw/fact_revenue",
            "dist_perf_dw/fact_retention_snapshots",
            "dist_perf_dw/fact_distribution_expense",
        ):
            records = instance.fetch_materializations(dg.AssetKey.from_user_string(key), limit=10_000).records
            in_backfill = sorted(r.partition_key for r in records if r.run_id in backfill_run_ids)
            assert in_backfill == BACKFILL_DAYS, key  # each partition exactly once
            # single_run() backfill policy: one run covers the whole range
            assert len({r.run_id for r in records if r.run_id in backfill_run_ids}) == 1, key
        comp = instance.fetch_materializations(
            dg.AssetKey.from_user_string("dist_perf_dw/fact_wholesaler_comp"), limit=10_000
        ).records
        assert [r.partition_key for r in comp if r.run_id in backfill_run_ids] == ["2024-01-01"]
        # Freshness judges the wall clock (today's due partition), not the backfilled 2024 dates.
        evaluations = [
            record.dagster_event.event_specific_data
            for run in runs
            for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            if record.dagster_event.event_specific_data.check_name != "freshness_check"
        ]
        assert evaluations and all(e.passed for e in evaluations), [
            (e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed
        ]
        assert {e.check_name for e in evaluations} >= {
            "constituent_weights_sum_to_one",
            "look_through_consistent",
            "no_duplicate_trade_rows",
            "greeks_within_spec_ranges",
            "rollup_matches_fact",
            "foreign_keys_resolve",
            "revenue_net_flows_match_aum_flows",
            "comp_net_flows_match_aum_flows",
        }


UI_ASSET, UI_PARTITION = "pivot/trades_1d_rollup", "2024-01-05"


def drive_ui_materialization(base_url: str, user_data_dir: Path, screenshot: Path, find_run) -> str:
    """In headless Chromium: the asset graph shows both groups; launch one partition of UI_ASSET
    from its page; `find_run` returns the launched run once it has finished; the run page shows
    Success and the asset's latest materialization shows its row count. Returns the run id."""
    from playwright.sync_api import expect

    with chromium_page(user_data_dir) as page:
        page.goto(base_url + "/asset-groups", wait_until="domcontentloaded")
        expect(page.get_by_text("dist_perf_dw", exact=True).first).to_be_visible()
        expect(page.get_by_text("pivot", exact=True).first).to_be_visible()
        page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_graph.png")))

        page.goto(f"{base_url}/assets/{UI_ASSET}", wait_until="domcontentloaded")
        page.get_by_role("button", name="Materialize…").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Show all partitions").click()
        partitions = dialog.locator("input").first
        partitions.fill(UI_PARTITION)
        partitions.press("Enter")
        expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
        dialog.get_by_role("button", name="Launch 1 run").click()

        run_id = find_run()
        page.goto(f"{base_url}/runs/{run_id}", wait_until="domcontentloaded")
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()

        page.goto(f"{base_url}/assets/{UI_ASSET}?view=events&partition={UI_PARTITION}", wait_until="domcontentloaded")
        expect(page.get_by_text("rows_loaded", exact=True).first).to_be_visible()
        expect(page.get_by_text(run_id[:8]).first).to_be_visible()
        page.screenshot(path=str(screenshot), full_page=True)
        return run_id


@pytest.mark.browser
def test_ui_materializes_a_partition_in_a_real_browser(server, tmp_path):
    def find_run() -> str:
        with server.instance() as instance:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                runs = [
                    run
                    for run in instance.get_runs(dg.RunsFilter(tags={"dagster/partition": UI_PARTITION}))
                    if "dagster/backfill" not in run.tags
                ]
                if runs and runs[0].is_finished:
                    return runs[0].run_id
                time.sleep(1)
        raise AssertionError(f"the UI launched no run that finished: {runs}")

    run_id = drive_ui_materialization(
        server.url, tmp_path / "chromium-profile", tmp_path / "ui_materialization.png", find_run
    )
    with server.instance() as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        event = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(UI_ASSET))
        assert event.run_id == run_id and event.asset_materialization.metadata["dagster/row_count"].value > 0
    assert (tmp_path / "ui_materialization.png").stat().st_size > 10_000
