-- Reference data for every tradeable instrument. Reloaded whole (small table).
CREATE TABLE IF NOT EXISTS pivot.instruments
(
    symbol            String COMMENT 'Primary identifier (e.g., "AAPL", "SPY")',
    name              String COMMENT 'Full instrument name',
    asset_class       LowCardinality(String) COMMENT 'Asset classification (Equity, Commodity, etc.)',
    instrument_type   LowCardinality(String) COMMENT 'Type: Stock, ETF, ETC, Index, Future, Option, Commodity',
    currency          LowCardinality(String) COMMENT 'Trading currency',
    exchange          LowCardinality(String) COMMENT 'Primary exchange',
    sector            LowCardinality(String) COMMENT 'Industry sector',
    is_composite      UInt8 COMMENT '1 if instrument has constituents (ETF/ETC/Index)',
    -- Beyond the spec: what trades need to fill product, geography and derivative links.
    product           LowCardinality(String) COMMENT 'Product type the instrument trades as (Cash Equity, Listed Future, ...)',
    country           LowCardinality(String) COMMENT 'Country code of the primary exchange',
    underlying_symbol String COMMENT 'For derivatives: the instrument they are written on (else the symbol itself)'
)
ENGINE = MergeTree
ORDER BY symbol;
