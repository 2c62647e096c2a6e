-- Trade fact with ETF/ETC look-through rows. One partition per trade_date,
-- replaced whole from a staging table on every load.
-- A day is written once, whole, by one INSERT in parts of ~96 MB (~70 parts for
-- a 1M-trade day), and never appended to, so background merges are off: merging
-- rewrites the whole day (OPTIMIZE ... FINAL of a 1M-trade day: 50 s, 2.4x its
-- load) and buys little (the AAPL point query 8 ms instead of 27 ms; the scans
-- were faster on the unmerged parts). OPTIMIZE ... FINAL still merges on demand
-- (README "Performance").
-- The sort key leads with exposure_type and underlying_symbol because every
-- spec query filters on exposure_type or underlying_symbol within a day.
CREATE TABLE IF NOT EXISTS pivot.trades_1d
(
    trade_date              Date COMMENT 'Trade date (partition key)',
    ts                      DateTime64(3, 'UTC') COMMENT 'Timestamp with millisecond precision',
    trade_id                UInt64 COMMENT 'Unique trade identifier',
    order_id                UInt64 COMMENT 'Parent order identifier',
    portfolio_manager_id    UInt32 COMMENT 'Portfolio manager identifier',
    fund_id                 UInt32 COMMENT 'Fund identifier',
    portfolio_id            UInt64 COMMENT 'Portfolio identifier',
    account_id              UInt64 COMMENT 'Account identifier',
    desk                    LowCardinality(String) COMMENT 'Trading desk',
    book                    LowCardinality(String) COMMENT 'Trading book',
    strategy                LowCardinality(String) COMMENT 'Trading strategy',
    region                  LowCardinality(String) COMMENT 'AMER, EMEA, APAC',
    country                 LowCardinality(String) COMMENT 'Country code',
    venue                   LowCardinality(String) COMMENT 'Execution venue',
    asset_class             LowCardinality(String) COMMENT 'Equity, Commodity, etc.',
    product                 LowCardinality(String) COMMENT 'Product type',
    instrument_type         LowCardinality(String) COMMENT 'Stock, ETF, ETC, Constituent',
    symbol                  String COMMENT 'Instrument symbol',
    parent_symbol           String COMMENT 'For constituents: the parent ETF/ETC symbol',
    currency                LowCardinality(String) COMMENT 'Trading currency',
    counterparty            String COMMENT 'Counterparty name',
    risk_bucket             LowCardinality(String) COMMENT 'Low, Medium, High, VeryHigh',
    scenario                LowCardinality(String) COMMENT 'Base, Stress, Historical, MonteCarlo',
    underlying_symbol       String COMMENT 'The actual underlying instrument (AAPL, GOLD, etc.)',
    exposure_type           LowCardinality(String) COMMENT 'Key field for pivot filtering',
    is_constituent_exposure UInt8 COMMENT '1 for a look-through row exploded from an ETF/ETC trade, 0 for a traded row',
    sector                  LowCardinality(String) COMMENT 'Industry sector of the row\'s instrument',
    weight                  Float64 COMMENT 'Constituent weight (1.0 for direct trades)',
    quantity                Float64 COMMENT 'Trade quantity',
    price                   Float64 COMMENT 'Execution price',
    notional                Float64 COMMENT 'Notional value (quantity × price)',
    pnl                     Float64 COMMENT 'Profit/Loss',
    notional_usd            Float64 COMMENT 'notional in USD: notional × pivot.fx_rates.rate_to_usd of the row\'s currency on the trade date (USD rows: equal)',
    pnl_usd                 Float64 COMMENT 'pnl in USD: pnl × pivot.fx_rates.rate_to_usd of the row\'s currency on the trade date (USD rows: equal)',
    delta                   Float64 COMMENT 'Price sensitivity (-1.0 to 1.0)',
    gamma                   Float64 COMMENT 'Delta sensitivity (0.0 to 0.1)',
    vega                    Float64 COMMENT 'Volatility sensitivity',
    theta                   Float64 COMMENT 'Time decay (always ≤ 0)',
    rho                     Float64 COMMENT 'Interest rate sensitivity',
    margin                  Float64 COMMENT 'Required margin',
    fees                    Float64 COMMENT 'Transaction fees',
    slippage                Float64 COMMENT 'Execution slippage',
    vol                     Float64 COMMENT 'Implied volatility',
    rate                    Float64 COMMENT 'Interest rate',
    exposure                Float64 COMMENT 'Risk exposure',
    metric_1                Float64 COMMENT 'Custom metric',
    metric_2                Float64 COMMENT 'Custom metric',
    metric_3                Float64 COMMENT 'Custom metric',
    metric_4                Float64 COMMENT 'Custom metric',
    metric_5                Float64 COMMENT 'Custom metric',
    metric_6                Float64 COMMENT 'Custom metric',
    metric_7                Float64 COMMENT 'Custom metric',
    metric_8                Float64 COMMENT 'Custom metric',
    metric_9                Float64 COMMENT 'Custom metric',
    metric_10               Float64 COMMENT 'Custom metric',
    metric_11               Float64 COMMENT 'Custom metric',
    metric_12               Float64 COMMENT 'Custom metric',
    metric_13               Float64 COMMENT 'Custom metric',
    metric_14               Float64 COMMENT 'Custom metric'
)
ENGINE = MergeTree
PARTITION BY trade_date
ORDER BY (exposure_type, underlying_symbol, portfolio_manager_id, trade_id)
SETTINGS max_bytes_to_merge_at_max_space_in_pool = 0, max_compress_block_size = 131072;

-- Stores created before merges were turned off get the setting too.
ALTER TABLE pivot.trades_1d MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 0;

-- Compression buffers of 128 KB instead of 1 MB (issue 18, item 6). An INSERT writes two parts at a time,
-- and each part's writer holds buffers of this size for every column stream (~75 here): of a 1M-trade
-- day's engine peak of 1.2 GB, 0.55 GB went away with it (benchmarks/README.md "Memory of a 1M-trade
-- day"). What is written stays the same: a compressed block is still cut at the first granule's end
-- past min_compress_block_size (64 KB), and no column here has a granule above 128 KB (8,192
-- Float64 values are 64 KB); a 300k-trade day compressed to the same size within 0.01 %.
ALTER TABLE pivot.trades_1d MODIFY SETTING max_compress_block_size = 131072;

-- Stores created before the reporting currency get its columns, in the same place (a staging table
-- is created AS the table, so its structure stays identical). Days loaded before hold 0 in them
-- until reloaded; the fx_converts_at_the_day_rate check flags such days.
ALTER TABLE pivot.trades_1d
    ADD COLUMN IF NOT EXISTS notional_usd Float64 COMMENT 'notional in USD: notional × pivot.fx_rates.rate_to_usd of the row\'s currency on the trade date (USD rows: equal)' AFTER pnl,
    ADD COLUMN IF NOT EXISTS pnl_usd Float64 COMMENT 'pnl in USD: pnl × pivot.fx_rates.rate_to_usd of the row\'s currency on the trade date (USD rows: equal)' AFTER notional_usd;
