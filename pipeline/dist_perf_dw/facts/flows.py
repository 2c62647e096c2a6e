"""fact_aum_flows: on business days advisors buy, redeem, exchange and transfer.

Amounts are log-normal (many small tickets, a few very large ones). Each purchase
carries a redemption plan drawn when it is made: kept for good, or partly/fully
redeemed on a later business day within a year. The redemption flows of a day are
exactly the plans that fall due that day, so retention snapshots agree with the
redemption rows by construction.
"""

import datetime as dt
import functools

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.calendar import FLOWS_START_DATE, is_business_day, next_business_day_ordinals
from pipeline.dist_perf_dw.randomness import day_number, money, rng
from pipeline.dist_perf_dw.tables import columns, polars_schema
from pipeline.dist_perf_dw.universe import universe
from pipeline.dist_perf_dw.vocabulary import ASSET_CLASSES, TRANSACTION_TYPE_ID, TRANSACTION_TYPES

REDEMPTION_HORIZON_DAYS = 365
# flow_id = day number * FLOW_IDS_PER_DAY + position in the day: unique,
# deterministic, and readable (the date is visible in the id).
FLOW_IDS_PER_DAY = 1_000_000

# Mean flows per business day at scale 1.0.
PURCHASES_PER_DAY = 1_500
BOOK_REDEMPTIONS_PER_DAY = 700
EXCHANGES_PER_DAY = 120
TRANSFERS_PER_DAY = 80

FLOW_COLUMNS = columns("fact_aum_flows")
_FLOW_SCHEMA = polars_schema("fact_aum_flows")
POSITION_ATTRIBUTES = ["advisor_id", "firm_id", "channel_id", "product_id", "wholesaler_id"]
_PLANNED_PURCHASE_SCHEMA = {
    **{c: _FLOW_SCHEMA[c] for c in ["flow_id", *POSITION_ATTRIBUTES, "amount"]},
    "redemption_date": pl.Date,
    "redemption_amount": pl.Float64,
}
_UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_SIGN = {code: sign for code, *_, sign in TRANSACTION_TYPES}


def _activity_factor(day: dt.date) -> float:
    """More tickets at month and quarter ends and on Mondays, a slow upward trend."""
    factor = 1.0 + 0.04 * (day - FLOWS_START_DATE).days / 365
    next_day = day + dt.timedelta(days=1)
    if next_day.month != day.month:
        factor *= 1.35 if day.month % 3 == 0 else 1.2
    if day.weekday() == 0:
        factor *= 1.1
    if day.month == 1:
        factor *= 1.15
    return factor


@functools.lru_cache(maxsize=4)
def _position_arrays(seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    positions = universe(seed).positions
    probability = positions["activity_weight"].to_numpy()
    return probability / probability.sum(), {c: positions[c].to_numpy() for c in POSITION_ATTRIBUTES}


def _pick_positions(seed: int, generator: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    probability, attributes = _position_arrays(seed)
    picked = generator.choice(len(probability), size=size, p=probability)
    return {column: values[picked] for column, values in attributes.items()}


@functools.lru_cache(maxsize=1024)
def planned_purchases(seed: int, day: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """The day's purchases with their redemption plans (`redemption_date` null
    when the purchase is held beyond the horizon)."""
    if day < FLOWS_START_DATE or not is_business_day(day):
        return pl.DataFrame(schema=_PLANNED_PURCHASE_SCHEMA)
    generator = rng(seed, "purchases", day_number(day))
    count = int(generator.poisson(PURCHASES_PER_DAY * scale * _activity_factor(day)))
    picked = _pick_positions(seed, generator, count)
    amount = money(np.clip(generator.lognormal(np.log(20_000), 1.4, count), 250, 50_000_000))

    redeem_share = np.array([a[5] for a in ASSET_CLASSES])
    asset_class = universe(seed).dimensions["dim_products"]["asset_class_id"].to_numpy()[picked["product_id"] - 1]
    redeemed = generator.random(count) < redeem_share[asset_class - 1]
    age_days = np.ceil(REDEMPTION_HORIZON_DAYS * generator.beta(0.8, 1.6, count)).clip(1, REDEMPTION_HORIZON_DAYS)
    fraction = np.clip(generator.beta(2.0, 1.2, count), 0.05, 1.0)
    due = next_business_day_ordinals(day.toordinal() + age_days.astype(np.int64))
    # A plan due after the horizon (a redemption that rolled past a holiday weekend) is dropped.
    redeemed &= due - day.toordinal() <= REDEMPTION_HORIZON_DAYS

    return pl.DataFrame(
        {
            "flow_id": pl.Series(day_number(day) * FLOW_IDS_PER_DAY + np.arange(count), dtype=pl.Int64),
            **{c: pl.Series(v, dtype=pl.Int32) for c, v in picked.items()},
            "amount": amount,
            "redemption_ordinal": np.where(redeemed, due, 0),
            "redemption_amount": np.where(redeemed, np.minimum(money(amount * fraction), amount), 0.0),
        }
    ).with_columns(
        redemption_date=pl.when(pl.col("redemption_ordinal") > 0).then(
            (pl.col("redemption_ordinal") - _UNIX_EPOCH_ORDINAL).cast(pl.Int32).cast(pl.Date)
        ),
        redemption_amount=pl.when(pl.col("redemption_ordinal") > 0).then(pl.col("redemption_amount")),
    ).select(list(_PLANNED_PURCHASE_SCHEMA))


def _purchases_redeemed_on(seed: int, day: dt.date, scale: float) -> pl.DataFrame:
    # Plans fall due up to the horizon plus a few days of holiday roll-forward.
    cohorts = [
        planned_purchases(seed, day - dt.timedelta(days=age), scale)
        for age in range(1, REDEMPTION_HORIZON_DAYS + 1)
        if day - dt.timedelta(days=age) >= FLOWS_START_DATE
    ]
    if not cohorts:
        return planned_purchases(seed, dt.date(1999, 1, 1), scale)
    return pl.concat(cohorts).filter(pl.col("redemption_date") == day)


def _flows_frame(
    day: dt.date, transaction_type: str, attributes: dict[str, np.ndarray], amount: np.ndarray, related=None
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "flow_date": [day] * len(amount),
            "transaction_type_id": pl.Series([TRANSACTION_TYPE_ID[transaction_type]] * len(amount), dtype=pl.Int32),
            **{c: pl.Series(attributes[c], dtype=pl.Int32) for c in POSITION_ATTRIBUTES},
            "amount": amount,
            "net_amount": amount * _SIGN[transaction_type],
            "related_flow_id": pl.Series(related, dtype=pl.Int64) if related is not None
            else pl.Series([None] * len(amount), dtype=pl.Int64),
        },
        schema_overrides={"flow_date": pl.Date},
    )


def _as_flows(day: dt.date, transaction_type: str, frame: pl.DataFrame, amount: str, related=None) -> pl.DataFrame:
    attributes = {c: frame[c].to_numpy() for c in POSITION_ATTRIBUTES}
    return _flows_frame(day, transaction_type, attributes, frame[amount].to_numpy(), related)


def _exchanges_and_transfers(
    seed: int, generator: np.random.Generator, day: dt.date, activity: float, first_id: int
) -> list[pl.DataFrame]:
    """Exchanges (two legs pointing at each other, into any other product) and account transfers."""
    exchanges = int(generator.poisson(EXCHANGES_PER_DAY * activity))
    exchange_out = _pick_positions(seed, generator, exchanges)
    product_count = len(universe(seed).dimensions["dim_products"])
    exchange_in = dict(exchange_out)
    # Add 1..count-1 modulo count, so it is never the same product.
    exchange_in["product_id"] = (
        (exchange_out["product_id"] - 1 + generator.integers(1, product_count, exchanges)) % product_count + 1
    )
    exchange_amount = money(np.clip(generator.lognormal(np.log(40_000), 1.2, exchanges), 500, 20_000_000))
    transfers = int(generator.poisson(TRANSFERS_PER_DAY * activity))
    transfer_positions = _pick_positions(seed, generator, transfers)
    transfer_amount = money(np.clip(generator.lognormal(np.log(175_000), 1.2, transfers), 1_000, 100_000_000))
    transfer_in = generator.random(transfers) < 0.55

    out_ids = first_id + np.arange(exchanges)
    in_ids = out_ids + exchanges
    return [
        _flows_frame(day, "EXCHANGE_OUT", exchange_out, exchange_amount, related=in_ids),
        _flows_frame(day, "EXCHANGE_IN", exchange_in, exchange_amount, related=out_ids),
        _flows_frame(day, "TRANSFER_IN", {c: v[transfer_in] for c, v in transfer_positions.items()},
                     transfer_amount[transfer_in]),
        _flows_frame(day, "TRANSFER_OUT", {c: v[~transfer_in] for c, v in transfer_positions.items()},
                     transfer_amount[~transfer_in]),
    ]


@functools.lru_cache(maxsize=64)
def generate_aum_flows(seed: int, day: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """fact_aum_flows for one day: purchases, redemptions (of earlier purchases
    as planned, and of the pre-existing book), exchanges (two legs pointing at
    each other) and account transfers. Empty on weekends and market holidays."""
    if day < FLOWS_START_DATE or not is_business_day(day):
        return pl.DataFrame(schema=_FLOW_SCHEMA)
    generator = rng(seed, "flows", day_number(day))
    activity = scale * _activity_factor(day)
    first_id = day_number(day) * FLOW_IDS_PER_DAY

    purchases = planned_purchases(seed, day, scale)
    due = _purchases_redeemed_on(seed, day, scale)
    book_redemptions = int(generator.poisson(BOOK_REDEMPTIONS_PER_DAY * activity))
    parts = [
        _as_flows(day, "PURCHASE", purchases, "amount"),
        _as_flows(day, "REDEMPTION", due, "redemption_amount", related=due["flow_id"].to_numpy()),
        _flows_frame(
            day, "REDEMPTION", _pick_positions(seed, generator, book_redemptions),
            money(np.clip(generator.lognormal(np.log(30_000), 1.5, book_redemptions), 100, 50_000_000)),
        ),
    ]
    exchanges_offset = len(purchases) + len(due) + book_redemptions
    parts += _exchanges_and_transfers(seed, generator, day, activity, first_id + exchanges_offset)
    flows = pl.concat(parts)
    if len(flows) >= FLOW_IDS_PER_DAY:
        raise ValueError(f"{len(flows)} flows on {day} do not fit the flow_id scheme; lower the scale")
    return flows.with_columns(
        flow_id=pl.int_range(first_id, first_id + len(flows), dtype=pl.Int64),
        source_transaction_id=pl.lit(None, dtype=pl.String),
    ).select(FLOW_COLUMNS)
