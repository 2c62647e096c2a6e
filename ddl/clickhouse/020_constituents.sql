-- Composite -> constituent map with effective dating; the map in force on a
-- trade date is the one with effective_date <= trade_date <= expiry_date.
CREATE TABLE IF NOT EXISTS pivot.constituents
(
    parent_symbol      String COMMENT 'The ETF/ETC/Index symbol',
    constituent_symbol String COMMENT 'Underlying instrument symbol',
    weight             Float64 COMMENT 'Portfolio weight (0.0 to 1.0)',
    shares_per_unit    Float64 COMMENT 'Shares of constituent per unit of parent',
    effective_date     Date COMMENT 'When this mapping became effective',
    expiry_date        Date DEFAULT toDate('2099-12-31') COMMENT 'When this mapping expires (default: 2099-12-31)'
)
ENGINE = MergeTree
ORDER BY (parent_symbol, effective_date, constituent_symbol);
