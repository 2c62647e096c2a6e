"""No URL with a password is ever printed or stored: every malformed shape of a store URL is
refused showing the URL redacted, on the console and in the Dagster event log alike."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.resources.clickhouse import ClickHouseResource, redact_url
from pipeline.resources.postgres import normalize_url
from pipeline.settings import REPO_ROOT

pytestmark = pytest.mark.slow
DAGSTER = str(Path(sys.executable).with_name("dagster"))
SECRET = "Pa55-never-shown"

CLICKHOUSE_SHAPES = {
    "bad port": (f"http://analyst:{SECRET}@127.0.0.1:notaport", "the port is not a number"),
    "port out of range": (f"http://analyst:{SECRET}@127.0.0.1:99999", "the port is outside 1-65535"),
    "unknown scheme": (f"htpp://analyst:{SECRET}@127.0.0.1:8123", "unsupported scheme 'htpp'"),
    "missing host": (f"http://analyst:{SECRET}@:8123", "no host"),
    "bad percent-encoding": (f"http://analyst:{SECRET}%zz@127.0.0.1:8123", "% not followed by two hex digits"),
    "unclosed IPv6 host": (f"http://analyst:{SECRET}@[::1:8123", "the IPv6 host is not written"),
    "no //": (f"http:analyst:{SECRET}@127.0.0.1:8123", "no // after the scheme"),
}
POSTGRES_SHAPES = {
    "bad port": (f"postgresql://loader:{SECRET}@127.0.0.1:notaport/dw", "the port is not a number"),
    "port out of range": (f"postgresql://loader:{SECRET}@127.0.0.1:99999/dw", "the port is outside 1-65535"),
    "unknown scheme": (f"postgrsql://loader:{SECRET}@127.0.0.1:5432/dw", "must be a postgresql+psycopg:// URL"),
    "bad percent-encoding": (f"postgresql://loader:{SECRET}%zz@127.0.0.1/dw", "% not followed by two hex digits"),
    "unclosed IPv6 host": (f"postgresql://loader:{SECRET}@[::1/dw", "the IPv6 host is not written"),
    "no //": (f"postgresql:loader:{SECRET}@127.0.0.1/dw", "no // after the scheme"),
}


def _materialize(tmp_path: Path, variable: str, url: str, select: str) -> tuple[str, str]:
    """A real `dagster asset materialize` with the URL in the environment: its console output and
    everything the instance stored about the run (event log, run config, tags)."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, DAGSTER_HOME=str(home), PIVOT_DATA_DIR=str(tmp_path / "data"))
    env.setdefault("PIVOT_CLICKHOUSE_URL", f"chdb://{tmp_path / 'clickhouse'}")
    env[variable] = url
    completed = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "pipeline.definitions", "--select", select],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode != 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    stored = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in instance.get_runs():
            stored.append(str(run.run_config) + str(run.tags))
            stored.extend(str(record) for record in instance.all_logs(run.run_id))
    return completed.stdout + completed.stderr, "\n".join(stored)


@pytest.mark.parametrize("shape", CLICKHOUSE_SHAPES)
def test_a_malformed_clickhouse_url_never_shows_its_password(tmp_path, shape):
    url, problem = CLICKHOUSE_SHAPES[shape]
    console, event_log = _materialize(tmp_path, "PIVOT_CLICKHOUSE_URL", url, "pivot/instruments")
    assert problem in console and problem in event_log
    assert f"PIVOT_CLICKHOUSE_URL={redact_url(url)!r}" in event_log
    assert SECRET not in console
    assert SECRET not in event_log


@pytest.mark.parametrize("shape", POSTGRES_SHAPES)
def test_a_malformed_postgres_url_never_shows_its_password(tmp_path, shape):
    url, problem = POSTGRES_SHAPES[shape]
    console, event_log = _materialize(tmp_path, "PIVOT_POSTGRES_URL", url, "dist_perf_dw/dim_dates")
    assert problem in console and problem in event_log
    assert SECRET not in console
    assert SECRET not in event_log


@pytest.mark.parametrize("url, problem", CLICKHOUSE_SHAPES.values(), ids=list(CLICKHOUSE_SHAPES))
def test_the_resource_refuses_each_shape_without_the_password(url, problem):
    with pytest.raises(Exception) as refused:
        ClickHouseResource(url=url)
    assert problem in str(refused.value)
    assert SECRET not in str(refused.value)  # pydantic's input_value='…' included


@pytest.mark.parametrize("url, problem", POSTGRES_SHAPES.values(), ids=list(POSTGRES_SHAPES))
def test_the_postgres_url_check_refuses_each_shape_without_the_password(url, problem):
    with pytest.raises(ValueError) as refused:
        normalize_url(url)
    assert problem in str(refused.value)
    assert SECRET not in str(refused.value)


def test_redaction_works_on_urls_no_parser_accepts():
    assert redact_url("http://a:p@ss@h:notaport") == "http://a:***@h:notaport"
    assert redact_url("htpp//a:pw@h") == "htpp//a:***@h"
    assert redact_url("http://h:8123/?user=a&password=pw") == "http://h:8123/?user=a&password=***"
    assert redact_url("chdb:///srv/pivot") == "chdb:///srv/pivot"
