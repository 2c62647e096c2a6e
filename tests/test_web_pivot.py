"""The pivot pages of the web app on the embedded store (issue 19, item 8): `python -m pipeline.web` reads
a trade date's top-level and look-through views in USD and a symbol's exposure, equal to the day's loaded
totals; while another process holds the store (as a load does) a request answers 503 with Retry-After and
the sentence saying why, at once, and the pages work again once the store is free.

Every chDB store is opened in a subprocess: chDB serves one directory per process, and this test
process may hold the session's own store."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date

import pytest

from benchmarks.web_load import _free_port, base_url, wait_for
from pipeline.settings import REPO_ROOT

pytestmark = pytest.mark.slow
DAY = date(2024, 1, 17)  # a Wednesday every venue trades


@pytest.fixture(scope="module")
def pivot_store(tmp_path_factory) -> tuple[str, dict]:
    store = tmp_path_factory.mktemp("pivot_store") / "clickhouse"
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import json, sys, datetime as dt; from benchmarks.web_data import load_pivot_day; "
         f"print(json.dumps(load_pivot_day({str(store)!r}, dt.date.fromisoformat({DAY.isoformat()!r}), 1500)))"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    return str(store), json.loads(loaded.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def server(pivot_store, fresh_postgres_database, tmp_path_factory):
    store, _ = pivot_store
    # The app also serves dist_perf_dw: an empty one (the reader role is set up on it) is enough here.
    dist_perf_dw = fresh_postgres_database("web_pivot")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIVOT_WEB_")}
    env.update(PIVOT_CLICKHOUSE_URL=f"chdb://{store}",
               PIVOT_POSTGRES_URL=dist_perf_dw.url)
    log = tmp_path_factory.mktemp("web_pivot") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.web", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(base_url(port), process)
        yield base_url(port)
    finally:
        process.terminate()
        process.wait(30)
        print(log.read_text()[-3000:])


def _get(url: str, timeout: float = 60) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_pivot_pages_show_the_days_views_in_usd(server, pivot_store):
    _, totals = pivot_store
    status, _, body = _get(f"{server}/api/pivot/")
    assert status == 200 and json.loads(body)[0]["trade_date"] == DAY.isoformat()
    status, _, body = _get(f"{server}/api/pivot/{DAY}?limit=1000")
    page = json.loads(body)
    top_level = sum(row["total_notional_usd"] for row in page["top_level_view_usd"])
    assert top_level == pytest.approx(sum(v for k, v in totals.items() if k in ("Direct", "ETF", "ETC")), rel=1e-9)
    look_through = sum(row["total_notional_usd"] for row in page["look_through_view_usd"])
    assert look_through == pytest.approx(totals["Direct"] + totals["Constituent"], rel=1e-9)
    aapl = json.loads(_get(f"{server}/api/pivot/{DAY}/symbols/AAPL")[2])
    assert aapl["total_exposure_usd"] == pytest.approx(aapl["direct_exposure_usd"] + aapl["etf_exposure_usd"])
    assert aapl["etf_exposure_usd"] > 0
    for path in ("/pivot/", f"/pivot/{DAY}", f"/pivot/{DAY}/symbols/AAPL"):
        status, headers, body = _get(server + path)
        assert status == 200 and headers["Content-Type"].startswith("text/html"), path
    assert _get(f"{server}/pivot/2024-13-01")[0] == 400
    assert _get(f"{server}/pivot/2024-01-20")[0] == 404  # a Saturday: nothing loaded
    assert _get(f"{server}/api/pivot/{DAY}/symbols/NOPE")[0] == 404
    assert _get(f"{server}/api/pivot/{DAY}/symbols/%27%20OR%201%3D1")[0] == 404


def test_a_store_held_by_a_load_answers_503_at_once_then_reads_again(server, pivot_store):
    store, _ = pivot_store
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from pipeline.resources.clickhouse import ClickHouseResource; "
         f"ClickHouseResource(url='chdb://{store}').get_client(); print('holding', flush=True); time.sleep(120)"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        for path in (f"/pivot/{DAY}", f"/api/pivot/{DAY}", "/api/pivot/"):
            started = time.monotonic()
            status, headers, body = _get(server + path, timeout=30)
            assert status == 503, (path, body[:300])
            assert time.monotonic() - started < 10  # never a hang
            assert headers["Retry-After"] == "5"
            assert b"held by another process" in body and b"ClickHouse server" in body
        # dist_perf_dw pages do not depend on the store
        assert _get(f"{server}/api/flows?group=channel")[0] == 200
    finally:
        holder.terminate()
        holder.wait(30)
    assert _get(f"{server}/api/pivot/{DAY}")[0] == 200
