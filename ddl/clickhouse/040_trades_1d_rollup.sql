-- Daily pre-aggregates. exposure_type is part of the key so that top-level
-- (Direct/ETF/ETC) and look-through (Direct/Constituent) views can both be
-- served without double counting. Rebuilt per partition from trades_1d and
-- swapped in with REPLACE PARTITION (materialized views do not fire on it).
CREATE TABLE IF NOT EXISTS pivot.trades_1d_rollup
(
    trade_date           Date,
    portfolio_manager_id UInt32,
    fund_id              UInt32,
    book                 LowCardinality(String),
    asset_class          LowCardinality(String),
    symbol               String,
    exposure_type        LowCardinality(String),
    quantity_state       AggregateFunction(sum, Float64),
    notional_state       AggregateFunction(sum, Float64),
    pnl_state            AggregateFunction(sum, Float64),
    trade_count          SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY trade_date
ORDER BY (trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol, exposure_type);
