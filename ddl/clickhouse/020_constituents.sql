-- Composite -> constituent map with effective dating; the map in force on a
-- trade date is the one with effective_date <= trade_date <= expiry_date.
CREATE TABLE IF NOT EXISTS pivot.constituents
(
    parent_symbol      String,
    constituent_symbol String,
    weight             Float64,
    shares_per_unit    Float64,
    effective_date     Date,
    expiry_date        Date DEFAULT toDate('2099-12-31')
)
ENGINE = MergeTree
ORDER BY (parent_symbol, effective_date, constituent_symbol);
