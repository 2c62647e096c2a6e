"""dist_perf_dw asset checks that must be able to fail: partition-scoped foreign keys, missing compensation."""

import dagster as dg
import pytest

from pipeline.assets import dist_perf_dw, dist_perf_dw_checks
from pipeline.resources.generation import GenerationSettings

pytestmark = pytest.mark.slow

DAYS = ["2024-01-02", "2024-01-03"]
MONTH = "2024-01-01"
fk_flows = dist_perf_dw_checks.foreign_key_checks[0]


@pytest.fixture(scope="module")
def loaded(fresh_postgres_database):
    """Dimensions, two days of flows and January's compensation, all checks passing."""
    postgres = fresh_postgres_database("dist_perf_dw_checks")
    resources = {"postgres": postgres, "generation": GenerationSettings()}
    assets = [*dist_perf_dw.dimension_assets, *dist_perf_dw.fact_assets, *dist_perf_dw_checks.dist_perf_dw_checks]
    with dg.instance_for_test() as instance:
        def run(selection, **kwargs):
            result = dg.materialize(assets, selection=selection, resources=resources, instance=instance, **kwargs)
            assert result.success
            return result

        run(dg.AssetSelection.assets(*dist_perf_dw.dimension_assets))
        for day in DAYS:
            run(dg.AssetSelection.assets(dist_perf_dw.fact_aum_flows), partition_key=day)
        comp = run(dg.AssetSelection.assets(dist_perf_dw.fact_wholesaler_comp), partition_key=MONTH)
    assert all(e.passed for e in comp.get_asset_check_evaluations())
    return resources


def _evaluate(check: dg.AssetChecksDefinition, asset: dg.AssetsDefinition, resources, partition_key: str):
    """Run one check alone against the stored rows of one partition."""
    job = dg.define_asset_job("check_only", selection=dg.AssetSelection.checks(check),
                              partitions_def=asset.partitions_def)
    definitions = dg.Definitions(assets=[asset], asset_checks=[check], jobs=[job], resources=resources)
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("check_only").execute_in_process(
            instance=instance, raise_on_error=False, tags={"dagster/partition": partition_key})
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_foreign_key_check_reads_only_the_runs_partitions(loaded):
    postgres = loaded["postgres"]
    assert _evaluate(fk_flows, dist_perf_dw.fact_aum_flows, loaded, DAYS[1]).passed
    with postgres.get_engine().begin() as connection:
        # bypass the FK triggers as a faulty loader would
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql(
            "INSERT INTO dist_perf_dw.fact_aum_flows SELECT flow_id + 900000, flow_date, transaction_type_id, "
            "999999, firm_id, channel_id, product_id, wholesaler_id, amount, net_amount, related_flow_id "
            f"FROM dist_perf_dw.fact_aum_flows WHERE flow_date = '{DAYS[1]}' ORDER BY flow_id LIMIT 1")
    try:
        other_day = _evaluate(fk_flows, dist_perf_dw.fact_aum_flows, loaded, DAYS[0])
        assert other_day.passed, other_day.metadata
        assert DAYS[0] in other_day.metadata["rows_checked"].value
        this_day = _evaluate(fk_flows, dist_perf_dw.fact_aum_flows, loaded, DAYS[1])
        assert not this_day.passed
        assert "advisor_id -> dim_advisors" in this_day.metadata["failing_rows_sample"].value
    finally:
        with postgres.get_engine().begin() as connection:
            connection.exec_driver_sql("DELETE FROM dist_perf_dw.fact_aum_flows WHERE advisor_id = 999999")


def test_comp_check_fails_on_a_month_without_compensation_rows(loaded):
    postgres, comp = loaded["postgres"], dist_perf_dw_checks.comp_matches_flows
    with postgres.get_engine().begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM dist_perf_dw.fact_wholesaler_comp WHERE comp_month = '{MONTH}'")
    with_flows = _evaluate(comp, dist_perf_dw.fact_wholesaler_comp, loaded, MONTH)
    assert not with_flows.passed
    assert "no compensation row, but flows" in with_flows.metadata["failing_rows_sample"].value
    # No flows either (a month never loaded): still no pass, the asset writes a row per wholesaler.
    without_flows = _evaluate(comp, dist_perf_dw.fact_wholesaler_comp, loaded, "2024-03-01")
    assert not without_flows.passed
    assert without_flows.metadata["failing_rows"].value == 1
    assert "no compensation rows" in without_flows.metadata["failing_rows_sample"].value


def test_comp_check_compares_a_wholly_loaded_months_flows(loaded):
    """Every day of January's flows loaded (one run over the month, as a backfill runs the single-run
    facts), then January's compensation: the check compares each wholesaler's paid-on net flows with
    them and passes; a flow changed afterwards makes the month fail."""
    postgres = loaded["postgres"]
    assets = [*dist_perf_dw.fact_assets, *dist_perf_dw_checks.dist_perf_dw_checks]
    with dg.instance_for_test() as instance:
        def run(selection, **kwargs):
            result = dg.materialize(assets, selection=selection, resources=loaded, instance=instance, **kwargs)
            assert result.success
            return result

        run(
            dg.AssetSelection.assets(dist_perf_dw.fact_aum_flows).without_checks(),
            tags={"dagster/asset_partition_range_start": MONTH, "dagster/asset_partition_range_end": "2024-01-31"},
        )
        comp = run(
            dg.AssetSelection.assets(dist_perf_dw.fact_wholesaler_comp).without_checks()
            | dg.AssetSelection.checks(dist_perf_dw_checks.comp_matches_flows),
            partition_key=MONTH,
        )
    [good] = comp.get_asset_check_evaluations()
    assert good.passed, good.metadata
    assert good.metadata["months_checked"].value == 1 and "months_not_comparable" not in good.metadata

    def shift_a_flow(amount: int) -> None:
        with postgres.get_engine().begin() as connection:
            connection.exec_driver_sql(
                f"UPDATE dist_perf_dw.fact_aum_flows SET net_amount = net_amount + {amount} "
                "WHERE flow_id = (SELECT min(flow_id) FROM dist_perf_dw.fact_aum_flows)"
            )

    shift_a_flow(1000)
    try:
        bad = _evaluate(dist_perf_dw_checks.comp_matches_flows, dist_perf_dw.fact_wholesaler_comp, loaded, MONTH)
        assert not bad.passed and bad.metadata["failing_rows"].value == 1, bad.metadata
    finally:
        shift_a_flow(-1000)  # the module's data as it was, for any test after this one
