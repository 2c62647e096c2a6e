"""Synthetic trades for one trade date: a pure function of (seed, trade_date, trades_per_day).

No Dagster, no database. Orders are drawn first (account, instrument, side,
counterparty) and filled by one or more trades, so every attribute of a trade
is consistent with its order, its account's place in the organisation
(account -> portfolio -> fund -> portfolio manager) and its instrument.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipeline.pivot.calendars import has_calendar, sessions
from pipeline.pivot.instruments import closing_prices, stable_hash
from pipeline.pivot.organisation import organisation
from pipeline.pivot.trade_schema import (
    COUNTERPARTIES,
    EXPOSURE_TYPE_BY_INSTRUMENT,
    RISK_BUCKETS,
    SCENARIOS,
    TRADE_SCHEMA,
    VENUES,
    VENUES_BY_EXCHANGE,
    conform_to_schema,
)
from pipeline.pivot.universe_lists import COUNTRY_REGION

RISK_BUCKET_VOL_EDGES = [0.20, 0.35, 0.50]
SCENARIO_WEIGHTS = [0.70, 0.10, 0.10, 0.10]

# Share of orders by instrument type; Index rows are reference only and never traded.
INSTRUMENT_TYPE_MIX = {"Stock": 0.67, "ETF": 0.07, "ETC": 0.05, "Future": 0.07, "Option": 0.10, "Commodity": 0.04}
ETF_POPULARITY = {"SPY": 0.45, "QQQ": 0.30, "XLK": 0.15, "XLF": 0.10}
MEAN_FILLS_PER_ORDER = 2.5

RATE_BY_CURRENCY = {"USD": 0.053, "EUR": 0.040, "GBP": 0.0525, "JPY": 0.001, "CHF": 0.0175, "HKD": 0.050, "CAD": 0.050}
MARGIN_RATE_BY_TYPE = {"Stock": 0.25, "ETF": 0.20, "ETC": 0.20, "Future": 0.08, "Option": 0.30, "Commodity": 0.12}

TRADE_ID_DAY_FACTOR = 10_000_000_000  # trade_id = yyyymmdd * factor + sequence: unique across days
ORDER_ID_DAY_FACTOR = 1_000_000_000
MAX_TRADES_PER_DAY = 50_000_000


def _instrument_choice_probabilities(instruments: pl.DataFrame) -> np.ndarray:
    types = instruments["instrument_type"].to_list()
    symbols = instruments["symbol"].to_list()
    weights = np.zeros(len(types))
    for kind, share in INSTRUMENT_TYPE_MIX.items():
        members = [i for i, t in enumerate(types) if t == kind]
        if not members:
            continue
        if kind == "ETF":
            raw = np.array([ETF_POPULARITY.get(symbols[i], 0.05) for i in members])
        else:
            # Liquidity falls with rank in the universe: the names listed first trade most.
            raw = 1.0 / np.arange(1, len(members) + 1) ** 0.7
        weights[members] = share * raw / raw.sum()
    return weights / weights.sum()


def _instrument_volatility(symbols: list[str]) -> np.ndarray:
    return np.array([0.12 + (stable_hash(s + ":vol") % 1000) / 1000 * 0.48 for s in symbols])


def _lookup(values, index: np.ndarray) -> pl.Series:
    """values[index] as a String series, gathered in Rust; index -1 gives null."""
    index = pl.Series(index, dtype=pl.Int64)
    return pl.Series(list(values), dtype=pl.String).gather(index.set(index < 0, None) if (index < 0).any() else index)


def _instrument_attributes(instruments: pl.DataFrame) -> dict[str, np.ndarray]:
    """Per-instrument lookups, so trades gather by instrument index instead of mapping
    Python dicts over millions of objects."""
    types = instruments["instrument_type"].cast(pl.String).to_list()
    symbols = instruments["symbol"].to_list()
    regions = [COUNTRY_REGION.get(c) for c in instruments["country"].cast(pl.String).to_list()]
    venue_offsets = dict(zip(VENUES_BY_EXCHANGE, np.cumsum([0, *map(len, VENUES_BY_EXCHANGE.values())])))
    exchanges = instruments["exchange"].cast(pl.String).to_list()
    return {
        "region": regions,
        "is_option": np.array([t == "Option" for t in types], dtype=bool),
        "is_future": np.array([t == "Future" for t in types], dtype=bool),
        "is_call": np.array([t == "Option" and s.endswith("C-ATM-30D") for s, t in zip(symbols, types)], dtype=bool),
        "margin_rate": np.array([MARGIN_RATE_BY_TYPE.get(t, np.nan) for t in types]),
        "rate": np.array([RATE_BY_CURRENCY.get(c, np.nan) for c in instruments["currency"].cast(pl.String).to_list()]),
        "venue_offset": np.array([venue_offsets.get(e, 0) for e in exchanges], dtype=np.int64),
        "venue_count": np.array([len(VENUES_BY_EXCHANGE.get(e, ())) for e in exchanges], dtype=np.int64),
    }


DEFAULT_TRADE_CHUNK = 250_000  # base trades per generated chunk: bounds generation memory (~0.2 GB)


def _session_arrays(exchanges: list[str], trade_date: date) -> dict[str, np.ndarray]:
    """Per instrument: whether its exchange holds a session on the date, the session's open, lunch
    break and trading length (UTC ms), and its length as a share of a full session (half days)."""
    # An instrument landed with an exchange that has no calendar (or none: a cash line) is never
    # generated: no session is known for it.
    by_exchange = sessions([e for e in exchanges if has_calendar(e)], trade_date)
    found = [by_exchange.get(e) for e in exchanges]
    return {
        "is_open": np.array([s is not None for s in found], dtype=bool),
        "open_ms": np.array([s.open_ms if s else 0 for s in found], dtype=np.int64),
        "break_start": np.array([s.break_start_ms - s.open_ms if s else 0 for s in found], dtype=np.int64),
        "break_ms": np.array([s.break_end_ms - s.break_start_ms if s else 0 for s in found], dtype=np.int64),
        "trading_ms": np.array([s.trading_ms if s else 0 for s in found], dtype=np.int64),
        "length_share": np.array([s.length_share if s else 0.0 for s in found]),
    }


def _day_context(trade_date: date, instruments: pl.DataFrame, seed: int) -> dict:
    """Everything a chunk of the day needs that does not depend on the chunk."""
    instruments = instruments.filter(pl.col("instrument_type") != "Index").sort("symbol")
    if instruments.is_empty():
        raise ValueError("No tradeable instruments: materialize pivot/instruments first.")
    symbols = instruments["symbol"].to_list()
    underlying_pos = {s: i for i, s in enumerate(symbols)}
    session = _session_arrays(instruments["exchange"].cast(pl.String).to_list(), trade_date)
    # Only instruments whose exchange is open trade, and less on a half day: the day's share of a
    # full day's flow scales the trade count (1 when every venue holds a full session).
    activity = _instrument_choice_probabilities(instruments) * session["length_share"]
    day_share = float(activity.sum())
    return {
        "instruments": instruments,
        "accounts": organisation(seed),
        "choice_p": activity / day_share if day_share > 0 else activity,
        "day_share": day_share,
        "session": session,
        # Everything priced off the closing path: the day's close and the previous close.
        "close": closing_prices(seed, trade_date, symbols)["close_price"].to_numpy(),
        "prev_close": closing_prices(seed, trade_date - timedelta(days=1), symbols)["close_price"].to_numpy(),
        "underlying_idx": np.array(
            [underlying_pos.get(u, i) for i, u in enumerate(instruments["underlying_symbol"].to_list())]
        ),
        "vol_by_instrument": _instrument_volatility(symbols),
        "attributes": _instrument_attributes(instruments),
    }


def trades_on(trade_date: date, trades_per_day: int, instruments: pl.DataFrame) -> int:
    """How many trades the date gets: `trades_per_day` on a day every venue holds a full session,
    its open venues' share of the flow otherwise (0 when every venue is closed)."""
    tradeable = instruments.filter(pl.col("instrument_type") != "Index").sort("symbol")
    share = (
        _instrument_choice_probabilities(tradeable)
        * _session_arrays(tradeable["exchange"].cast(pl.String).to_list(), trade_date)["length_share"]
    )
    return _day_trades(trades_per_day, float(share.sum()))


def _day_trades(trades_per_day: int, day_share: float) -> int:
    return min(trades_per_day, int(round(trades_per_day * day_share)))


def _orders_in(n: int) -> int:
    return int(np.ceil(n / MEAN_FILLS_PER_ORDER)) if n else 0


def generate_trade_chunks(
    trade_date: date,
    trades_per_day: int,
    instruments: pl.DataFrame,
    seed: int,
    chunk_trades: int = DEFAULT_TRADE_CHUNK,
) -> Iterator[pl.DataFrame]:
    """The day's direct and composite trades (no constituent rows), in TRADE_SCHEMA, `chunk_trades` at a time.

    Only instruments whose exchange holds a session on `trade_date` trade (pipeline.pivot.calendars),
    `trades_per_day` of them on a day every venue holds a full session, fewer on a venue's holiday
    or half day, none when every venue is closed; each trade's `ts` lies inside its session.

    Chunk k draws from its own stream, default_rng([seed, yyyymmdd, k]), so the day is a pure
    function of (seed, trade_date, trades_per_day) and is never held whole. Orders belong to
    one chunk; trade and order ids are sequences over the whole day.
    """
    if not 0 <= trades_per_day <= MAX_TRADES_PER_DAY:
        raise ValueError(f"trades_per_day must be between 0 and {MAX_TRADES_PER_DAY:,}, got {trades_per_day:,}")
    if chunk_trades < 1:
        raise ValueError(f"chunk_trades must be positive, got {chunk_trades}")
    ctx = _day_context(trade_date, instruments, seed)
    day_trades = _day_trades(trades_per_day, ctx["day_share"])
    yyyymmdd = int(trade_date.strftime("%Y%m%d"))
    order_offset = 0
    for index, first in enumerate(range(0, day_trades, chunk_trades)):
        n = min(chunk_trades, day_trades - first)
        yield _generate_chunk(
            trade_date, yyyymmdd, n, first, order_offset, ctx, np.random.default_rng([seed, yyyymmdd, index])
        )
        order_offset += _orders_in(n)


def generate_trades(
    trade_date: date,
    trades_per_day: int,
    instruments: pl.DataFrame,
    seed: int,
    chunk_trades: int = DEFAULT_TRADE_CHUNK,
) -> pl.DataFrame:
    """The whole day's direct and composite trades at once (the concatenation of generate_trade_chunks)."""
    chunks = list(generate_trade_chunks(trade_date, trades_per_day, instruments, seed, chunk_trades))
    if not chunks:
        return conform_to_schema(pl.DataFrame(schema=TRADE_SCHEMA))
    return pl.concat(chunks, rechunk=False) if len(chunks) > 1 else chunks[0]


def _draw_orders(n: int, ctx: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The chunk's orders (instrument, account, side, counterparty, start in the session) and the
    order each of its `n` trades fills."""
    n_orders = max(1, _orders_in(n))
    return {
        "of_trade": np.sort(rng.integers(0, n_orders, size=n)),
        "instrument": rng.choice(len(ctx["instruments"]), size=n_orders, p=ctx["choice_p"]),
        "account": rng.integers(0, ctx["accounts"].height, size=n_orders),
        "side": np.where(rng.random(n_orders) < 0.55, 1.0, -1.0),
        "counterparty": rng.integers(0, len(COUNTERPARTIES), size=n_orders),
        "start": rng.random(n_orders),
    }


def _draw_times(
    n: int, orders: dict, inst_idx: np.ndarray, session: dict, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each trade's fraction of its session and its timestamp (UTC ms) inside the session."""
    session_fraction = np.clip(orders["start"][orders["of_trade"]] + rng.exponential(0.002, size=n), 0.0, 1.0)
    # A point of the session's trading time, then past the lunch break if it falls after its start.
    into_session = np.floor(session["trading_ms"][inst_idx] * session_fraction).astype(np.int64)
    into_session += np.where(into_session >= session["break_start"][inst_idx], session["break_ms"][inst_idx], 0)
    return session_fraction, session["open_ms"][inst_idx] + into_session


def _draw_fills(
    n: int, side: np.ndarray, inst_idx: np.ndarray, session_fraction: np.ndarray, ctx: dict, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Each trade's price, slippage, quantity, notional and P&L."""
    close, prev_close, attributes = ctx["close"], ctx["prev_close"], ctx["attributes"]
    # Intraday price: along the log path from yesterday's close to today's, plus execution noise.
    log_move = np.log(close[inst_idx] / prev_close[inst_idx])
    mid = prev_close[inst_idx] * np.exp(log_move * session_fraction)
    slippage_bps = np.abs(rng.normal(1.0, 0.75, size=n))
    price = np.round(mid * (1 + side * slippage_bps / 10_000), 4)

    is_contract = attributes["is_option"][inst_idx] | attributes["is_future"][inst_idx]
    target_notional = rng.lognormal(np.log(60_000), 1.1, size=n)
    contracts = np.clip(np.round(rng.lognormal(np.log(8), 1.0, size=n)), 1, 500)
    shares = np.maximum(
        1.0, np.round(target_notional / price / np.where(price < 50, 100, 1)) * np.where(price < 50, 100, 1)
    )
    quantity = side * np.where(is_contract, contracts, shares)
    notional = quantity * price
    return {
        "slippage_bps": slippage_bps,
        "price": price,
        "quantity": quantity,
        "notional": notional,
        "pnl": quantity * (close[inst_idx] - price),
    }


def _draw_sensitivities(
    n: int, inst_idx: np.ndarray, fills: dict, ctx: dict, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The greeks, the volatility and the exposure of each trade."""
    attributes, underlying_idx, vol_by_instrument = ctx["attributes"], ctx["underlying_idx"], ctx["vol_by_instrument"]
    is_option = attributes["is_option"][inst_idx]
    is_call = attributes["is_call"][inst_idx]
    price = fills["price"]
    # Greeks are per-unit option sensitivities; other instruments carry none.
    call_delta = np.clip(rng.normal(0.5, 0.15, size=n), 0.02, 0.98)
    delta = np.where(is_option, np.where(is_call, call_delta, call_delta - 1.0), 0.0)
    gamma = np.where(is_option, rng.uniform(0.002, 0.08, size=n), 0.0)
    vega = np.where(is_option, price * rng.uniform(0.05, 0.2, size=n), 0.0)
    theta = np.where(is_option, -price * rng.uniform(0.005, 0.04, size=n), 0.0)
    rho = np.where(is_option, np.where(is_call, 1.0, -1.0) * price * rng.uniform(0.01, 0.1, size=n), 0.0)
    implied_vol = np.clip(vol_by_instrument[underlying_idx[inst_idx]] * rng.lognormal(0.1, 0.1, size=n), 0.05, 1.5)
    vol = np.where(is_option, implied_vol, vol_by_instrument[inst_idx] * rng.lognormal(0.0, 0.05, size=n))
    exposure = np.where(
        is_option, delta * fills["quantity"] * ctx["close"][underlying_idx[inst_idx]], fills["notional"]
    )
    return {"delta": delta, "gamma": gamma, "vega": vega, "theta": theta, "rho": rho, "vol": vol, "exposure": exposure}


def _id_columns(trade_date: date, yyyymmdd: int, n: int, first: int, order_ids: np.ndarray, ts_ms) -> pl.DataFrame:
    """trade_date, ts, trade_id and order_id: ids are sequences over the whole day."""
    return pl.DataFrame(
        {
            "trade_date": pl.Series([trade_date], dtype=pl.Date).new_from_index(0, n)
            if n
            else pl.Series([], dtype=pl.Date),
            "ts": pl.Series(ts_ms, dtype=pl.Int64).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
            "trade_id": np.uint64(yyyymmdd) * np.uint64(TRADE_ID_DAY_FACTOR)
            + np.arange(first + 1, first + n + 1, dtype=np.uint64),
            "order_id": np.uint64(yyyymmdd) * np.uint64(ORDER_ID_DAY_FACTOR)
            + order_ids.astype(np.uint64)
            + np.uint64(1),
        }
    )


def _generate_chunk(
    trade_date: date, yyyymmdd: int, n: int, first: int, order_offset: int, ctx: dict, rng: np.random.Generator
) -> pl.DataFrame:
    """`n` trades of the day, from trade `first` on; the draws come in a fixed order (rows depend on it)."""
    instruments, attributes = ctx["instruments"], ctx["attributes"]
    orders = _draw_orders(n, ctx, rng)
    order_of_trade = orders["of_trade"]
    inst_idx = orders["instrument"][order_of_trade]
    trades = instruments[inst_idx].select(
        "symbol",
        "asset_class",
        "product",
        "instrument_type",
        "currency",
        "sector",
        "country",
        "exchange",
        "underlying_symbol",
        "is_composite",
    )
    org = ctx["accounts"][orders["account"][order_of_trade]]
    session_fraction, ts_ms = _draw_times(n, orders, inst_idx, ctx["session"], rng)
    fills = _draw_fills(n, orders["side"][order_of_trade], inst_idx, session_fraction, ctx, rng)
    sensitivities = _draw_sensitivities(n, inst_idx, fills, ctx, rng)
    abs_notional = np.abs(fills["notional"])

    venue_choice = rng.random(n)
    venue_count = attributes["venue_count"][inst_idx]
    venue_idx = attributes["venue_offset"][inst_idx] + (venue_choice * venue_count).astype(np.int64)
    risk_bucket_idx = np.searchsorted(RISK_BUCKET_VOL_EDGES, sensitivities["vol"])
    scenario_idx = rng.choice(len(SCENARIOS), size=n, p=SCENARIO_WEIGHTS)
    metrics = rng.standard_normal((14, n)) * abs_notional / 1000.0
    fees = abs_notional * rng.uniform(0.5, 2.0, size=n) / 10_000

    frame = pl.concat(
        [
            _id_columns(trade_date, yyyymmdd, n, first, order_of_trade + order_offset, ts_ms),
            org.select("portfolio_manager_id", "fund_id", "portfolio_id", "account_id", "desk", "book", "strategy"),
            trades,
        ],
        how="horizontal",
    )
    exposure_type = (
        pl.col("instrument_type").cast(pl.String).replace_strict(EXPOSURE_TYPE_BY_INSTRUMENT, default="Direct")
    )
    frame = frame.with_columns(
        region=_lookup(attributes["region"], inst_idx),
        venue=_lookup(VENUES, np.where(venue_count > 0, venue_idx, -1)),
        parent_symbol=pl.lit(""),
        # The spec: a direct (or wrapper) trade is its own underlying; derivatives keep their
        # link to the underlying in pivot.instruments.
        underlying_symbol=pl.col("symbol"),
        counterparty=_lookup(COUNTERPARTIES, orders["counterparty"][order_of_trade]),
        risk_bucket=_lookup(RISK_BUCKETS, risk_bucket_idx),
        scenario=_lookup(SCENARIOS, scenario_idx),
        exposure_type=exposure_type,
        is_constituent_exposure=pl.lit(0, dtype=pl.UInt8),
        weight=pl.lit(1.0),
        quantity=fills["quantity"],
        price=fills["price"],
        notional=fills["notional"],
        pnl=fills["pnl"],
        **{greek: sensitivities[greek] for greek in ("delta", "gamma", "vega", "theta", "rho")},
        margin=abs_notional * attributes["margin_rate"][inst_idx],
        fees=fees,
        slippage=abs_notional * fills["slippage_bps"] / 10_000,
        vol=sensitivities["vol"],
        rate=attributes["rate"][inst_idx],
        exposure=sensitivities["exposure"],
        **{f"metric_{i + 1}": metrics[i] for i in range(14)},
    )
    return conform_to_schema(frame)
