"""dist_perf_dw assets materialized by Dagster into a real PostgreSQL."""

import datetime as dt
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pipeline.assets import dist_perf_dw
from pipeline.assets.metadata import OWNERS
from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
from pipeline.dist_perf_dw.models import (
    TABLE_TO_CLASS,
    DimAdvisors,
    DimChannels,
    DimProducts,
    FactAUMFlow,
    FactRetentionSnapshots,
    FactRevenue,
    FactWholesalerComp,
)
from pipeline.dist_perf_dw.report import print_dist_perf_dw_report
from pipeline.dist_perf_dw.tables import ASSIGNMENT_TABLES, DIMENSION_TABLES, FACT_TABLES
from pipeline.resources.generation import GenerationSettings
from pipeline.resources.postgres import ForeignKeyViolationError
from pipeline.settings import DEFAULT_SEED

pytestmark = pytest.mark.slow

# Friday 2025-02-28 closes on 2025-03-07; Monday 2025-03-03 is still an estimate on AS_OF.
DAYS = ["2025-02-28", "2025-03-03"]
AS_OF = "2025-03-10"
MONTH = "2025-02-01"
DAILY_FACTS = ["fact_aum_flows", "fact_revenue", "fact_retention_snapshots", "fact_distribution_expense"]
FACT_DATE_COLUMNS = {
    "fact_aum_flows": "flow_date",
    "fact_revenue": "revenue_date",
    "fact_retention_snapshots": "snapshot_date",
    "fact_distribution_expense": "expense_date",
    "fact_wholesaler_comp": "comp_month",
}
ALL_ASSETS = dist_perf_dw.defs.assets
# Every table but the assignment tables, which landed masters fill (empty for generated data).
ASSET_TABLES = [*DIMENSION_TABLES, *FACT_TABLES]
RUN_CONFIG = {"ops": {"dist_perf_dw__fact_revenue": {"config": {"as_of_date": AS_OF}}}}


def _keys(tables: list[str]) -> list[dg.AssetKey]:
    return [dist_perf_dw.table_key(table) for table in tables]


def _materialize(instance, postgres, tables, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS, selection=_keys(tables), resources={"postgres": postgres, "generation": GenerationSettings()},
        instance=instance, **kwargs,
    )


def _snapshot(postgres, table: str, day: str) -> tuple[int, Decimal]:
    amount = {"fact_aum_flows": "net_amount", "fact_revenue": "revenue_amount",
              "fact_retention_snapshots": "retained_amount", "fact_distribution_expense": "amount",
              "fact_wholesaler_comp": "total_comp_amount"}[table]
    with postgres.get_engine().connect() as connection:
        row = connection.execute(
            sa.text(f"SELECT count(*), coalesce(sum({amount}), 0) FROM dist_perf_dw.{table} "
                    f"WHERE {FACT_DATE_COLUMNS[table]} = :day"),
            {"day": dt.date.fromisoformat(day)},
        ).one()
    return row[0], row[1]


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def loaded(postgres_resource, instance):
    """Dimensions, the daily facts for two days in one range run, and one month of compensation."""
    dimensions = _materialize(instance, postgres_resource, DIMENSION_TABLES)
    assert dimensions.success
    facts = _materialize(
        instance, postgres_resource, DAILY_FACTS, run_config=RUN_CONFIG,
        tags={"dagster/asset_partition_range_start": DAYS[0], "dagster/asset_partition_range_end": DAYS[1]},
    )
    assert facts.success
    comp = _materialize(instance, postgres_resource, ["fact_wholesaler_comp"], partition_key=MONTH)
    assert comp.success
    return postgres_resource


def test_definitions_load_and_follow_the_house_rules():
    dg.Definitions.validate_loadable(
        dg.Definitions.merge(
            dist_perf_dw.defs,
            dg.Definitions(
                resources={"postgres": dg.ResourceDefinition.none_resource(), "generation": GenerationSettings()}
            ),
        )
    )
    specs = [spec for assets_def in ALL_ASSETS for spec in assets_def.specs]
    assert {spec.key.path[1] for spec in specs} == set(ASSET_TABLES)
    for spec in specs:
        assert spec.key.path[0] == "dist_perf_dw"
        assert spec.group_name == "dist_perf_dw"
        assert spec.kinds == {"polars", "postgres"}
        assert spec.description
    for assets_def in ALL_ASSETS:
        if assets_def.partitions_def is not None:
            assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()


def _spec(table: str) -> dg.AssetSpec:
    return next(spec for assets_def in ALL_ASSETS for spec in assets_def.specs if spec.key.path[1] == table)


def test_fact_aum_flows_column_schema_lists_every_orm_column_with_type_and_description():
    schema = _spec("fact_aum_flows").metadata["dagster/column_schema"]
    declared = {column.name: column for column in schema.columns}
    orm_columns = FactAUMFlow.__table__.columns
    assert list(declared) == [column.name for column in orm_columns]
    assert declared["flow_id"].type == "BIGINT"
    assert declared["amount"].type == "NUMERIC(18, 2)"
    assert declared["flow_date"].type == "DATE"
    for column in orm_columns:
        assert declared[column.name].description == column.doc and column.doc, column.name
        assert declared[column.name].constraints.nullable is column.nullable, column.name
    assert declared["related_flow_id"].constraints.nullable is True
    assert declared["net_amount"].constraints.nullable is False


def test_every_table_declares_its_name_owners_and_layer():
    for table in ASSET_TABLES:
        spec = _spec(table)
        assert spec.metadata["dagster/table_name"] == f"dist_perf_dw.{table}"
        assert [column.name for column in spec.metadata["dagster/column_schema"].columns] == list(
            TABLE_TO_CLASS[table].__table__.columns.keys()
        )
        assert spec.owners == OWNERS
        layer = "dimension" if table in DIMENSION_TABLES else "fact"
        assert {"warehouse": "dist_perf_dw", "layer": layer}.items() <= spec.tags.items(), table
    # The assignment tables are written by their dimension's asset (landed data only).
    assert set(FACT_TABLES) | set(DIMENSION_TABLES) | set(ASSIGNMENT_TABLES) == set(TABLE_TO_CLASS)


def _table_rows(postgres, table: str) -> int:
    with postgres.get_engine().connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM dist_perf_dw.{table}")).scalar_one()


def test_materializations_report_table_and_partition_row_counts(loaded, instance):
    # The range run of the fixture: the whole table's rows, no per-partition count.
    range_run = instance.fetch_materializations(dist_perf_dw.table_key("fact_aum_flows"), limit=1).records[0]
    metadata = range_run.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == _table_rows(loaded, "fact_aum_flows")
    assert metadata["rows_loaded"].value == metadata["dagster/row_count"].value  # the table holds the two days
    assert "dagster/partition_row_count" not in metadata

    # One partition: the table's rows and the partition's.
    result = _materialize(instance, loaded, ["fact_aum_flows"], partition_key=DAYS[0])
    assert result.success
    (materialization,) = result.asset_materializations_for_node("dist_perf_dw__fact_aum_flows")
    metadata = materialization.metadata
    assert metadata["dagster/row_count"].value == _table_rows(loaded, "fact_aum_flows")
    assert metadata["dagster/partition_row_count"].value == _snapshot(loaded, "fact_aum_flows", DAYS[0])[0]
    assert metadata["dagster/partition_row_count"].value < metadata["dagster/row_count"].value

    comp = instance.fetch_materializations(dist_perf_dw.table_key("fact_wholesaler_comp"), limit=1).records[0]
    metadata = comp.asset_materialization.metadata
    assert metadata["dagster/partition_row_count"].value == _snapshot(loaded, "fact_wholesaler_comp", MONTH)[0]
    assert metadata["dagster/row_count"].value == _table_rows(loaded, "fact_wholesaler_comp")

    products = instance.fetch_materializations(dist_perf_dw.table_key("dim_products"), limit=1).records[0]
    metadata = products.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == _table_rows(loaded, "dim_products")
    assert "dagster/partition_row_count" not in metadata


def test_materializations_report_rows_totals_and_timings(loaded, instance):
    for table in DAILY_FACTS:
        events = instance.fetch_materializations(dist_perf_dw.table_key(table), limit=10).records
        assert {event.asset_materialization.partition for event in events} >= set(DAYS)
        metadata = events[0].asset_materialization.metadata
        assert metadata["dagster/row_count"].value > 0
        assert metadata["load_seconds"].value >= 0
    flows_metadata = instance.fetch_materializations(dist_perf_dw.table_key("fact_aum_flows"), limit=1).records[0]
    assert "net_flows_usd" in flows_metadata.asset_materialization.metadata


def test_every_table_is_loaded_and_every_foreign_key_holds(loaded):
    with loaded.get_engine().connect() as connection:
        for table in ASSET_TABLES:
            count = connection.execute(sa.text(f"SELECT count(*) FROM dist_perf_dw.{table}")).scalar()
            assert count > 0, table
        # The constraints are declared and validated, not merely checked by us.
        unvalidated = connection.execute(sa.text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated "
            "AND connamespace = 'dist_perf_dw'::regnamespace"
        )).scalar()
        assert unvalidated == 0
    for table in TABLE_TO_CLASS:
        assert set(loaded.orphan_counts(table).values()) <= {0}, table


def test_rematerializing_a_day_keeps_rows_and_totals(loaded, instance):
    before = {table: _snapshot(loaded, table, DAYS[1]) for table in DAILY_FACTS}
    other_day_before = _snapshot(loaded, "fact_aum_flows", DAYS[0])
    result = _materialize(instance, loaded, DAILY_FACTS, run_config=RUN_CONFIG, partition_key=DAYS[1])
    assert result.success
    assert {table: _snapshot(loaded, table, DAYS[1]) for table in DAILY_FACTS} == before
    assert _snapshot(loaded, "fact_aum_flows", DAYS[0]) == other_day_before
    comp_before = _snapshot(loaded, "fact_wholesaler_comp", MONTH)
    assert _materialize(instance, loaded, ["fact_wholesaler_comp"], partition_key=MONTH).success
    assert _snapshot(loaded, "fact_wholesaler_comp", MONTH) == comp_before
    dimensions_again = _materialize(instance, loaded, ["dim_products", "dim_advisors"])
    assert dimensions_again.success


def test_a_load_that_breaks_a_foreign_key_is_rolled_back(loaded):
    day = dt.date.fromisoformat(DAYS[1])
    before = _snapshot(loaded, "fact_aum_flows", DAYS[1])
    broken = generate_aum_flows(DEFAULT_SEED, day)
    broken = broken.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(999_999).otherwise("advisor_id")
                                 .cast(pl.Int32).alias("advisor_id"))
    with pytest.raises(ForeignKeyViolationError, match="advisor_id not in dim_advisors"):
        loaded.replace_partition("fact_aum_flows", "flow_date", day, day + dt.timedelta(days=1), broken)
    assert _snapshot(loaded, "fact_aum_flows", DAYS[1]) == before


def test_the_specs_orm_examples_return_rows(loaded):
    with Session(loaded.get_engine()) as session:
        final = session.query(FactRevenue).filter(FactRevenue.is_estimate == False).all()  # noqa: E712  (spec)
        assert final and {row.revenue_date for row in final} == {dt.date(2025, 2, 28)}
        estimates = session.query(FactRevenue).filter(FactRevenue.is_estimate == True).count()  # noqa: E712
        assert estimates > 0

        flow = session.query(FactAUMFlow).filter(FactAUMFlow.flow_date == dt.date(2025, 3, 3)).first()
        assert flow.product.product_name.startswith("Summit ")
        assert flow.calendar_day.weekday_name == "Monday"
        assert flow.transaction_type.flow_direction in ("inflow", "outflow")

        advisor = session.get(DimAdvisors, flow.advisor_id)
        assert advisor.firm.firm_type.firm_type_name
        assert advisor.firm.firm_type.channel.channel_name == flow.channel.channel_name
        assert advisor.tenure_years(dt.date(2025, 3, 3)) > 0

        net_by_channel = (
            session.query(DimChannels.channel_name, sa.func.sum(FactAUMFlow.net_amount))
            .join(FactAUMFlow, FactAUMFlow.channel_id == DimChannels.channel_id)
            .group_by(DimChannels.channel_name)
            .all()
        )
        assert len(net_by_channel) >= 3

        revenue_by_asset_class = (
            session.query(DimProducts.asset_class_id, sa.func.sum(FactRevenue.revenue_amount))
            .join(FactRevenue.product)
            .group_by(DimProducts.asset_class_id)
            .all()
        )
        assert all(total > 0 for _, total in revenue_by_asset_class)

        snapshot = session.query(FactRetentionSnapshots).first()
        assert snapshot.flow_day.calendar_date < snapshot.snapshot_day.calendar_date
        comp = session.query(FactWholesalerComp).first()
        assert comp.wholesaler.territory.region.region_name
        assert comp.total_comp_amount == comp.base_salary_amount + comp.incentive_amount


def test_revenue_net_flows_match_the_loaded_flows(loaded):
    with loaded.get_engine().connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT f.flow_date, sum(f.net_amount), (SELECT sum(net_flow_amount) FROM dist_perf_dw.fact_revenue r "
            "WHERE r.revenue_date = f.flow_date) FROM dist_perf_dw.fact_aum_flows f GROUP BY f.flow_date"
        )).all()
    assert len(rows) == 2
    for _, flows, revenue_flows in rows:
        assert abs(flows - revenue_flows) < Decimal("1.00")


def test_report_prints_the_three_answers(loaded, capsys):
    print_dist_perf_dw_report(loaded.get_engine(), DAYS)
    printed = capsys.readouterr().out
    assert "Net flows by channel" in printed
    assert "Revenue by product" in printed and "*" in printed
    assert "Top wholesalers" in printed


def test_report_shows_the_compensation_of_the_months_it_is_given(loaded, capsys):
    # The demo's case: its days fall in a month not over yet, so it loaded the month before.
    print_dist_perf_dw_report(loaded.get_engine(), DAYS[1:], [MONTH])
    printed = capsys.readouterr().out
    top = printed.split("compensation for 2025-02 (USD)\n", 1)[1].splitlines()
    assert top and not [line for line in top if "none loaded" in line]
    print_dist_perf_dw_report(loaded.get_engine(), DAYS[1:])  # March's compensation was never loaded
    printed = capsys.readouterr().out
    assert "compensation for 2025-03 (USD)" in printed and "none loaded" in printed
