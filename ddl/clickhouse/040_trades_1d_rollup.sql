-- Daily pre-aggregates. exposure_type is part of the key so that top-level
-- (Direct/ETF/ETC) and look-through (Direct/Constituent) views can both be
-- served without double counting. Rebuilt per partition from trades_1d and
-- swapped in with REPLACE PARTITION (materialized views do not fire on it).
CREATE TABLE IF NOT EXISTS pivot.trades_1d_rollup
(
    trade_date           Date COMMENT 'Trade date (partition key)',
    portfolio_manager_id UInt32 COMMENT 'Portfolio manager identifier',
    fund_id              UInt32 COMMENT 'Fund identifier',
    book                 LowCardinality(String) COMMENT 'Trading book',
    asset_class          LowCardinality(String) COMMENT 'Equity, Commodity, etc.',
    symbol               String COMMENT 'Instrument symbol',
    exposure_type        LowCardinality(String) COMMENT 'Direct, ETF, ETC or Constituent: part of the key, so top-level and look-through views never double count',
    quantity_state       AggregateFunction(sum, Float64) COMMENT 'sumState(quantity): read with sumMerge',
    notional_state       AggregateFunction(sum, Float64) COMMENT 'sumState(notional): read with sumMerge',
    pnl_state            AggregateFunction(sum, Float64) COMMENT 'sumState(pnl): read with sumMerge',
    notional_usd_state   AggregateFunction(sum, Float64) COMMENT 'sumState(notional_usd): read with sumMerge',
    pnl_usd_state        AggregateFunction(sum, Float64) COMMENT 'sumState(pnl_usd): read with sumMerge',
    trade_count          SimpleAggregateFunction(sum, UInt64) COMMENT 'Rows of trades_1d in the group'
)
ENGINE = AggregatingMergeTree
PARTITION BY trade_date
ORDER BY (trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol, exposure_type);

-- Stores created before the reporting currency get its states, in the same place (the rebuild
-- inserts by position). Days rebuilt before hold empty states until rebuilt.
ALTER TABLE pivot.trades_1d_rollup
    ADD COLUMN IF NOT EXISTS notional_usd_state AggregateFunction(sum, Float64) COMMENT 'sumState(notional_usd): read with sumMerge' AFTER pnl_state,
    ADD COLUMN IF NOT EXISTS pnl_usd_state AggregateFunction(sum, Float64) COMMENT 'sumState(pnl_usd): read with sumMerge' AFTER notional_usd_state;
