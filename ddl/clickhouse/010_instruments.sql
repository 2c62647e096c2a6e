-- Reference data for every tradeable instrument. Reloaded whole (small table).
CREATE TABLE IF NOT EXISTS pivot.instruments
(
    symbol            String,
    name              String,
    asset_class       LowCardinality(String),
    instrument_type   LowCardinality(String),
    currency          LowCardinality(String),
    exchange          LowCardinality(String),
    sector            LowCardinality(String),
    is_composite      UInt8,
    -- Beyond the spec: what trades need to fill product, geography and derivative links.
    product           LowCardinality(String),
    country           LowCardinality(String),
    underlying_symbol String
)
ENGINE = MergeTree
ORDER BY symbol;
