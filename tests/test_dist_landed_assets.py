"""dist_perf_dw on a distribution team's landed feeds, end to end through the Dagster assets on the
project's PostgreSQL: masters merged with stable keys and effective-dated assignments."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pipeline.assets import dist_perf_dw
from pipeline.dist_perf_dw.models import AdvisorAssignments, DimAdvisors, DimProducts
from pipeline.dist_perf_dw.tables import DIMENSION_TABLES
from pipeline.resources.generation import GenerationSettings
from tests.dist_landed_files import (
    ADVISOR_HEADER,
    ADVISORS,
    FIRM_HEADER,
    FIRMS,
    PRODUCT_HEADER,
    PRODUCTS,
    WHOLESALER_HEADER,
    WHOLESALERS,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.slow

ALL_ASSETS = dist_perf_dw.defs.assets


def landed_config(tables) -> dict:
    return {"ops": {f"dist_perf_dw__{table}": {"config": {"source": "landed"}} for table in tables}}


def materialize(instance, postgres, tables, expect_success=True, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS, selection=[dist_perf_dw.table_key(t) for t in tables],
        resources={"postgres": postgres, "generation": GenerationSettings()}, instance=instance,
        run_config=landed_config(tables), raise_on_error=expect_success, **kwargs,
    )


def land_masters(root, advisors=ADVISORS, firms=FIRMS):
    write_xlsx(root / "firms" / "crm_firms_2025-03-01.xlsx", FIRM_HEADER, firms)
    write_csv(root / "advisors" / "advisors_2025-03-20.csv", ADVISOR_HEADER, advisors)
    write_csv(root / "products" / "products.csv", PRODUCT_HEADER, PRODUCTS)
    write_csv(root / "wholesalers" / "wholesalers.csv", WHOLESALER_HEADER, WHOLESALERS)


@pytest.fixture
def dist_landing(landing):
    return landing / "dist_perf_dw"


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def postgres(fresh_postgres_database):
    return fresh_postgres_database("landed")


def failure(result) -> str:
    return result.get_step_failure_events()[0].event_specific_data.error.to_string()


def _metadata(result, table):
    return result.asset_materializations_for_node(f"dist_perf_dw__{table}")[0].metadata


def test_landed_dimensions_hold_the_landed_members_with_stable_keys_and_history(dist_landing, instance, postgres):
    land_masters(dist_landing)
    result = materialize(instance, postgres, DIMENSION_TABLES)
    with Session(postgres.get_engine()) as session:
        ann = session.query(DimAdvisors).filter_by(crd_number="5000001").one()
        assert (ann.firm.firm_name, ann.territory.territory_code, ann.firm.channel.channel_code) == (
            "Beacon Wealth Advisors", "SE2", "RIA")
        history = session.query(AdvisorAssignments).filter_by(advisor_id=ann.advisor_id).order_by(
            AdvisorAssignments.effective_date).all()
        assert [(a.effective_date, a.firm.crd_number, a.territory.territory_code) for a in history] == [
            (dt.date(2015, 1, 5), "101", "NE1"), (dt.date(2025, 3, 17), "202", "SE2")]
        assert session.query(DimProducts).filter_by(ticker="SLCGX").one().cusip == PRODUCTS[0][0]
        # Landed members only, no synthetic ones beside them; the Unassigned members are there.
        assert session.query(DimAdvisors).count() == 2
        counts = session.execute(sa.text(
            "SELECT (SELECT count(*) FROM dist_perf_dw.dim_firms), (SELECT count(*) FROM dist_perf_dw.dim_wholesalers),"
            " (SELECT territory_name FROM dist_perf_dw.dim_territories WHERE is_unassigned)")).one()
        assert tuple(counts) == (3, 4, "Unassigned")
    metadata = _metadata(result, "dim_advisors")
    assert metadata["moves_applied"].value == [
        "advisor 5000001 from 2025-03-17: Atlas Securities / NE1 -> Beacon Wealth Advisors / SE2"]
    assert "advisors_2025-03-20.csv | 3 |" in metadata["source_files"].value

    keys_before = postgres.read_frame("SELECT crd_number, advisor_id FROM dist_perf_dw.dim_advisors").sort("crd_number")
    # Re-landed in another order with a new advisor first and a new firm: no existing key changes.
    newcomer = (4000009, "Cy Dorn", 404, "WE1", dt.date(2005, 1, 3), dt.date(2020, 7, 1), "Emerging", True)
    land_masters(dist_landing, advisors=[newcomer, *reversed(ADVISORS)],
                 firms=[(404, "Driftwood Bank & Trust", "BANK", "WE", "CA", dt.date(2019, 1, 2), True), *FIRMS])
    again = materialize(instance, postgres, ["dim_firms", "dim_advisors"])
    keys_after = postgres.read_frame("SELECT crd_number, advisor_id FROM dist_perf_dw.dim_advisors").sort("crd_number")
    assert dict(keys_after.iter_rows()) == {**dict(keys_before.iter_rows()), "4000009": 3}
    assert _metadata(again, "dim_advisors")["members_added"].value == 1
    assert _metadata(again, "dim_advisors")["moves_applied"].value == []


def test_a_refused_master_fails_the_run_naming_file_line_and_value_and_changes_nothing(dist_landing, instance,
                                                                                     postgres):
    land_masters(dist_landing)
    materialize(instance, postgres, DIMENSION_TABLES)
    before = postgres.read_frame("SELECT * FROM dist_perf_dw.dim_advisors ORDER BY advisor_id")
    moved_to_nowhere = (5000002, "Bo Chen", 999, "MW2", dt.date(2010, 9, 1), dt.date(2025, 4, 1), "Core", True)
    write_csv(dist_landing / "advisors" / "advisors_2025-04-01.csv", ADVISOR_HEADER, [moved_to_nowhere])
    result = materialize(instance, postgres, ["dim_advisors"], expect_success=False)
    assert not result.success
    assert "advisors_2025-04-01.csv: line 2 ('999'): no firm with CRD 999 in dim_firms or firms/" in failure(result)
    after = postgres.read_frame("SELECT * FROM dist_perf_dw.dim_advisors ORDER BY advisor_id")
    assert after.equals(before)
