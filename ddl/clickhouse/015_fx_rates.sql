-- Daily FX rates to the reporting currency (USD), one row per (date, currency the instruments use).
-- Synthetic by default, overridden by files landed in $PIVOT_LANDING_DIR/fx/. Reloaded whole (small table).
CREATE TABLE IF NOT EXISTS pivot.fx_rates
(
    rate_date   Date COMMENT 'Date the rate applies to (a trade date)',
    currency    LowCardinality(String) COMMENT 'ISO currency code (a trading currency of pivot.instruments)',
    rate_to_usd Float64 COMMENT 'USD per one unit of the currency (USD: exactly 1)'
)
ENGINE = MergeTree
ORDER BY (rate_date, currency);
