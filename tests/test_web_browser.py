"""The web pages as a person sees them: `python -m pipeline.web` (waitress, the reader role) on a small
generated dist_perf_dw, headless Chromium (Playwright) opening the overview and following links to a
firm, an advisor and a wholesaler, each figure shown checked against the ORM; charts drawn by the
app's own Chart.js with nothing requested off this machine; the hostile firm name shown as text.
Then a short bounded load run (benchmarks/web_load.py) against the same server.

Screenshots go to tests/artifacts (shown by the README) only on request:
PIVOT_UPDATE_ARTIFACTS=1 .venv/bin/python -m pytest tests/test_web_browser.py
"""

import os
import shutil
import subprocess
import sys
import urllib.parse
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from benchmarks.web_load import _free_port, page_mix, run_load, wait_for
from pipeline.dist_perf_dw.models import (
    DimAdvisors,
    DimFirms,
    DimWholesalers,
    FactAUMFlow,
    FactWholesalerComp,
)
from pipeline.settings import REPO_ROOT
from tests.browser import chromium_page
from tests.web_fixtures import DAYS, HOSTILE_NAME, RANGE

pytestmark = [pytest.mark.slow, pytest.mark.browser]
UPDATE_ARTIFACTS = os.environ.get("PIVOT_UPDATE_ARTIFACTS") == "1"
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
QUERY = urllib.parse.urlencode(RANGE)


@pytest.fixture(scope="module")
def server(warehouse, tmp_path_factory):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "PIVOT_WEB_POSTGRES_URL"}
    env["PIVOT_POSTGRES_URL"] = warehouse.admin_url.render_as_string(hide_password=False)
    log = tmp_path_factory.mktemp("web") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.web", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(30)
        print(log.read_text()[-3000:])


def _shown(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def _net(session: Session, **where) -> Decimal:
    query = session.query(sa.func.sum(FactAUMFlow.net_amount)).filter(FactAUMFlow.flow_date.between(DAYS[0], DAYS[-1]))
    for column, value in where.items():
        query = query.filter(getattr(FactAUMFlow, column) == value)
    return query.scalar()


def test_a_reader_follows_overview_firm_advisor_wholesaler_and_sees_the_orms_figures(server, warehouse, tmp_path):
    shots, off_machine, dialogs = {}, [], []
    with chromium_page(tmp_path / "profile", width=1400, height=1000) as page, \
            Session(warehouse.engine()) as session:

        def only_this_machine(route):
            host = urllib.parse.urlsplit(route.request.url).hostname
            if host != "127.0.0.1":
                off_machine.append(route.request.url)
                return route.abort()
            return route.continue_()

        page.route("**/*", only_this_machine)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        def screenshot(name: str) -> None:
            page.wait_for_selector("canvas[data-drawn=true]")
            shots[name] = tmp_path / f"{name}.png"
            page.screenshot(path=str(shots[name]))

        # Overview: totals and the top firm as the ORM has them; the chart drawn by the app's Chart.js.
        page.goto(f"{server}/?{QUERY}")
        assert _shown(page.inner_text("#totals [data-field=net_amount]")) == _net(session)
        first_firm = page.locator("#top-firms tbody tr").first
        assert first_firm.get_attribute("data-key") == warehouse.hostile_crd
        assert page.locator("#top-firms tbody tr").count() == 10
        assert page.locator("#revenue-by-product .flag").count() > 0
        screenshot("web_overview")

        # A firm: its name (markup in it) shown as text, its net flows the ORM's.
        first_firm.locator("a").click()
        page.wait_for_url("**/firms/**")
        assert QUERY in page.url  # links keep the range
        firm = session.query(DimFirms).filter_by(crd_number=warehouse.hostile_crd).one()
        assert page.inner_text("h1#name") == HOSTILE_NAME
        assert page.evaluate("window.__pwned") is None and not dialogs
        assert _shown(page.inner_text("#totals [data-field=net_amount]")) == _net(session, firm_id=firm.firm_id)
        assert firm.firm_type.firm_type_name in page.inner_text("p.sub")
        screenshot("web_firm")

        # An advisor of the firm: net flows, and the firm named through advisor.firm.firm_type.
        page.locator("#top-advisors tbody tr a").first.click()
        page.wait_for_url("**/advisors/**")
        assert QUERY in page.url  # links keep the range
        crd = page.url.rsplit("/", 1)[1].split("?")[0]
        advisor = session.query(DimAdvisors).filter_by(crd_number=crd).one()
        assert page.inner_text("h1#name") == advisor.advisor_name
        shown = _shown(page.inner_text("#totals [data-field=net_amount]"))
        assert shown == _net(session, advisor_id=advisor.advisor_id)
        assert advisor.firm.firm_type.firm_type_name in page.inner_text("p.sub")
        assert page.locator("#retention tbody tr").count() == 4
        screenshot("web_advisor")

        # The wholesaler covering them: the month's compensation row.
        page.locator("#wholesalers tbody tr a").first.click()
        page.wait_for_url("**/wholesalers/**")
        assert QUERY in page.url  # links keep the range
        code = page.url.rsplit("/", 1)[1].split("?")[0]
        wholesaler = session.query(DimWholesalers).filter_by(employee_code=code).one()
        comp = session.query(FactWholesalerComp).filter_by(wholesaler_id=wholesaler.wholesaler_id).one()
        assert page.inner_text("h1#name") == wholesaler.wholesaler_name
        assert _shown(page.inner_text("#sales-comp [data-field=total_comp_amount]")) == comp.total_comp_amount
        assert _shown(page.inner_text("#totals [data-field=net_amount]")) == _net(
            session, wholesaler_id=wholesaler.wholesaler_id)
        screenshot("web_wholesaler")

    assert off_machine == []
    if UPDATE_ARTIFACTS:
        for name, path in shots.items():
            shutil.copy(path, ARTIFACTS / f"{name}.png")


def test_a_bounded_load_run_against_the_server_has_no_errors(server):
    pages = page_mix(server, QUERY)
    assert {kind for kind, _ in pages} == {"overview", "firm", "product", "wholesaler", "advisor"}
    results = run_load(server, pages, clients=4, seconds=3, max_requests=400).summary()
    assert results["errors"] == 0 and results["requests"] > 0
    with pytest.raises(SystemExit, match="loopback"):
        run_load("http://10.0.0.1:8000", pages, clients=1, seconds=1, max_requests=1)
