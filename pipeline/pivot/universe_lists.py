"""The static reference lists the instrument universe is built from.

Real listed names (US mega-caps, international stocks, commodities, indices, futures, ETFs, ETCs),
the member counts of the composites, the country/currency/exchange maps and the closed vocabularies
of the instrument attributes. `pipeline.pivot.instruments` turns them into the seed's universe.
"""

from __future__ import annotations

SECTORS = [
    "Information Technology",
    "Health Care",
    "Financials",
    "Consumer Discretionary",
    "Communication Services",
    "Industrials",
    "Consumer Staples",
    "Energy",
    "Utilities",
    "Real Estate",
    "Materials",
]

# symbol, name, sector, exchange, price on PRICE_HISTORY_START
US_MEGA_CAPS = [
    ("AAPL", "Apple Inc.", "Information Technology", "NASDAQ", 185.0),
    ("MSFT", "Microsoft Corp.", "Information Technology", "NASDAQ", 375.0),
    ("GOOGL", "Alphabet Inc. Class A", "Communication Services", "NASDAQ", 140.0),
    ("AMZN", "Amazon.com Inc.", "Consumer Discretionary", "NASDAQ", 150.0),
    ("NVDA", "NVIDIA Corp.", "Information Technology", "NASDAQ", 480.0),
    ("META", "Meta Platforms Inc.", "Communication Services", "NASDAQ", 350.0),
    ("TSLA", "Tesla Inc.", "Consumer Discretionary", "NASDAQ", 250.0),
    ("BRK.B", "Berkshire Hathaway Inc. Class B", "Financials", "NYSE", 360.0),
    ("JPM", "JPMorgan Chase & Co.", "Financials", "NYSE", 170.0),
    ("V", "Visa Inc.", "Financials", "NYSE", 260.0),
    ("UNH", "UnitedHealth Group Inc.", "Health Care", "NYSE", 525.0),
    ("XOM", "Exxon Mobil Corp.", "Energy", "NYSE", 100.0),
    ("JNJ", "Johnson & Johnson", "Health Care", "NYSE", 157.0),
    ("PG", "Procter & Gamble Co.", "Consumer Staples", "NYSE", 146.0),
    ("MA", "Mastercard Inc.", "Financials", "NYSE", 425.0),
    ("HD", "Home Depot Inc.", "Consumer Discretionary", "NYSE", 345.0),
    ("AVGO", "Broadcom Inc.", "Information Technology", "NASDAQ", 1100.0),
    ("CVX", "Chevron Corp.", "Energy", "NYSE", 150.0),
    ("LLY", "Eli Lilly and Co.", "Health Care", "NYSE", 580.0),
    ("MRK", "Merck & Co.", "Health Care", "NYSE", 108.0),
    ("ABBV", "AbbVie Inc.", "Health Care", "NYSE", 155.0),
    ("PEP", "PepsiCo Inc.", "Consumer Staples", "NASDAQ", 170.0),
    ("KO", "Coca-Cola Co.", "Consumer Staples", "NYSE", 59.0),
    ("COST", "Costco Wholesale Corp.", "Consumer Staples", "NASDAQ", 660.0),
    ("ADBE", "Adobe Inc.", "Information Technology", "NASDAQ", 600.0),
    ("WMT", "Walmart Inc.", "Consumer Staples", "NYSE", 158.0),
    ("CRM", "Salesforce Inc.", "Information Technology", "NYSE", 260.0),
    ("BAC", "Bank of America Corp.", "Financials", "NYSE", 33.0),
    ("NFLX", "Netflix Inc.", "Communication Services", "NASDAQ", 485.0),
    ("AMD", "Advanced Micro Devices Inc.", "Information Technology", "NASDAQ", 145.0),
    ("INTC", "Intel Corp.", "Information Technology", "NASDAQ", 50.0),
    ("CSCO", "Cisco Systems Inc.", "Information Technology", "NASDAQ", 50.0),
    ("ORCL", "Oracle Corp.", "Information Technology", "NYSE", 105.0),
    ("DIS", "Walt Disney Co.", "Communication Services", "NYSE", 90.0),
    ("PFE", "Pfizer Inc.", "Health Care", "NYSE", 29.0),
    ("TMO", "Thermo Fisher Scientific Inc.", "Health Care", "NYSE", 530.0),
    ("WFC", "Wells Fargo & Co.", "Financials", "NYSE", 49.0),
    ("GS", "Goldman Sachs Group Inc.", "Financials", "NYSE", 385.0),
    ("MS", "Morgan Stanley", "Financials", "NYSE", 93.0),
    ("CAT", "Caterpillar Inc.", "Industrials", "NYSE", 295.0),
    ("BA", "Boeing Co.", "Industrials", "NYSE", 260.0),
    ("GE", "General Electric Co.", "Industrials", "NYSE", 127.0),
    ("HON", "Honeywell International Inc.", "Industrials", "NASDAQ", 209.0),
    ("UPS", "United Parcel Service Inc.", "Industrials", "NYSE", 157.0),
    ("NEE", "NextEra Energy Inc.", "Utilities", "NYSE", 61.0),
    ("DUK", "Duke Energy Corp.", "Utilities", "NYSE", 97.0),
    ("PLD", "Prologis Inc.", "Real Estate", "NYSE", 133.0),
    ("AMT", "American Tower Corp.", "Real Estate", "NYSE", 215.0),
    ("LIN", "Linde plc", "Materials", "NYSE", 410.0),
    ("SHW", "Sherwin-Williams Co.", "Materials", "NYSE", 310.0),
]

# symbol, name, sector, exchange, country, currency, price
INTERNATIONAL_STOCKS = [
    ("SHEL", "Shell plc", "Energy", "LSE", "GB", "GBP", 25.0),
    ("AZN", "AstraZeneca plc", "Health Care", "LSE", "GB", "GBP", 105.0),
    ("HSBA", "HSBC Holdings plc", "Financials", "LSE", "GB", "GBP", 6.3),
    ("ULVR", "Unilever plc", "Consumer Staples", "LSE", "GB", "GBP", 38.0),
    ("BP.", "BP plc", "Energy", "LSE", "GB", "GBP", 4.7),
    ("SAP", "SAP SE", "Information Technology", "XETRA", "DE", "EUR", 140.0),
    ("SIE", "Siemens AG", "Industrials", "XETRA", "DE", "EUR", 170.0),
    ("ALV", "Allianz SE", "Financials", "XETRA", "DE", "EUR", 240.0),
    ("DTE", "Deutsche Telekom AG", "Communication Services", "XETRA", "DE", "EUR", 22.0),
    ("MC", "LVMH Moet Hennessy Louis Vuitton SE", "Consumer Discretionary", "EURONEXT", "FR", "EUR", 730.0),
    ("OR", "L'Oreal SA", "Consumer Staples", "EURONEXT", "FR", "EUR", 450.0),
    ("TTE", "TotalEnergies SE", "Energy", "EURONEXT", "FR", "EUR", 62.0),
    ("NESN", "Nestle SA", "Consumer Staples", "SIX", "CH", "CHF", 98.0),
    ("7203.T", "Toyota Motor Corp.", "Consumer Discretionary", "TSE", "JP", "JPY", 2600.0),
    ("6758.T", "Sony Group Corp.", "Consumer Discretionary", "TSE", "JP", "JPY", 13000.0),
    ("8306.T", "Mitsubishi UFJ Financial Group", "Financials", "TSE", "JP", "JPY", 1200.0),
    ("0700.HK", "Tencent Holdings Ltd.", "Communication Services", "HKEX", "HK", "HKD", 295.0),
    ("0005.HK", "HSBC Holdings plc (HK)", "Financials", "HKEX", "HK", "HKD", 59.0),
    ("9988.HK", "Alibaba Group Holding Ltd.", "Consumer Discretionary", "HKEX", "HK", "HKD", 75.0),
    ("RY", "Royal Bank of Canada", "Financials", "TSX", "CA", "CAD", 133.0),
]

# symbol, name, exchange, country, price
COMMODITIES = [
    ("GOLD", "Gold spot (troy oz)", "LBMA", "GB", 2050.0),
    ("SILVER", "Silver spot (troy oz)", "LBMA", "GB", 23.5),
    ("PLAT", "Platinum spot (troy oz)", "LPPM", "GB", 950.0),
    ("PALL", "Palladium spot (troy oz)", "LPPM", "GB", 1050.0),
    ("WTI", "WTI crude oil spot (bbl)", "NYMEX", "US", 75.0),
    ("BRENT", "Brent crude oil spot (bbl)", "ICE", "GB", 80.0),
    ("NATGAS", "Henry Hub natural gas spot (MMBtu)", "NYMEX", "US", 2.6),
    ("COPPER", "Copper spot (lb)", "COMEX", "US", 3.9),
]

# symbol, name, exchange, index-of, price
INDICES = [
    ("SPX", "S&P 500 Index", "CBOE", "SPY", 4750.0),
    ("NDX", "Nasdaq-100 Index", "NASDAQ", "QQQ", 16800.0),
]

# symbol, name, underlying, exchange, price multiple of underlying
FUTURES = [
    ("ES", "E-mini S&P 500 future (front month)", "SPX", "CME", 1.003),
    ("NQ", "E-mini Nasdaq-100 future (front month)", "NDX", "CME", 1.003),
    ("GC", "Gold future (front month)", "GOLD", "COMEX", 1.004),
    ("SI", "Silver future (front month)", "SILVER", "COMEX", 1.004),
    ("CL", "WTI crude oil future (front month)", "WTI", "NYMEX", 0.998),
]

OPTION_UNDERLYINGS = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "SPY", "QQQ", "GLD"]

# ETF: symbol, name, exchange, price; members are chosen in pipeline.pivot.constituents.
ETFS = [
    ("SPY", "SPDR S&P 500 ETF Trust", "ARCA", 475.0),
    ("QQQ", "Invesco QQQ Trust", "NASDAQ", 410.0),
    ("XLK", "Technology Select Sector SPDR Fund", "ARCA", 195.0),
    ("XLF", "Financial Select Sector SPDR Fund", "ARCA", 37.0),
]
ETCS = [
    ("GLD", "SPDR Gold Shares", "ARCA", 190.0, {"GOLD": 1.0}),
    ("SLV", "iShares Silver Trust", "ARCA", 21.5, {"SILVER": 1.0}),
    ("PMET", "Precious Metals Basket ETC", "ARCA", 100.0, {"GOLD": 0.5, "SILVER": 0.3, "PLAT": 0.2}),
]

# The spec's example weights, held in every SPY period so its examples read true on any date.
SPY_ANCHOR_WEIGHTS = {"AAPL": 0.07, "MSFT": 0.065, "GOOGL": 0.04, "AMZN": 0.035}
SPY_MEMBER_COUNT = 503
QQQ_MEMBER_COUNT = 101
US_STOCK_COUNT = 530

COUNTRY_REGION = {
    "US": "AMER",
    "CA": "AMER",
    "GB": "EMEA",
    "DE": "EMEA",
    "FR": "EMEA",
    "CH": "EMEA",
    "JP": "APAC",
    "HK": "APAC",
}
COUNTRY_CURRENCY = {
    "US": "USD",
    "CA": "CAD",
    "GB": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "CH": "CHF",
    "JP": "JPY",
    "HK": "HKD",
}
EXCHANGE_COUNTRY = {
    "NYSE": "US",
    "NASDAQ": "US",
    "ARCA": "US",
    "CBOE": "US",
    "CME": "US",
    "COMEX": "US",
    "NYMEX": "US",
    "ICE": "GB",
    "LBMA": "GB",
    "LPPM": "GB",
    "LSE": "GB",
    "XETRA": "DE",
    "EURONEXT": "FR",
    "SIX": "CH",
    "TSE": "JP",
    "HKEX": "HK",
    "TSX": "CA",
}
# The closed vocabularies of the instrument attributes (pivot.trades_1d keeps them as LowCardinality;
# trade generation types them as Polars Enums from these lists, and a test holds the universe to them).
ASSET_CLASSES = ["Commodity", "Equity"]
INSTRUMENT_TYPES = ["Commodity", "ETC", "ETF", "Future", "Index", "Option", "Stock"]
PRODUCTS = [
    "Cash Equity",
    "Exchange Traded Commodity",
    "Exchange Traded Fund",
    "Index",
    "Listed Future",
    "Listed Option",
    "Spot Commodity",
]
INSTRUMENT_SECTORS = sorted([*SECTORS, "Broad Market", "Commodities"])
COUNTRIES = sorted(set(EXCHANGE_COUNTRY.values()))
CURRENCIES = sorted(set(COUNTRY_CURRENCY.values()) | {row[5] for row in INTERNATIONAL_STOCKS})
# The synthetic US stocks' names are drawn from these.
NAME_SYLLABLES = [
    "Nor",
    "Vel",
    "Ast",
    "Cor",
    "Lum",
    "Pra",
    "Quin",
    "Tor",
    "Bel",
    "Sil",
    "Mar",
    "Cal",
    "Dyn",
    "Ery",
    "Fal",
    "Gal",
    "Hel",
    "Ion",
    "Kel",
    "Oro",
]
NAME_SUFFIXES = ["Holdings", "Systems", "Industries", "Group", "Technologies", "Partners", "Brands", "Labs"]
