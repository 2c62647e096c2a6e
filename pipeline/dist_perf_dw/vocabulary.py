"""The fixed reference lists the synthetic dist_perf_dw world is built from.

Regions and their territories, channels, firm types, name pools, asset classes,
vehicles, product strategies, expense categories and types, transaction types.
Each list's row order is its dimension's id order (id = position + 1).
"""

REGIONS = [
    ("NE", "Northeast", ["New England", "New York Metro", "Mid-Atlantic", "Upstate New York & Pennsylvania"],
     ["MA", "NY", "NJ", "PA", "CT"]),
    ("SE", "Southeast", ["Carolinas", "Florida", "Georgia & Tennessee", "Virginia & DC"],
     ["NC", "FL", "GA", "VA", "TN"]),
    ("MW", "Midwest", ["Chicago Metro", "Great Lakes", "Ohio Valley", "Upper Midwest"], ["IL", "MI", "OH", "MN", "WI"]),
    ("SW", "Southwest", ["North Texas", "South Texas", "Arizona & New Mexico", "Oklahoma & Arkansas"],
     ["TX", "AZ", "NM", "OK", "AR"]),
    ("WE", "West", ["Northern California", "Southern California", "Pacific Northwest", "Mountain West"],
     ["CA", "WA", "OR", "CO", "UT"]),
]

CHANNELS = [
    ("WIRE", "Wirehouse", "National full-service broker-dealers"),
    ("IBD", "Independent Broker-Dealer", "Independent and regional broker-dealers"),
    ("RIA", "Registered Investment Adviser", "Fee-based advisers on custodial platforms"),
    ("BANK", "Bank Trust", "Bank trust departments and bank broker-dealers"),
    ("INS", "Insurance", "Insurance-affiliated broker-dealers"),
]

# code, name, channel code, share of firms, advisors per firm (relative)
FIRM_TYPES = [
    ("WIREHOUSE", "Wirehouse", "WIRE", 0.04, 40.0),
    ("REGIONAL_BD", "Regional Broker-Dealer", "IBD", 0.12, 8.0),
    ("INDEPENDENT_BD", "Independent Broker-Dealer", "IBD", 0.20, 10.0),
    ("RIA", "Registered Investment Adviser", "RIA", 0.34, 1.5),
    ("HYBRID_RIA", "Hybrid RIA", "RIA", 0.12, 3.0),
    ("BANK", "Bank", "BANK", 0.12, 5.0),
    ("INSURANCE_BD", "Insurance Broker-Dealer", "INS", 0.06, 4.0),
]

FIRM_NAME_SUFFIX = {
    "WIREHOUSE": "Securities",
    "REGIONAL_BD": "Financial",
    "INDEPENDENT_BD": "Investment Services",
    "RIA": "Wealth Advisors",
    "HYBRID_RIA": "Wealth Partners",
    "BANK": "Bank & Trust",
    "INSURANCE_BD": "Financial Network",
}
FIRM_NAME_WORDS = [
    "Atlas", "Beacon", "Cedar", "Harbor", "Summitview", "Granite", "Liberty", "Meridian", "Northstar", "Oakmont",
    "Pinnacle", "Redwood", "Sterling", "Keystone", "Bridgewater", "Lakeshore", "Ironwood", "Crescent", "Evergreen",
    "Fairview", "Highland", "Juniper", "Kingsley", "Lighthouse", "Maple", "Newport", "Orchard", "Prairie", "Quarry",
    "Riverbend", "Sequoia", "Trinity", "Union", "Vantage", "Westfield", "Yorktown", "Aspen", "Birchwood", "Cobalt",
    "Driftwood", "Eastgate", "Foxhall", "Glenview", "Hawthorne",
]
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen", "Daniel", "Lisa",
    "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Kevin",
    "Amanda", "Brian", "Melissa", "Priya", "Wei", "Carlos", "Aisha", "Hiroshi", "Sofia", "Omar", "Elena",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson",
    "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen",
    "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Patel", "Chen", "Kim", "Shah", "Rossi",
]

# code, name, risk level 1-5, daily drift, daily volatility, share of purchases redeemed within a year
ASSET_CLASSES = [
    ("EQ", "Equity", 4, 0.00035, 0.011, 0.35),
    ("FI", "Fixed Income", 2, 0.00012, 0.003, 0.30),
    ("MA", "Multi-Asset", 3, 0.00025, 0.007, 0.25),
    ("ALT", "Alternatives", 5, 0.00025, 0.006, 0.20),
    ("MM", "Money Market", 1, 0.00014, 0.0001, 0.80),
    ("CMD", "Commodities", 5, 0.00015, 0.013, 0.45),
]

# code, name, exchange traded, product name suffix, annual fee range
VEHICLE_TYPES = [
    ("MF", "Mutual Fund", False, "Fund", (0.0045, 0.0095)),
    ("ETF", "Exchange-Traded Fund", True, "ETF", (0.0009, 0.0045)),
    ("SMA", "Separately Managed Account", False, "SMA", (0.0030, 0.0060)),
    ("CIT", "Collective Investment Trust", False, "CIT", (0.0020, 0.0045)),
    ("INTERVAL", "Interval Fund", False, "Interval Fund", (0.0100, 0.0150)),
]

# strategy, asset class, vehicles
PRODUCT_STRATEGIES = [
    ("Large Cap Growth", "EQ", ["MF", "ETF", "SMA"]),
    ("Large Cap Value", "EQ", ["MF", "ETF"]),
    ("Small Cap Core", "EQ", ["MF"]),
    ("International Equity", "EQ", ["MF", "ETF"]),
    ("Emerging Markets", "EQ", ["MF", "ETF"]),
    ("Dividend Income", "EQ", ["ETF", "SMA"]),
    ("Global Equity", "EQ", ["CIT"]),
    ("Core Bond", "FI", ["MF", "ETF", "CIT"]),
    ("Short Duration", "FI", ["MF", "ETF"]),
    ("Municipal Bond", "FI", ["MF", "SMA"]),
    ("High Yield", "FI", ["MF", "ETF"]),
    ("Inflation-Protected", "FI", ["ETF"]),
    ("Balanced Allocation", "MA", ["MF"]),
    ("Target Date 2040", "MA", ["MF", "CIT"]),
    ("Income Allocation", "MA", ["MF"]),
    ("Private Credit", "ALT", ["INTERVAL"]),
    ("Real Estate Income", "ALT", ["INTERVAL", "MF"]),
    ("Managed Futures", "ALT", ["MF"]),
    ("Government Money Market", "MM", ["MF"]),
    ("Commodity Strategy", "CMD", ["MF", "ETF"]),
    ("Gold", "CMD", ["ETF"]),
]
PRODUCT_BRAND = "Summit"

EXPENSE_CATEGORIES = [
    ("TE", "Travel & Entertainment"),
    ("MKT", "Marketing"),
    ("EVT", "Events & Conferences"),
    ("SUP", "Sales Support"),
]
# code, name, category, reimbursable, typical amount (USD), client facing (tied to a firm), items per wholesaler-day
EXPENSE_TYPES = [
    ("AIRFARE", "Airfare", "TE", True, 600.0, False, 0.25),
    ("LODGING", "Lodging", "TE", True, 250.0, False, 0.35),
    ("GROUND", "Ground Transportation", "TE", True, 80.0, False, 0.6),
    ("CLIENT_MEAL", "Client Meals", "TE", True, 150.0, True, 0.8),
    ("LITERATURE", "Sales Literature", "MKT", False, 300.0, False, 0.1),
    ("DIGITAL", "Digital Campaign", "MKT", False, 1_200.0, False, 0.04),
    ("PROMO", "Promotional Items", "MKT", False, 200.0, True, 0.1),
    ("SPONSORSHIP", "Conference Sponsorship", "EVT", False, 7_500.0, True, 0.02),
    ("DUE_DILIGENCE", "Due Diligence Meeting", "EVT", False, 3_500.0, True, 0.03),
    ("SEMINAR", "Client Seminar", "EVT", False, 1_800.0, True, 0.08),
    ("CRM_DATA", "CRM & Data Subscriptions", "SUP", False, 900.0, False, 0.03),
    ("TRAINING", "Training & Licensing", "SUP", True, 500.0, False, 0.03),
]

# code, name, category, direction, sign
TRANSACTION_TYPES = [
    ("PURCHASE", "Purchase", "purchase", "inflow", 1),
    ("REDEMPTION", "Redemption", "redemption", "outflow", -1),
    ("EXCHANGE_IN", "Exchange in", "exchange", "inflow", 1),
    ("EXCHANGE_OUT", "Exchange out", "exchange", "outflow", -1),
    ("TRANSFER_IN", "Transfer in", "transfer", "inflow", 1),
    ("TRANSFER_OUT", "Transfer out", "transfer", "outflow", -1),
]
TRANSACTION_TYPE_ID = {code: index + 1 for index, (code, *_rest) in enumerate(TRANSACTION_TYPES)}
