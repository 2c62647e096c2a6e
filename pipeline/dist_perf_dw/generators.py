"""Synthetic data for dist_perf_dw: an asset manager's distribution business.

Pure functions of (seed, date, scale): no Dagster, no database. Every frame's
columns are named and ordered like the table it loads (ddl/postgres/).

The story the data tells:
- Advisors work at firms (firm type -> channel, region) and sit in a sales
  territory, covered by one of the territory's wholesalers. Each advisor holds a
  book of a few products; a few advisors hold most of the assets (Pareto).
- On business days advisors buy, redeem, exchange and transfer. Amounts are
  log-normal (many small tickets, a few very large ones).
- Each purchase carries a redemption plan drawn when it is made: kept for good,
  or partly/fully redeemed on a later business day within a year. The
  redemption flows of a day are exactly the plans that fall due that day, so
  retention snapshots (what share of a purchase is still held 30/90/180/365
  days later) agree with the redemption rows by construction.
- Revenue accrues daily on each book position: (AUM + the day's net flows) x
  the product's annual management fee / 365. A month's revenue is an estimate
  until the month is closed (fifth business day after month end).
- Wholesalers spend on travel, marketing and events, and are paid a monthly base
  plus an incentive on positive net flows of the advisors they cover.
"""

import datetime as dt
import functools
import zlib
from dataclasses import dataclass

import numpy as np
import polars as pl

FLOWS_START_DATE = dt.date(2024, 1, 1)
DIM_DATES_START = dt.date(2020, 1, 1)
DIM_DATES_END = dt.date(2035, 12, 31)
RETENTION_AGES_DAYS = (30, 90, 180, 365)
REDEMPTION_HORIZON_DAYS = 365
BUSINESS_DAYS_TO_CLOSE_MONTH = 5

# flow_id = day number * FLOW_IDS_PER_DAY + position in the day: unique,
# deterministic, and readable (the date is visible in the id).
FLOW_IDS_PER_DAY = 1_000_000
EXPENSE_IDS_PER_DAY = 100_000
_ID_EPOCH = dt.date(2000, 1, 1)

# Mean flows per business day at scale 1.0.
PURCHASES_PER_DAY = 1_500
BOOK_REDEMPTIONS_PER_DAY = 700
EXCHANGES_PER_DAY = 120
TRANSFERS_PER_DAY = 80

ADVISOR_COUNT = 1_500
FIRM_COUNT = 120

# --------------------------------------------------------------------------- reference lists

REGIONS = [
    ("NE", "Northeast", ["New England", "New York Metro", "Mid-Atlantic", "Upstate New York & Pennsylvania"],
     ["MA", "NY", "NJ", "PA", "CT"]),
    ("SE", "Southeast", ["Carolinas", "Florida", "Georgia & Tennessee", "Virginia & DC"], ["NC", "FL", "GA", "VA", "TN"]),
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

# --------------------------------------------------------------------------- randomness


def _rng(seed: int, *keys: str | int) -> np.random.Generator:
    """An independent stream per (seed, purpose, date...): adding a column to one
    generator never shifts the random numbers of another."""
    entropy = [seed] + [zlib.crc32(key.encode()) if isinstance(key, str) else key for key in keys]
    return np.random.default_rng(entropy)


def _day_number(day: dt.date) -> int:
    return (day - _ID_EPOCH).days


def _money(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)


# --------------------------------------------------------------------------- calendar


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _easter_sunday(year: int) -> dt.date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def us_market_holidays(year: int) -> dict[dt.date, str]:
    """NYSE full-day holidays (the days US fund flows do not settle)."""
    holidays = {
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        _easter_sunday(year) - dt.timedelta(days=2): "Good Friday",
        _last_weekday(year, 5, 0): "Memorial Day",
        _observed(dt.date(year, 7, 4)): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        _observed(dt.date(year, 12, 25)): "Christmas Day",
    }
    # NYSE does not observe New Year's Day on the Friday before when it falls on a Saturday.
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != 5:
        holidays[_observed(new_year)] = "New Year's Day"
    if year >= 2022:
        holidays[_observed(dt.date(year, 6, 19))] = "Juneteenth"
    return holidays


@functools.cache
def _holidays() -> dict[dt.date, str]:
    result: dict[dt.date, str] = {}
    for year in range(DIM_DATES_START.year, DIM_DATES_END.year + 1):
        result.update(us_market_holidays(year))
    return result


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays()


@functools.cache
def _business_day_ordinals() -> np.ndarray:
    days = (DIM_DATES_START + dt.timedelta(days=i) for i in range((DIM_DATES_END - DIM_DATES_START).days + 1))
    return np.array([day.toordinal() for day in days if is_business_day(day)], dtype=np.int64)


def _next_business_day_ordinals(ordinals: np.ndarray) -> np.ndarray:
    """The business day on or after each date (as ordinals)."""
    business = _business_day_ordinals()
    return business[np.searchsorted(business, ordinals, side="left")]


def month_close_date(day: dt.date) -> dt.date:
    """The day the books of `day`'s month close: the fifth business day after month end."""
    month_end = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1) - dt.timedelta(days=1)
    business = _business_day_ordinals()
    index = np.searchsorted(business, month_end.toordinal(), side="right") + BUSINESS_DAYS_TO_CLOSE_MONTH - 1
    return dt.date.fromordinal(int(business[index]))


def generate_dim_dates(start: dt.date = DIM_DATES_START, end: dt.date = DIM_DATES_END) -> pl.DataFrame:
    holidays = _holidays()
    days = pl.date_range(start, end, "1d", eager=True).alias("calendar_date")
    frame = pl.DataFrame(days).with_columns(
        date_key=(pl.col("calendar_date").dt.strftime("%Y%m%d").cast(pl.Int32)),
        year=pl.col("calendar_date").dt.year().cast(pl.Int32),
        quarter=pl.col("calendar_date").dt.quarter().cast(pl.Int32),
        month=pl.col("calendar_date").dt.month().cast(pl.Int32),
        month_name=pl.col("calendar_date").dt.strftime("%B"),
        day_of_month=pl.col("calendar_date").dt.day().cast(pl.Int32),
        day_of_year=pl.col("calendar_date").dt.ordinal_day().cast(pl.Int32),
        day_of_week=pl.col("calendar_date").dt.weekday().cast(pl.Int32),
        weekday_name=pl.col("calendar_date").dt.strftime("%A"),
        iso_year=pl.col("calendar_date").dt.iso_year().cast(pl.Int32),
        iso_week=pl.col("calendar_date").dt.week().cast(pl.Int32),
        year_month=pl.col("calendar_date").dt.strftime("%Y-%m"),
        year_quarter=pl.format(
            "{}-Q{}", pl.col("calendar_date").dt.year(), pl.col("calendar_date").dt.quarter()
        ),
        month_start_date=pl.col("calendar_date").dt.month_start(),
        is_weekend=pl.col("calendar_date").dt.weekday() >= 6,
        is_month_end=pl.col("calendar_date") == pl.col("calendar_date").dt.month_end(),
        is_quarter_end=(pl.col("calendar_date") == pl.col("calendar_date").dt.month_end())
        & (pl.col("calendar_date").dt.month() % 3 == 0),
        is_year_end=(pl.col("calendar_date").dt.month() == 12) & (pl.col("calendar_date").dt.day() == 31),
        holiday_name=pl.col("calendar_date").replace_strict(holidays, default=None, return_dtype=pl.String),
    )
    return frame.with_columns(
        is_holiday=pl.col("holiday_name").is_not_null(),
        is_business_day=~pl.col("is_weekend") & pl.col("holiday_name").is_null(),
    ).select(DIM_COLUMNS["dim_dates"])


# --------------------------------------------------------------------------- dimensions

DIM_COLUMNS: dict[str, list[str]] = {
    "dim_dates": [
        "calendar_date", "date_key", "year", "quarter", "month", "month_name", "day_of_month", "day_of_year",
        "day_of_week", "weekday_name", "iso_year", "iso_week", "year_month", "year_quarter", "month_start_date",
        "is_weekend", "is_month_end", "is_quarter_end", "is_year_end", "is_holiday", "holiday_name",
        "is_business_day",
    ],
    "dim_regions": ["region_id", "region_code", "region_name"],
    "dim_channels": ["channel_id", "channel_code", "channel_name", "description"],
    "dim_firm_types": ["firm_type_id", "firm_type_code", "firm_type_name", "channel_id"],
    "dim_firms": [
        "firm_id", "firm_name", "crd_number", "firm_type_id", "channel_id", "region_id", "headquarters_state",
        "relationship_start_date", "is_active",
    ],
    "dim_territories": ["territory_id", "territory_code", "territory_name", "region_id"],
    "dim_advisors": [
        "advisor_id", "advisor_name", "crd_number", "firm_id", "territory_id", "career_start_date",
        "firm_start_date", "segment", "is_active",
    ],
    "dim_asset_classes": ["asset_class_id", "asset_class_code", "asset_class_name", "risk_level"],
    "dim_vehicle_types": ["vehicle_type_id", "vehicle_type_code", "vehicle_type_name", "is_exchange_traded"],
    "dim_products": [
        "product_id", "product_name", "ticker", "asset_class_id", "vehicle_type_id", "management_fee_rate",
        "inception_date", "is_active",
    ],
    "dim_wholesalers": [
        "wholesaler_id", "wholesaler_name", "employee_code", "territory_id", "team_name", "hire_date",
        "annual_base_salary", "incentive_rate",
    ],
    "dim_expense_categories": ["expense_category_id", "expense_category_code", "expense_category_name"],
    "dim_expense_types": [
        "expense_type_id", "expense_type_code", "expense_type_name", "expense_category_id", "is_reimbursable",
    ],
    "dim_transaction_types": [
        "transaction_type_id", "transaction_type_code", "transaction_type_name", "transaction_category",
        "flow_direction", "direction_sign",
    ],
}

# Load order: every dimension after the dimensions it references.
DIMENSION_TABLES = list(DIM_COLUMNS)


def _ids(count: int) -> pl.Series:
    return pl.Series(range(1, count + 1), dtype=pl.Int32)


def _random_date(rng: np.random.Generator, start: dt.date, end: dt.date, size: int) -> list[dt.date]:
    offsets = rng.integers(0, (end - start).days + 1, size=size)
    return [start + dt.timedelta(days=int(offset)) for offset in offsets]


def _person_names(rng: np.random.Generator, size: int) -> list[str]:
    first = rng.choice(FIRST_NAMES, size=size)
    last = rng.choice(LAST_NAMES, size=size)
    return [f"{f} {l}" for f, l in zip(first, last)]


def _ticker(strategy: str, vehicle: str, taken: set[str]) -> str:
    initials = "".join(word[0] for word in strategy.replace("-", " ").split() if word[0].isalpha()).upper()
    stem = ("S" + initials)[:4]
    filler = iter("ABCDEFGHJKLMNPQRTUVWYZ")
    while True:
        candidate = (stem + "X") if vehicle == "MF" else stem[:4]
        candidate = candidate if len(candidate) >= 3 else candidate + "Q"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        stem = stem[:3] + next(filler)


@dataclass(frozen=True)
class Universe:
    """All dimensions plus the books of business the facts are drawn from."""

    dimensions: dict[str, pl.DataFrame]
    # One row per (advisor, product) the advisor holds, with everything a flow needs.
    positions: pl.DataFrame
    # Index of each asset class's market level by day, 1.0 on FLOWS_START_DATE.
    market_index: dict[int, np.ndarray]


@functools.lru_cache(maxsize=4)
def universe(seed: int) -> Universe:
    rng = _rng(seed, "dimensions")

    regions = pl.DataFrame(
        {
            "region_id": _ids(len(REGIONS)),
            "region_code": [code for code, *_ in REGIONS],
            "region_name": [name for _, name, *_ in REGIONS],
        }
    )
    channels = pl.DataFrame(
        {
            "channel_id": _ids(len(CHANNELS)),
            "channel_code": [c[0] for c in CHANNELS],
            "channel_name": [c[1] for c in CHANNELS],
            "description": [c[2] for c in CHANNELS],
        }
    )
    channel_id = {code: index + 1 for index, (code, *_rest) in enumerate(CHANNELS)}
    firm_types = pl.DataFrame(
        {
            "firm_type_id": _ids(len(FIRM_TYPES)),
            "firm_type_code": [f[0] for f in FIRM_TYPES],
            "firm_type_name": [f[1] for f in FIRM_TYPES],
            "channel_id": pl.Series([channel_id[f[2]] for f in FIRM_TYPES], dtype=pl.Int32),
        }
    )
    territory_rows = [
        (f"{code}{number}", name, region_index + 1)
        for region_index, (code, _, names, _) in enumerate(REGIONS)
        for number, name in enumerate(names, start=1)
    ]
    territories = pl.DataFrame(
        {
            "territory_id": _ids(len(territory_rows)),
            "territory_code": [t[0] for t in territory_rows],
            "territory_name": [t[1] for t in territory_rows],
            "region_id": pl.Series([t[2] for t in territory_rows], dtype=pl.Int32),
        }
    )
    territory_region = territories["region_id"].to_numpy()

    # Firms: the type decides channel and typical size.
    type_share = np.array([f[3] for f in FIRM_TYPES])
    firm_type_index = rng.choice(len(FIRM_TYPES), size=FIRM_COUNT, p=type_share / type_share.sum())
    firm_region = rng.integers(1, len(REGIONS) + 1, size=FIRM_COUNT)
    words = rng.permutation(len(FIRM_NAME_WORDS))
    firm_names = []
    for index in range(FIRM_COUNT):
        word = FIRM_NAME_WORDS[words[index % len(FIRM_NAME_WORDS)]]
        repeat = index // len(FIRM_NAME_WORDS)
        prefix = f"{word} {['', 'Capital ', 'Park ', 'Point '][repeat]}".replace("  ", " ")
        firm_names.append(f"{prefix}{FIRM_NAME_SUFFIX[FIRM_TYPES[firm_type_index[index]][0]]}".replace("  ", " "))
    firms = pl.DataFrame(
        {
            "firm_id": _ids(FIRM_COUNT),
            "firm_name": firm_names,
            "crd_number": [str(v) for v in rng.choice(np.arange(10_000, 330_000), size=FIRM_COUNT, replace=False)],
            "firm_type_id": pl.Series(firm_type_index + 1, dtype=pl.Int32),
            "channel_id": pl.Series([channel_id[FIRM_TYPES[i][2]] for i in firm_type_index], dtype=pl.Int32),
            "region_id": pl.Series(firm_region, dtype=pl.Int32),
            "headquarters_state": [str(rng.choice(REGIONS[r - 1][3])) for r in firm_region],
            "relationship_start_date": _random_date(rng, dt.date(2005, 1, 1), dt.date(2023, 6, 30), FIRM_COUNT),
            "is_active": rng.random(FIRM_COUNT) > 0.03,
        }
    )

    # Advisors: big firms employ many; national firms' advisors sit anywhere,
    # the others in their firm's region.
    firm_size = np.array([FIRM_TYPES[i][4] for i in firm_type_index]) * rng.lognormal(0, 0.5, FIRM_COUNT)
    advisor_firm = rng.choice(FIRM_COUNT, size=ADVISOR_COUNT, p=firm_size / firm_size.sum()) + 1
    advisor_territory = np.empty(ADVISOR_COUNT, dtype=np.int64)
    for index, firm in enumerate(advisor_firm):
        if FIRM_TYPES[firm_type_index[firm - 1]][0] == "WIREHOUSE":
            advisor_territory[index] = rng.integers(1, len(territory_rows) + 1)
        else:
            candidates = np.flatnonzero(territory_region == firm_region[firm - 1]) + 1
            advisor_territory[index] = rng.choice(candidates)
    # Pareto productivity: the top tenth of advisors hold about half of the assets.
    advisor_weight = rng.pareto(1.3, ADVISOR_COUNT) + 0.2
    rank = np.argsort(np.argsort(-advisor_weight))
    segment = np.where(rank < ADVISOR_COUNT * 0.1, "Top producer", np.where(rank < ADVISOR_COUNT * 0.5, "Core", "Emerging"))
    career_start = _random_date(rng, dt.date(1985, 1, 1), dt.date(2022, 12, 31), ADVISOR_COUNT)
    firm_start = [
        start + dt.timedelta(days=int(rng.integers(0, (dt.date(2023, 12, 31) - start).days + 1)))
        for start in career_start
    ]
    advisors = pl.DataFrame(
        {
            "advisor_id": _ids(ADVISOR_COUNT),
            "advisor_name": _person_names(rng, ADVISOR_COUNT),
            "crd_number": [str(v) for v in rng.choice(np.arange(1_000_000, 8_000_000), ADVISOR_COUNT, replace=False)],
            "firm_id": pl.Series(advisor_firm, dtype=pl.Int32),
            "territory_id": pl.Series(advisor_territory, dtype=pl.Int32),
            "career_start_date": career_start,
            "firm_start_date": firm_start,
            "segment": segment.tolist(),
            "is_active": rng.random(ADVISOR_COUNT) > 0.02,
        }
    )

    asset_classes = pl.DataFrame(
        {
            "asset_class_id": _ids(len(ASSET_CLASSES)),
            "asset_class_code": [a[0] for a in ASSET_CLASSES],
            "asset_class_name": [a[1] for a in ASSET_CLASSES],
            "risk_level": pl.Series([a[2] for a in ASSET_CLASSES], dtype=pl.Int32),
        }
    )
    vehicle_types = pl.DataFrame(
        {
            "vehicle_type_id": _ids(len(VEHICLE_TYPES)),
            "vehicle_type_code": [v[0] for v in VEHICLE_TYPES],
            "vehicle_type_name": [v[1] for v in VEHICLE_TYPES],
            "is_exchange_traded": [v[2] for v in VEHICLE_TYPES],
        }
    )
    asset_class_id = {a[0]: index + 1 for index, a in enumerate(ASSET_CLASSES)}
    vehicle_index = {v[0]: index for index, v in enumerate(VEHICLE_TYPES)}
    tickers: set[str] = set()
    product_rows = []
    for strategy, asset_class, vehicles in PRODUCT_STRATEGIES:
        for vehicle in vehicles:
            _, _, exchange_traded, suffix, (fee_low, fee_high) = VEHICLE_TYPES[vehicle_index[vehicle]]
            has_ticker = vehicle in ("MF", "ETF", "INTERVAL")
            product_rows.append(
                (
                    f"{PRODUCT_BRAND} {strategy} {suffix}",
                    _ticker(strategy, vehicle, tickers) if has_ticker else None,
                    asset_class_id[asset_class],
                    vehicle_index[vehicle] + 1,
                    round(float(rng.uniform(fee_low, fee_high)), 4),
                )
            )
    products = pl.DataFrame(
        {
            "product_id": _ids(len(product_rows)),
            "product_name": [p[0] for p in product_rows],
            "ticker": pl.Series([p[1] for p in product_rows], dtype=pl.String),
            "asset_class_id": pl.Series([p[2] for p in product_rows], dtype=pl.Int32),
            "vehicle_type_id": pl.Series([p[3] for p in product_rows], dtype=pl.Int32),
            "management_fee_rate": [p[4] for p in product_rows],
            "inception_date": _random_date(rng, dt.date(1995, 1, 1), dt.date(2021, 12, 31), len(product_rows)),
            "is_active": [True] * len(product_rows),
        }
    )

    # One or two wholesalers per territory (two where the territory is busiest),
    # teamed by region.
    advisors_per_territory = np.bincount(advisor_territory, minlength=len(territory_rows) + 1)[1:]
    wholesaler_territory = []
    for territory_index, count in enumerate(advisors_per_territory):
        wholesaler_territory += [territory_index + 1] * (2 if count > np.median(advisors_per_territory) else 1)
    wholesaler_count = len(wholesaler_territory)
    wholesalers = pl.DataFrame(
        {
            "wholesaler_id": _ids(wholesaler_count),
            "wholesaler_name": _person_names(rng, wholesaler_count),
            "employee_code": [f"W{1000 + i}" for i in range(1, wholesaler_count + 1)],
            "territory_id": pl.Series(wholesaler_territory, dtype=pl.Int32),
            "team_name": [f"{REGIONS[territory_region[t - 1] - 1][1]} Team" for t in wholesaler_territory],
            "hire_date": _random_date(rng, dt.date(2008, 1, 1), dt.date(2023, 6, 30), wholesaler_count),
            "annual_base_salary": np.round(rng.uniform(110_000, 165_000, wholesaler_count) / 500) * 500,
            "incentive_rate": np.round(rng.uniform(0.0006, 0.0012, wholesaler_count), 5),
        }
    )

    expense_categories = pl.DataFrame(
        {
            "expense_category_id": _ids(len(EXPENSE_CATEGORIES)),
            "expense_category_code": [c[0] for c in EXPENSE_CATEGORIES],
            "expense_category_name": [c[1] for c in EXPENSE_CATEGORIES],
        }
    )
    category_id = {c[0]: index + 1 for index, c in enumerate(EXPENSE_CATEGORIES)}
    expense_types = pl.DataFrame(
        {
            "expense_type_id": _ids(len(EXPENSE_TYPES)),
            "expense_type_code": [e[0] for e in EXPENSE_TYPES],
            "expense_type_name": [e[1] for e in EXPENSE_TYPES],
            "expense_category_id": pl.Series([category_id[e[2]] for e in EXPENSE_TYPES], dtype=pl.Int32),
            "is_reimbursable": [e[3] for e in EXPENSE_TYPES],
        }
    )
    transaction_types = pl.DataFrame(
        {
            "transaction_type_id": _ids(len(TRANSACTION_TYPES)),
            "transaction_type_code": [t[0] for t in TRANSACTION_TYPES],
            "transaction_type_name": [t[1] for t in TRANSACTION_TYPES],
            "transaction_category": [t[2] for t in TRANSACTION_TYPES],
            "flow_direction": [t[3] for t in TRANSACTION_TYPES],
            "direction_sign": pl.Series([t[4] for t in TRANSACTION_TYPES], dtype=pl.Int32),
        }
    )

    dimensions = {
        "dim_dates": generate_dim_dates(),
        "dim_regions": regions,
        "dim_channels": channels,
        "dim_firm_types": firm_types,
        "dim_firms": firms,
        "dim_territories": territories,
        "dim_advisors": advisors,
        "dim_asset_classes": asset_classes,
        "dim_vehicle_types": vehicle_types,
        "dim_products": products,
        "dim_wholesalers": wholesalers,
        "dim_expense_categories": expense_categories,
        "dim_expense_types": expense_types,
        "dim_transaction_types": transaction_types,
    }
    dimensions = {table: frame.select(DIM_COLUMNS[table]) for table, frame in dimensions.items()}

    # Each advisor is covered by one wholesaler of their territory.
    territory_wholesalers = {
        territory: np.flatnonzero(np.array(wholesaler_territory) == territory) + 1
        for territory in range(1, len(territory_rows) + 1)
    }
    advisor_wholesaler = np.array([rng.choice(territory_wholesalers[t]) for t in advisor_territory])

    # Books: 2-8 products per advisor, popular products more often.
    product_count = len(product_rows)
    popularity = rng.lognormal(0, 0.8, product_count)
    position_advisor, position_product = [], []
    for advisor_index in range(ADVISOR_COUNT):
        size = int(rng.integers(2, 9))
        held = rng.choice(product_count, size=size, replace=False, p=popularity / popularity.sum())
        position_advisor += [advisor_index + 1] * size
        position_product += (held + 1).tolist()
    position_advisor_array = np.array(position_advisor)
    base_aum = _money(
        rng.lognormal(np.log(1_200_000), 1.0, len(position_advisor))
        * (advisor_weight[position_advisor_array - 1] / advisor_weight.mean()) ** 0.8
    )
    firm_channel = firms["channel_id"].to_numpy()
    product_asset_class = products["asset_class_id"].to_numpy()
    positions = pl.DataFrame(
        {
            "advisor_id": pl.Series(position_advisor_array, dtype=pl.Int32),
            "product_id": pl.Series(position_product, dtype=pl.Int32),
            "firm_id": pl.Series(advisor_firm[position_advisor_array - 1], dtype=pl.Int32),
            "channel_id": pl.Series(firm_channel[advisor_firm[position_advisor_array - 1] - 1], dtype=pl.Int32),
            "wholesaler_id": pl.Series(advisor_wholesaler[position_advisor_array - 1], dtype=pl.Int32),
            "asset_class_id": pl.Series(product_asset_class[np.array(position_product) - 1], dtype=pl.Int32),
            "base_aum": base_aum,
            "activity_weight": advisor_weight[position_advisor_array - 1],
        }
    ).sort("advisor_id", "product_id")

    market_rng = _rng(seed, "market")
    days = (DIM_DATES_END - FLOWS_START_DATE).days + 1
    market_index = {}
    for index, (_, _, _, drift, volatility, _) in enumerate(ASSET_CLASSES):
        returns = market_rng.normal(drift, volatility, days)
        returns[0] = 0.0
        market_index[index + 1] = np.exp(np.cumsum(returns))

    return Universe(dimensions=dimensions, positions=positions, market_index=market_index)


def generate_dimensions(seed: int) -> dict[str, pl.DataFrame]:
    """All 14 dimension tables keyed by table name, in load order."""
    return universe(seed).dimensions


# --------------------------------------------------------------------------- facts: flows

FLOW_COLUMNS = [
    "flow_id", "flow_date", "transaction_type_id", "advisor_id", "firm_id", "channel_id", "product_id",
    "wholesaler_id", "amount", "net_amount", "related_flow_id",
]
_FLOW_SCHEMA = {
    "flow_id": pl.Int64, "flow_date": pl.Date, "transaction_type_id": pl.Int32, "advisor_id": pl.Int32,
    "firm_id": pl.Int32, "channel_id": pl.Int32, "product_id": pl.Int32, "wholesaler_id": pl.Int32,
    "amount": pl.Float64, "net_amount": pl.Float64, "related_flow_id": pl.Int64,
}
_POSITION_ATTRIBUTES = ["advisor_id", "firm_id", "channel_id", "product_id", "wholesaler_id"]
_PLANNED_PURCHASE_SCHEMA = {
    **{c: _FLOW_SCHEMA[c] for c in ["flow_id", *_POSITION_ATTRIBUTES, "amount"]},
    "redemption_date": pl.Date,
    "redemption_amount": pl.Float64,
}
_UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _activity_factor(day: dt.date) -> float:
    """More tickets at month and quarter ends and on Mondays, a slow upward trend."""
    factor = 1.0 + 0.04 * (day - FLOWS_START_DATE).days / 365
    next_day = day + dt.timedelta(days=1)
    if next_day.month != day.month:
        factor *= 1.35 if day.month % 3 == 0 else 1.2
    if day.weekday() == 0:
        factor *= 1.1
    if day.month == 1:
        factor *= 1.15
    return factor


@functools.lru_cache(maxsize=4)
def _position_arrays(seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    positions = universe(seed).positions
    probability = positions["activity_weight"].to_numpy()
    return probability / probability.sum(), {c: positions[c].to_numpy() for c in _POSITION_ATTRIBUTES}


def _pick_positions(seed: int, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    probability, attributes = _position_arrays(seed)
    picked = rng.choice(len(probability), size=size, p=probability)
    return {column: values[picked] for column, values in attributes.items()}


@functools.lru_cache(maxsize=1024)
def planned_purchases(seed: int, day: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """The day's purchases with their redemption plans (`redemption_date` null
    when the purchase is held beyond the horizon)."""
    if day < FLOWS_START_DATE or not is_business_day(day):
        return pl.DataFrame(schema=_PLANNED_PURCHASE_SCHEMA)
    rng = _rng(seed, "purchases", _day_number(day))
    count = int(rng.poisson(PURCHASES_PER_DAY * scale * _activity_factor(day)))
    picked = _pick_positions(seed, rng, count)
    amount = _money(np.clip(rng.lognormal(np.log(20_000), 1.4, count), 250, 50_000_000))

    redeem_share = np.array([a[5] for a in ASSET_CLASSES])
    asset_class = universe(seed).dimensions["dim_products"]["asset_class_id"].to_numpy()[picked["product_id"] - 1]
    redeemed = rng.random(count) < redeem_share[asset_class - 1]
    age_days = np.ceil(REDEMPTION_HORIZON_DAYS * rng.beta(0.8, 1.6, count)).clip(1, REDEMPTION_HORIZON_DAYS)
    fraction = np.clip(rng.beta(2.0, 1.2, count), 0.05, 1.0)
    due = _next_business_day_ordinals(day.toordinal() + age_days.astype(np.int64))
    # A plan due after the horizon (a redemption that rolled past a holiday weekend) is dropped.
    redeemed &= due - day.toordinal() <= REDEMPTION_HORIZON_DAYS

    return pl.DataFrame(
        {
            "flow_id": pl.Series(_day_number(day) * FLOW_IDS_PER_DAY + np.arange(count), dtype=pl.Int64),
            **{c: pl.Series(v, dtype=pl.Int32) for c, v in picked.items()},
            "amount": amount,
            "redemption_ordinal": np.where(redeemed, due, 0),
            "redemption_amount": np.where(redeemed, np.minimum(_money(amount * fraction), amount), 0.0),
        }
    ).with_columns(
        redemption_date=pl.when(pl.col("redemption_ordinal") > 0).then(
            (pl.col("redemption_ordinal") - _UNIX_EPOCH_ORDINAL).cast(pl.Int32).cast(pl.Date)
        ),
        redemption_amount=pl.when(pl.col("redemption_ordinal") > 0).then(pl.col("redemption_amount")),
    ).select(list(_PLANNED_PURCHASE_SCHEMA))


def _purchases_redeemed_on(seed: int, day: dt.date, scale: float) -> pl.DataFrame:
    # Plans fall due up to the horizon plus a few days of holiday roll-forward.
    cohorts = [
        planned_purchases(seed, day - dt.timedelta(days=age), scale)
        for age in range(1, REDEMPTION_HORIZON_DAYS + 1)
        if day - dt.timedelta(days=age) >= FLOWS_START_DATE
    ]
    if not cohorts:
        return planned_purchases(seed, dt.date(1999, 1, 1), scale)
    return pl.concat(cohorts).filter(pl.col("redemption_date") == day)


def _flows_frame(
    day: dt.date, transaction_type: str, attributes: dict[str, np.ndarray], amount: np.ndarray, related=None
) -> pl.DataFrame:
    sign = {t[0]: t[4] for t in TRANSACTION_TYPES}[transaction_type]
    return pl.DataFrame(
        {
            "flow_date": [day] * len(amount),
            "transaction_type_id": pl.Series([TRANSACTION_TYPE_ID[transaction_type]] * len(amount), dtype=pl.Int32),
            **{c: pl.Series(attributes[c], dtype=pl.Int32) for c in _POSITION_ATTRIBUTES},
            "amount": amount,
            "net_amount": amount * sign,
            "related_flow_id": pl.Series(related, dtype=pl.Int64) if related is not None
            else pl.Series([None] * len(amount), dtype=pl.Int64),
        },
        schema_overrides={"flow_date": pl.Date},
    )


@functools.lru_cache(maxsize=64)
def generate_aum_flows(seed: int, day: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """fact_aum_flows for one day: purchases, redemptions (of earlier purchases
    as planned, and of the pre-existing book), exchanges (two legs pointing at
    each other) and account transfers. Empty on weekends and market holidays."""
    if day < FLOWS_START_DATE or not is_business_day(day):
        return pl.DataFrame(schema=_FLOW_SCHEMA)
    rng = _rng(seed, "flows", _day_number(day))
    activity = scale * _activity_factor(day)
    first_id = _day_number(day) * FLOW_IDS_PER_DAY

    purchases = planned_purchases(seed, day, scale)
    parts = [
        _flows_frame(
            day, "PURCHASE", {c: purchases[c].to_numpy() for c in _POSITION_ATTRIBUTES}, purchases["amount"].to_numpy()
        )
    ]
    due = _purchases_redeemed_on(seed, day, scale)
    parts.append(
        _flows_frame(
            day, "REDEMPTION", {c: due[c].to_numpy() for c in _POSITION_ATTRIBUTES},
            due["redemption_amount"].to_numpy(), related=due["flow_id"].to_numpy(),
        )
    )
    book_redemptions = int(rng.poisson(BOOK_REDEMPTIONS_PER_DAY * activity))
    parts.append(
        _flows_frame(
            day, "REDEMPTION", _pick_positions(seed, rng, book_redemptions),
            _money(np.clip(rng.lognormal(np.log(30_000), 1.5, book_redemptions), 100, 50_000_000)),
        )
    )
    exchanges = int(rng.poisson(EXCHANGES_PER_DAY * activity))
    exchange_out = _pick_positions(seed, rng, exchanges)
    product_count = len(universe(seed).dimensions["dim_products"])
    exchange_in = dict(exchange_out)
    # Into any other product: add 1..count-1 modulo count so it is never the same one.
    exchange_in["product_id"] = (exchange_out["product_id"] - 1 + rng.integers(1, product_count, exchanges)) % product_count + 1
    exchange_amount = _money(np.clip(rng.lognormal(np.log(40_000), 1.2, exchanges), 500, 20_000_000))
    transfers = int(rng.poisson(TRANSFERS_PER_DAY * activity))
    transfer_positions = _pick_positions(seed, rng, transfers)
    transfer_amount = _money(np.clip(rng.lognormal(np.log(175_000), 1.2, transfers), 1_000, 100_000_000))
    transfer_in = rng.random(transfers) < 0.55

    offset = len(purchases) + len(due) + book_redemptions
    out_ids = first_id + offset + np.arange(exchanges)
    in_ids = out_ids + exchanges
    parts.append(_flows_frame(day, "EXCHANGE_OUT", exchange_out, exchange_amount, related=in_ids))
    parts.append(_flows_frame(day, "EXCHANGE_IN", exchange_in, exchange_amount, related=out_ids))
    parts.append(
        _flows_frame(day, "TRANSFER_IN", {c: v[transfer_in] for c, v in transfer_positions.items()},
                     transfer_amount[transfer_in])
    )
    parts.append(
        _flows_frame(day, "TRANSFER_OUT", {c: v[~transfer_in] for c, v in transfer_positions.items()},
                     transfer_amount[~transfer_in])
    )
    flows = pl.concat(parts)
    if len(flows) >= FLOW_IDS_PER_DAY:
        raise ValueError(f"{len(flows)} flows on {day} do not fit the flow_id scheme; lower the scale")
    return flows.with_columns(
        flow_id=pl.int_range(first_id, first_id + len(flows), dtype=pl.Int64)
    ).select(FLOW_COLUMNS)


# --------------------------------------------------------------------------- facts: retention

RETENTION_COLUMNS = [
    "flow_id", "age_days", "snapshot_date", "flow_date", "advisor_id", "product_id", "channel_id",
    "wholesaler_id", "original_amount", "redeemed_amount", "retained_amount", "retention_pct",
]


def generate_retention_snapshots(seed: int, snapshot_date: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """fact_retention_snapshots for one snapshot date: every purchase made exactly
    30, 90, 180 or 365 days earlier, with the share of it still held that day."""
    parts = []
    for age in RETENTION_AGES_DAYS:
        cohort_date = snapshot_date - dt.timedelta(days=age)
        cohort = planned_purchases(seed, cohort_date, scale)
        redeemed_by_snapshot = pl.col("redemption_date").is_not_null() & (pl.col("redemption_date") <= snapshot_date)
        parts.append(
            cohort.select(
                "flow_id",
                age_days=pl.lit(age, dtype=pl.Int32),
                snapshot_date=pl.lit(snapshot_date, dtype=pl.Date),
                flow_date=pl.lit(cohort_date, dtype=pl.Date),
                advisor_id="advisor_id",
                product_id="product_id",
                channel_id="channel_id",
                wholesaler_id="wholesaler_id",
                original_amount="amount",
                redeemed_amount=pl.when(redeemed_by_snapshot).then(pl.col("redemption_amount")).otherwise(0.0),
            )
        )
    snapshots = pl.concat(parts)
    return snapshots.with_columns(
        retained_amount=(pl.col("original_amount") - pl.col("redeemed_amount")).round(2),
    ).with_columns(
        retention_pct=(100 * pl.col("retained_amount") / pl.col("original_amount")).round(2),
    ).select(RETENTION_COLUMNS)


# --------------------------------------------------------------------------- facts: revenue

REVENUE_COLUMNS = [
    "revenue_date", "advisor_id", "product_id", "firm_id", "channel_id", "wholesaler_id", "aum_amount",
    "net_flow_amount", "fee_rate", "revenue_amount", "is_estimate",
]


def generate_revenue(seed: int, day: dt.date, as_of: dt.date, scale: float = 1.0) -> pl.DataFrame:
    """fact_revenue for one day: the management fee accrued on each book position
    ((AUM + the day's net flows) x annual fee rate / 365), including positions
    opened by that day's exchanges. `is_estimate` until the month closes as of `as_of`."""
    world = universe(seed)
    positions = world.positions
    offset = max((day - FLOWS_START_DATE).days, 0)
    level = np.array([world.market_index[ac][offset] for ac in range(1, len(ASSET_CLASSES) + 1)])
    aum = positions["base_aum"].to_numpy() * level[positions["asset_class_id"].to_numpy() - 1]
    book = positions.select(["advisor_id", "product_id", "firm_id", "channel_id", "wholesaler_id"]).with_columns(
        aum_amount=_money(aum)
    )
    net_flows = (
        generate_aum_flows(seed, day, scale)
        .group_by(_POSITION_ATTRIBUTES)
        .agg(net_flow_amount=pl.col("net_amount").sum())
    )
    fee_rate = world.dimensions["dim_products"].select("product_id", fee_rate="management_fee_rate")
    revenue = (
        book.join(net_flows, on=_POSITION_ATTRIBUTES, how="full", coalesce=True)
        .join(fee_rate, on="product_id", how="left")
        .with_columns(
            pl.col("aum_amount").fill_null(0.0),
            pl.col("net_flow_amount").fill_null(0.0).round(2),
        )
    )
    return revenue.with_columns(
        revenue_date=pl.lit(day, dtype=pl.Date),
        revenue_amount=(
            (pl.col("aum_amount") + pl.col("net_flow_amount")).clip(lower_bound=0) * pl.col("fee_rate") / 365
        ).round(2),
        is_estimate=pl.lit(as_of < month_close_date(day)),
    ).select(REVENUE_COLUMNS).sort("advisor_id", "product_id")


# --------------------------------------------------------------------------- facts: expenses

EXPENSE_COLUMNS = [
    "expense_id", "expense_date", "wholesaler_id", "territory_id", "expense_type_id", "expense_category_id",
    "firm_id", "amount",
]


def generate_distribution_expense(seed: int, day: dt.date) -> pl.DataFrame:
    """fact_distribution_expense for one business day: each wholesaler's
    expense items; client-facing ones name the firm they were spent on."""
    schema = {
        "expense_id": pl.Int64, "expense_date": pl.Date, "wholesaler_id": pl.Int32, "territory_id": pl.Int32,
        "expense_type_id": pl.Int32, "expense_category_id": pl.Int32, "firm_id": pl.Int32, "amount": pl.Float64,
    }
    if not is_business_day(day):
        return pl.DataFrame(schema=schema)
    rng = _rng(seed, "expenses", _day_number(day))
    dims = universe(seed).dimensions
    wholesalers = dims["dim_wholesalers"]
    territory_region = dims["dim_territories"]["region_id"].to_numpy()
    firm_region = dims["dim_firms"]["region_id"].to_numpy()
    category_of_type = dims["dim_expense_types"]["expense_category_id"].to_numpy()
    rows: dict[str, list] = {c: [] for c in EXPENSE_COLUMNS if c not in ("expense_id", "expense_date")}
    for wholesaler_id, territory_id in zip(wholesalers["wholesaler_id"], wholesalers["territory_id"]):
        for type_index, (_, _, _, _, typical, client_facing, rate) in enumerate(EXPENSE_TYPES):
            for _ in range(int(rng.poisson(rate))):
                local_firms = np.flatnonzero(firm_region == territory_region[territory_id - 1]) + 1
                rows["wholesaler_id"].append(wholesaler_id)
                rows["territory_id"].append(territory_id)
                rows["expense_type_id"].append(type_index + 1)
                rows["expense_category_id"].append(int(category_of_type[type_index]))
                rows["firm_id"].append(int(rng.choice(local_firms)) if client_facing and len(local_firms) else None)
                rows["amount"].append(round(float(typical * rng.lognormal(0, 0.45)), 2))
    count = len(rows["amount"])
    return pl.DataFrame(
        {
            "expense_id": pl.Series(_day_number(day) * EXPENSE_IDS_PER_DAY + np.arange(count), dtype=pl.Int64),
            "expense_date": pl.Series([day] * count, dtype=pl.Date),
            **rows,
        },
        schema=schema,
    )


# --------------------------------------------------------------------------- facts: compensation

COMP_COLUMNS = [
    "comp_month", "wholesaler_id", "base_salary_amount", "gross_sales_amount", "redemptions_amount",
    "net_flow_amount", "incentive_rate", "incentive_amount", "total_comp_amount",
]


def month_days(month_start: dt.date) -> list[dt.date]:
    next_month = dt.date(month_start.year + (month_start.month == 12), month_start.month % 12 + 1, 1)
    return [month_start + dt.timedelta(days=i) for i in range((next_month - month_start).days)]


def compute_wholesaler_comp(
    wholesalers: pl.DataFrame, transaction_types: pl.DataFrame, month_flows: pl.DataFrame, month_start: dt.date
) -> pl.DataFrame:
    """fact_wholesaler_comp for one month: a twelfth of the annual base plus the
    wholesaler's incentive rate times their positive net flows. Gross sales are
    purchases and exchanges in; transfers count toward net flows only."""
    categorized = month_flows.join(
        transaction_types.select("transaction_type_id", "transaction_category", "flow_direction"),
        on="transaction_type_id",
        how="left",
    )
    gross_sales = pl.col("transaction_category").is_in(["purchase", "exchange"]) & (pl.col("flow_direction") == "inflow")
    redemptions = pl.col("transaction_category") == "redemption"
    totals = categorized.group_by("wholesaler_id").agg(
        gross_sales_amount=pl.col("amount").filter(gross_sales).sum(),
        redemptions_amount=pl.col("amount").filter(redemptions).sum(),
        net_flow_amount=pl.col("net_amount").sum(),
    )
    return (
        wholesalers.select("wholesaler_id", "annual_base_salary", "incentive_rate")
        .join(totals, on="wholesaler_id", how="left")
        .with_columns(
            pl.col("gross_sales_amount", "redemptions_amount", "net_flow_amount").fill_null(0.0).round(2),
            comp_month=pl.lit(month_start, dtype=pl.Date),
            base_salary_amount=(pl.col("annual_base_salary") / 12).round(2),
        )
        .with_columns(
            incentive_amount=(pl.col("net_flow_amount").clip(lower_bound=0) * pl.col("incentive_rate")).round(2),
        )
        .with_columns(total_comp_amount=(pl.col("base_salary_amount") + pl.col("incentive_amount")).round(2))
        .select(COMP_COLUMNS)
        .sort("wholesaler_id")
    )


def generate_wholesaler_comp(seed: int, month_start: dt.date, scale: float = 1.0) -> pl.DataFrame:
    dims = universe(seed).dimensions
    flows = pl.concat([generate_aum_flows(seed, day, scale) for day in month_days(month_start)])
    return compute_wholesaler_comp(dims["dim_wholesalers"], dims["dim_transaction_types"], flows, month_start)
