"""The dist_perf_dw generators: pure, deterministic, referentially consistent."""

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dist_perf_dw.calendar import DIM_DATES_END, is_business_day, market_holidays, month_close_date, month_days
from pipeline.dist_perf_dw.facts.compensation import generate_wholesaler_comp
from pipeline.dist_perf_dw.facts.expenses import generate_distribution_expense
from pipeline.dist_perf_dw.facts.flows import FLOW_IDS_PER_DAY, generate_aum_flows
from pipeline.dist_perf_dw.facts.retention import RETENTION_AGES_DAYS, generate_retention_snapshots
from pipeline.dist_perf_dw.facts.revenue import generate_revenue
from pipeline.dist_perf_dw.models import TABLE_TO_CLASS
from pipeline.dist_perf_dw.randomness import ID_EPOCH
from pipeline.dist_perf_dw.tables import ASSIGNMENT_TABLES
from pipeline.dist_perf_dw.universe import generate_dimensions, universe
from pipeline.dist_perf_dw.vocabulary import TRANSACTION_TYPE_ID

SEED = 7
BUSINESS_DAY = dt.date(2024, 6, 14)  # a Friday
LATER_BUSINESS_DAY = dt.date(2025, 3, 3)


@pytest.fixture(scope="module")
def dims() -> dict[str, pl.DataFrame]:
    return generate_dimensions(SEED)


def _primary_key(table: str) -> list[str]:
    return [column.name for column in TABLE_TO_CLASS[table].__table__.primary_key.columns]


def _assert_references(child: pl.DataFrame, column: str, parent: pl.DataFrame, parent_column: str) -> None:
    values = child[column].drop_nulls().unique()
    missing = values.filter(~values.is_in(parent[parent_column].implode()))
    assert missing.len() == 0, f"{column} values not in parent: {missing.to_list()[:5]}"


def test_every_frame_has_the_columns_of_its_table(dims):
    frames = {
        **dims,
        "fact_aum_flows": generate_aum_flows(SEED, BUSINESS_DAY),
        "fact_revenue": generate_revenue(SEED, BUSINESS_DAY, BUSINESS_DAY),
        "fact_retention_snapshots": generate_retention_snapshots(SEED, LATER_BUSINESS_DAY),
        "fact_distribution_expense": generate_distribution_expense(SEED, BUSINESS_DAY),
        "fact_wholesaler_comp": generate_wholesaler_comp(SEED, dt.date(2024, 6, 1)),
    }
    # The assignment tables are filled by landed masters only.
    assert set(frames) == set(TABLE_TO_CLASS) - set(ASSIGNMENT_TABLES)
    for table, frame in frames.items():
        assert frame.columns == [c.name for c in TABLE_TO_CLASS[table].__table__.columns], table
        assert frame.height > 0, table
        assert frame.select(_primary_key(table)).is_duplicated().sum() == 0, f"duplicate keys in {table}"


def test_generation_is_deterministic_per_seed_and_date():
    assert universe.__wrapped__(SEED).positions.equals(universe.__wrapped__(SEED).positions)
    first = generate_aum_flows.__wrapped__(SEED, BUSINESS_DAY, 1.0)
    again = generate_aum_flows.__wrapped__(SEED, BUSINESS_DAY, 1.0)
    assert first.equals(again)
    other_seed = generate_aum_flows(SEED + 1, BUSINESS_DAY)
    assert not first.equals(other_seed)
    assert generate_distribution_expense(SEED, BUSINESS_DAY).equals(
        generate_distribution_expense(SEED, BUSINESS_DAY)
    )


def test_dimensions_reference_each_other(dims):
    _assert_references(dims["dim_firms"], "firm_type_id", dims["dim_firm_types"], "firm_type_id")
    _assert_references(dims["dim_firms"], "channel_id", dims["dim_channels"], "channel_id")
    _assert_references(dims["dim_firms"], "region_id", dims["dim_regions"], "region_id")
    _assert_references(dims["dim_advisors"], "firm_id", dims["dim_firms"], "firm_id")
    _assert_references(dims["dim_advisors"], "territory_id", dims["dim_territories"], "territory_id")
    _assert_references(dims["dim_products"], "asset_class_id", dims["dim_asset_classes"], "asset_class_id")
    _assert_references(dims["dim_products"], "vehicle_type_id", dims["dim_vehicle_types"], "vehicle_type_id")
    _assert_references(dims["dim_wholesalers"], "territory_id", dims["dim_territories"], "territory_id")
    _assert_references(dims["dim_expense_types"], "expense_category_id", dims["dim_expense_categories"],
                       "expense_category_id")
    # A firm's channel is its firm type's channel.
    firms = dims["dim_firms"].join(dims["dim_firm_types"], on="firm_type_id", suffix="_of_type")
    assert (firms["channel_id"] == firms["channel_id_of_type"]).all()
    # Every territory is covered by at least one wholesaler.
    assert set(dims["dim_territories"]["territory_id"]) <= set(dims["dim_wholesalers"]["territory_id"])


def test_dim_dates_calendar_flags(dims):
    dates = dims["dim_dates"].filter(pl.col("year") == 2024)
    assert dates.height == 366
    holidays = dict(zip(dates.filter("is_holiday")["calendar_date"], dates.filter("is_holiday")["holiday_name"]))
    assert holidays[dt.date(2024, 3, 29)] == "Good Friday"
    assert holidays[dt.date(2024, 11, 28)] == "Thanksgiving"  # the name XNYS gives it
    assert len(holidays) == 10
    assert dates.filter("is_quarter_end")["calendar_date"].to_list() == [
        dt.date(2024, 3, 31), dt.date(2024, 6, 30), dt.date(2024, 9, 30), dt.date(2024, 12, 31)
    ]
    assert dates.filter("is_month_end").height == 12
    assert dates.filter("is_business_day").height == 252  # NYSE trading days in 2024


def test_the_nyse_calendar_comes_from_exchange_calendars(dims):
    # The national day of mourning for President Carter: an ad-hoc closure, no holiday rule.
    assert not is_business_day(dt.date(2025, 1, 9))
    assert market_holidays(2025)[dt.date(2025, 1, 9)] == "Market closed"
    assert generate_aum_flows(SEED, dt.date(2025, 1, 9)).height == 0
    assert generate_distribution_expense(SEED, dt.date(2025, 1, 9)).height == 0
    good_friday = dims["dim_dates"].filter(pl.col("calendar_date") == dt.date(2025, 4, 18)).row(0, named=True)
    assert good_friday["is_holiday"] and not good_friday["is_business_day"]
    assert good_friday["holiday_name"] == "Good Friday"
    closed = dims["dim_dates"].filter(pl.col("calendar_date") == dt.date(2025, 1, 9)).row(0, named=True)
    assert (closed["is_holiday"], closed["holiday_name"], closed["is_business_day"]) == (True, "Market closed", False)


def test_a_date_five_years_ahead_gets_flows(dims):
    day = dt.date.today() + dt.timedelta(days=5 * 366)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    assert day <= DIM_DATES_END and day in set(dims["dim_dates"]["calendar_date"])
    assert generate_aum_flows(SEED, day).height > 0
    assert generate_revenue(SEED, day, as_of=day)["is_estimate"].all()
    assert month_close_date(day) > day


def test_flows_are_consistent_with_the_dimensions(dims):
    flows = generate_aum_flows(SEED, BUSINESS_DAY)
    for column, table in [("advisor_id", "dim_advisors"), ("firm_id", "dim_firms"), ("channel_id", "dim_channels"),
                          ("product_id", "dim_products"), ("wholesaler_id", "dim_wholesalers"),
                          ("transaction_type_id", "dim_transaction_types")]:
        _assert_references(flows, column, dims[table], column)
    attributed = (
        flows.join(dims["dim_advisors"].select("advisor_id", "territory_id", advisor_firm="firm_id"), on="advisor_id")
        .join(dims["dim_firms"].select("firm_id", firm_channel="channel_id"), on="firm_id")
        .join(dims["dim_wholesalers"].select("wholesaler_id", wholesaler_territory="territory_id"), on="wholesaler_id")
    )
    assert (attributed["firm_id"] == attributed["advisor_firm"]).all()
    assert (attributed["channel_id"] == attributed["firm_channel"]).all()
    assert (attributed["territory_id"] == attributed["wholesaler_territory"]).all()


def test_flow_values_look_like_real_flows(dims):
    flows = generate_aum_flows(SEED, LATER_BUSINESS_DAY)
    signs = dims["dim_transaction_types"].select("transaction_type_id", "direction_sign", "transaction_type_code")
    flows = flows.join(signs, on="transaction_type_id")
    assert (flows["amount"] > 0).all()
    assert (flows["net_amount"] == flows["amount"] * flows["direction_sign"]).all()
    assert set(flows["transaction_type_code"]) == {
        "PURCHASE", "REDEMPTION", "EXCHANGE_IN", "EXCHANGE_OUT", "TRANSFER_IN", "TRANSFER_OUT"
    }
    purchases = flows.filter(pl.col("transaction_type_code") == "PURCHASE")["amount"]
    assert purchases.mean() > 2 * purchases.median()  # right-skewed: a few very large tickets
    # Exchange legs point at each other and net to zero.
    exchanges = flows.filter(pl.col("transaction_type_code").str.starts_with("EXCHANGE"))
    pairs = exchanges.join(exchanges, left_on="flow_id", right_on="related_flow_id", suffix="_other")
    assert pairs.height == exchanges.height
    assert (pairs["net_amount"] + pairs["net_amount_other"]).abs().max() == 0


def test_no_flows_on_weekends_and_holidays():
    assert generate_aum_flows(SEED, dt.date(2024, 6, 15)).height == 0  # Saturday
    assert generate_aum_flows(SEED, dt.date(2024, 7, 4)).height == 0  # Independence Day
    assert generate_distribution_expense(SEED, dt.date(2024, 6, 16)).height == 0


def test_redemptions_redeem_earlier_purchases_of_the_same_position():
    day = LATER_BUSINESS_DAY
    redemptions = generate_aum_flows(SEED, day).filter(pl.col("related_flow_id").is_not_null()).filter(
        pl.col("transaction_type_id") == TRANSACTION_TYPE_ID["REDEMPTION"]
    )
    assert redemptions.height > 0
    purchase_days = {ID_EPOCH + dt.timedelta(days=flow_id // FLOW_IDS_PER_DAY)
                     for flow_id in redemptions["related_flow_id"]}
    purchases = pl.concat([generate_aum_flows(SEED, d) for d in purchase_days])
    matched = redemptions.join(purchases, left_on="related_flow_id", right_on="flow_id", suffix="_purchase")
    assert matched.height == redemptions.height
    assert (matched["flow_date_purchase"] < matched["flow_date"]).all()
    assert (matched["advisor_id"] == matched["advisor_id_purchase"]).all()
    assert (matched["product_id"] == matched["product_id_purchase"]).all()
    assert (matched["amount"] <= matched["amount_purchase"]).all()


@settings(max_examples=15, deadline=None)
@given(st.dates(min_value=dt.date(2024, 2, 1), max_value=dt.date(2026, 6, 30)))
def test_retention_is_a_share_between_0_and_100_percent(snapshot_date):
    snapshots = generate_retention_snapshots(SEED, snapshot_date)
    if snapshots.height == 0:
        return
    assert snapshots["retention_pct"].is_between(0, 100).all()
    assert (snapshots["retained_amount"] >= 0).all()
    assert ((snapshots["original_amount"] - snapshots["redeemed_amount"] - snapshots["retained_amount"]).abs()
            < 0.005).all()
    assert set(snapshots["age_days"]) <= set(RETENTION_AGES_DAYS)
    assert ((snapshots["snapshot_date"] - snapshots["flow_date"]).dt.total_days() == snapshots["age_days"]).all()


def test_retention_agrees_with_the_redemptions_recorded_since():
    snapshot_date = dt.date(2024, 12, 23)  # the 90-day cohort is Tuesday 2024-09-24
    snapshots = generate_retention_snapshots(SEED, snapshot_date).filter(pl.col("age_days") == 90)
    cohort_date = snapshot_date - dt.timedelta(days=90)
    later_flows = pl.concat(
        generate_aum_flows(SEED, cohort_date + dt.timedelta(days=offset)) for offset in range(1, 91)
    )
    redeemed = (
        later_flows.filter(pl.col("related_flow_id").is_in(snapshots["flow_id"].implode()))
        .filter(pl.col("transaction_type_id") == TRANSACTION_TYPE_ID["REDEMPTION"])
        .group_by("related_flow_id")
        .agg(recorded=pl.col("amount").sum())
    )
    compared = snapshots.join(redeemed, left_on="flow_id", right_on="related_flow_id", how="left").with_columns(
        pl.col("recorded").fill_null(0.0)
    )
    assert compared.filter(pl.col("redeemed_amount") > 0).height > 0
    assert ((compared["redeemed_amount"] - compared["recorded"]).abs() < 0.005).all()
    # Retention falls with age across the cohorts of one snapshot.
    by_age = (
        generate_retention_snapshots(SEED, dt.date(2025, 6, 2))
        .group_by("age_days").agg(pct=100 * pl.col("retained_amount").sum() / pl.col("original_amount").sum())
        .sort("age_days")
    )
    assert by_age["pct"].to_list() == sorted(by_age["pct"].to_list(), reverse=True)


def test_revenue_is_fee_rate_times_aum_and_flows(dims):
    day = BUSINESS_DAY
    revenue = generate_revenue(SEED, day, as_of=day)
    expected = ((revenue["aum_amount"] + revenue["net_flow_amount"]).clip(lower_bound=0)
                * revenue["fee_rate"] / 365).round(2)
    assert ((revenue["revenue_amount"] - expected).abs() < 0.011).all()
    assert (revenue["revenue_amount"] >= 0).all()
    fees = dims["dim_products"].select("product_id", "management_fee_rate")
    joined = revenue.join(fees, on="product_id")
    assert (joined["fee_rate"] == joined["management_fee_rate"]).all()
    flows = generate_aum_flows(SEED, day)
    assert abs(revenue["net_flow_amount"].sum() - flows["net_amount"].sum()) < 0.01 * revenue.height


def test_revenue_is_an_estimate_until_the_month_closes():
    day = dt.date(2024, 6, 14)
    close = month_close_date(day)
    assert close == dt.date(2024, 7, 8)  # fifth business day after June 30 (July 4 is a holiday)
    assert generate_revenue(SEED, day, as_of=close - dt.timedelta(days=1))["is_estimate"].all()
    assert not generate_revenue(SEED, day, as_of=close)["is_estimate"].any()


def test_expenses_follow_wholesaler_territory_and_expense_category(dims):
    expenses = generate_distribution_expense(SEED, BUSINESS_DAY)
    joined = expenses.join(
        dims["dim_wholesalers"].select("wholesaler_id", home="territory_id"), on="wholesaler_id"
    ).join(dims["dim_expense_types"].select("expense_type_id", type_category="expense_category_id"),
           on="expense_type_id")
    assert (joined["territory_id"] == joined["home"]).all()
    assert (joined["expense_category_id"] == joined["type_category"]).all()
    assert (expenses["amount"] > 0).all()
    _assert_references(expenses, "firm_id", dims["dim_firms"], "firm_id")


def test_comp_is_base_plus_incentive_on_the_wholesalers_net_flows(dims):
    month = dt.date(2024, 6, 1)
    comp = generate_wholesaler_comp(SEED, month)
    flows = pl.concat(generate_aum_flows(SEED, day) for day in month_days(month))
    net = flows.group_by("wholesaler_id").agg(net=pl.col("net_amount").sum())
    joined = comp.join(net, on="wholesaler_id", how="left").join(
        dims["dim_wholesalers"].select("wholesaler_id", "annual_base_salary", "incentive_rate"),
        on="wholesaler_id", suffix="_plan",
    )
    assert comp.height == dims["dim_wholesalers"].height
    assert ((joined["net_flow_amount"] - joined["net"].fill_null(0)).abs() < 0.01).all()
    assert ((joined["base_salary_amount"] - joined["annual_base_salary"] / 12).abs() < 0.006).all()
    expected_incentive = (joined["net_flow_amount"].clip(lower_bound=0) * joined["incentive_rate_plan"]).round(2)
    assert ((joined["incentive_amount"] - expected_incentive).abs() < 0.006).all()
    assert ((joined["total_comp_amount"] - joined["base_salary_amount"] - joined["incentive_amount"]).abs()
            < 0.006).all()
    assert (comp["incentive_amount"] > 0).any() and (comp["incentive_amount"] == 0).any()
