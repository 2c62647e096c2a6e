"""`make demo` end to end: the demo on the project's instance (dagster.yaml, PostgreSQL storage), run
twice, then the webserver on that same DAGSTER_HOME reports every asset materialized with the row
counts the demo printed, as `make ui` would show them.

Own DAGSTER_HOME, chDB store, data directory and throwaway databases; a small number of trades.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from pipeline.demo import stage_definitions
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.resources.local_postgres import create_database_if_missing, drop_database
from pipeline.settings import REPO_ROOT
from tests.browser import chromium_page
from tests.test_operations_server import _free_port, dagster_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SCREENSHOT = "demo_trades_1d_asset_page.png"

PYTHON = sys.executable
# The README shows the screenshot; it is rewritten only on request, so `make test` leaves the tree
# clean: PIVOT_UPDATE_ARTIFACTS=1 .venv/bin/python -m pytest tests/test_demo.py
UPDATE_ARTIFACTS = os.environ.get("PIVOT_UPDATE_ARTIFACTS") == "1"
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
WEBSERVER = str(Path(sys.executable).with_name("dagster-webserver"))
STEP_LINE = re.compile(r"^  (?P<asset>\S+)\s+(?P<partition>\S+)\s+(?P<rows>[\d,]+) rows\s+(?P<seconds>[\d.]+) s$")
CHECK_LINE = re.compile(r"^  check (?P<check>\S+)\s+(?P<partition>\S+)\s+(?P<outcome>passed|FAILED.*?)\s+[\d.]+ s$")
ROW_COUNT_KEYS = ("dagster/partition_row_count", "dagster/row_count", "rows")

ASSETS_QUERY = """
{
  assetNodes {
    assetKey { path }
    metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name } } } }
    assetMaterializations(limit: 1) {
      partition runId
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory, postgres_admin_url):
    root = tmp_path_factory.mktemp("demo")
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
    databases = {"dagster": f"dagster_demo_{suffix}", "warehouse": f"dist_perf_dw_demo_{suffix}"}
    for database in databases.values():
        create_database_if_missing(postgres_admin_url, database)

    def url_of(database: str, driver: str) -> str:
        return postgres_admin_url.set(drivername=driver, database=database).render_as_string(hide_password=False)

    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIVOT_", "DAGSTER_"))}
    env.update(
        PIVOT_CLICKHOUSE_URL=f"chdb://{root / 'clickhouse'}",
        PIVOT_DATA_DIR=str(root / "data"),
        PIVOT_LANDING_DIR=str(root / "landing"),
        PIVOT_DAGSTER_STORAGE_URL=url_of(databases["dagster"], "postgresql+psycopg2"),
        PIVOT_POSTGRES_URL=url_of(databases["warehouse"], "postgresql+psycopg"),
        DAGSTER_HOME=str(root / "dagster_home"),  # empty: the demo writes dagster.yaml there itself
        PYTHONUNBUFFERED="1",
    )
    try:
        yield env
    finally:
        for database in databases.values():
            drop_database(postgres_admin_url, database)


def _run_demo(env: dict, *args: str) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [PYTHON, "-m", "pipeline.demo", "--days", "1", "--trades-per-day", "200", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, f"demo exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
    return completed


def _steps(stdout: str) -> dict[str, tuple[str, int]]:
    return {
        m["asset"]: (m["partition"], int(m["rows"].replace(",", "")))
        for m in map(STEP_LINE.match, stdout.splitlines())
        if m
    }


def _screenshot_asset_page(base_url: str, user_data_dir: Path, screenshot: Path) -> None:
    """In headless Chromium: the demo-loaded pivot/trades_1d page shows its metadata and column
    schema (from the DDL); the full page goes to tests/artifacts/ (the README links it)."""
    from playwright.sync_api import expect

    with chromium_page(user_data_dir, height=1100) as page:
        page.goto(f"{base_url}/assets/pivot/trades_1d", wait_until="domcontentloaded")
        expect(page.get_by_text("exposure_type", exact=True).first).to_be_visible()
        expect(page.get_by_text("notional_usd", exact=True).first).to_be_visible()
        page.screenshot(path=str(screenshot), full_page=True)


def test_demo_runs_twice_on_the_project_instance_and_the_ui_shows_what_it_printed(demo_env):
    from pipeline.definitions import defs

    first = _run_demo(demo_env)
    second = _run_demo(demo_env, "--no-answers")  # a second `make demo` replaces the same partitions

    for completed in (first, second):
        # Dagster's own chatter stays off the terminal when all goes well.
        assert completed.stderr == ""
        for noise in ("No dagster instance configuration file", "Telemetry", "telemetry", " - dagster - "):
            assert noise not in completed.stdout
        assert "make ui" in completed.stdout and "http://127.0.0.1:3000" in completed.stdout
        assert "http://127.0.0.1:3000/assets/pivot/trades_1d" in completed.stdout
    assert "=== pivot: top level view" in first.stdout  # the answers

    printed = _steps(second.stdout)
    asset_keys = {key.to_user_string() for asset in defs.assets for key in asset.keys}
    assert set(printed) == asset_keys, "one line per materialized asset"
    checks = [m for m in map(CHECK_LINE.match, second.stdout.splitlines()) if m]
    run_with_their_assets = {
        f"{key.asset_key.to_user_string()}:{key.name}"
        for partitions_def in (None, trade_date_partitions, month_partitions)
        for definition in stage_definitions(defs, partitions_def)
        if isinstance(definition, dg.AssetChecksDefinition)
        for key in definition.check_keys
    }
    assert {m["check"] for m in checks} == run_with_their_assets and len(checks) == len(run_with_their_assets)
    assert all(m["outcome"] == "passed" for m in checks), [m.group(0) for m in checks if m["outcome"] != "passed"]
    assert printed["pivot/trades_1d"][1] > 200  # traded rows plus look-through rows
    assert printed["pivot/trades_1d"] == _steps(first.stdout)["pivot/trades_1d"]  # deterministic

    # The instance the demo wrote: what `make ui` opens.
    home = Path(demo_env["DAGSTER_HOME"])
    assert (home / "dagster.yaml").read_text() == (REPO_ROOT / "dagster.yaml").read_text()

    with dagster_server([WEBSERVER], demo_env, _free_port(), home.parent / "webserver.log") as server:
        nodes = server.graphql(ASSETS_QUERY)["data"]["assetNodes"]
        screenshot = (ARTIFACTS if UPDATE_ARTIFACTS else home.parent) / SCREENSHOT
        _screenshot_asset_page(server.url, home.parent / "chromium-profile", screenshot)
    assert screenshot.stat().st_size > 10_000

    ui = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    with server.instance() as instance:
        demo_runs = instance.get_runs(dg.RunsFilter(tags={"pivot/source": "demo"}))  # newest first
    assert len(demo_runs) % 2 == 0 and all(run.status == dg.DagsterRunStatus.SUCCESS for run in demo_runs)
    second_runs = {run.run_id for run in demo_runs[: len(demo_runs) // 2]}
    for key, (partition, rows) in printed.items():
        materializations = ui[key]["assetMaterializations"]
        assert materializations, f"{key}: the UI shows no materialization"
        latest = materializations[0]
        assert latest["runId"] in second_runs
        assert (latest["partition"] or "-") == partition, key
        entries = {entry["label"]: entry.get("intValue") for entry in latest["metadataEntries"]}
        ui_rows = next(entries[label] for label in ROW_COUNT_KEYS if label in entries)
        assert ui_rows == rows, f"{key}: the UI shows {ui_rows} rows, the demo printed {rows}"

    # The column schema, on every asset whose definition declares one (the pivot tables' come from the DDL).
    with_schema = {
        key.to_user_string(): asset.metadata_by_key[key]["dagster/column_schema"]
        for asset in defs.assets
        for key in asset.keys
        if "dagster/column_schema" in asset.metadata_by_key.get(key, {})
    }
    for key, schema in with_schema.items():
        entries = [e for e in ui[key]["metadataEntries"] if e["label"] == "dagster/column_schema"]
        assert entries, f"{key}: no column schema in the UI"
        assert [c["name"] for c in entries[0]["schema"]["columns"]] == [c.name for c in schema.columns]


def test_make_web_after_the_demo_shows_the_days_it_loaded(demo_env):
    """`make web` right after `make demo`: `python -m pipeline.web` on the demo's environment (no web
    variable set) serves the dist_perf_dw days and the pivot trade date the demo loaded."""
    import json
    import urllib.request

    import sqlalchemy as sa

    from benchmarks.web_load import _free_port, base_url, wait_for

    engine = sa.create_engine(demo_env["PIVOT_POSTGRES_URL"])
    with engine.connect() as connection:
        query = "SELECT count(*), max(flow_date) FROM dist_perf_dw.fact_aum_flows"
        flows, latest = connection.execute(sa.text(query)).one() if sa.inspect(connection).has_table(
            "fact_aum_flows", schema="dist_perf_dw") else (0, None)
    if not flows:  # run alone: the demo first
        _run_demo(demo_env, "--no-answers")
        with engine.connect() as connection:
            flows, latest = connection.execute(sa.text(query)).one()
    engine.dispose()
    port = _free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "pipeline.web", "--port", str(port)], cwd=REPO_ROOT, env=demo_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(base_url(port), server)
        with urllib.request.urlopen(f"{base_url(port)}/api/", timeout=60) as response:
            overview = json.load(response)
        assert overview["range"]["to"] == latest.isoformat() and overview["totals"]["flows"] == flows
        with urllib.request.urlopen(f"{base_url(port)}/api/pivot/", timeout=60) as response:
            assert json.load(response), "the demo's trade dates"
        with urllib.request.urlopen(f"{base_url(port)}/", timeout=60) as response:
            assert b"Distribution overview" in response.read()
    finally:
        server.terminate()
        server.wait(30)
