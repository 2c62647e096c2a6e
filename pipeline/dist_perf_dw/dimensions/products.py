"""What is sold: asset classes, vehicle types, and the products (strategy x vehicle)
with their tickers and annual management fee rates."""

import datetime as dt

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.randomness import ids, random_dates
from pipeline.dist_perf_dw.vocabulary import ASSET_CLASSES, PRODUCT_BRAND, PRODUCT_STRATEGIES, VEHICLE_TYPES

# Vehicles listed under a ticker (SMAs and CITs have none).
TICKERED_VEHICLES = ("MF", "ETF", "INTERVAL")
# The issuer part of the synthetic products' CUSIPs (not drawn from the seed's stream: adding the
# column changed no other value).
SYNTHETIC_CUSIP_ISSUER = "86"


def cusip_check_digit(first_eight: str) -> str:
    """The ninth character of a CUSIP: the modulus-10 "double-add-double" over its first eight."""
    total = 0
    for position, character in enumerate(first_eight.upper()):
        if character.isdigit():
            value = int(character)
        elif character.isalpha():
            value = ord(character) - ord("A") + 10
        else:
            value = {"*": 36, "@": 37, "#": 38}[character]
        if position % 2:
            value *= 2
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


def synthetic_cusip(index: int) -> str:
    stem = f"{SYNTHETIC_CUSIP_ISSUER}{index:04d}10"
    return stem + cusip_check_digit(stem)


def asset_classes() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "asset_class_id": ids(len(ASSET_CLASSES)),
            "asset_class_code": [a[0] for a in ASSET_CLASSES],
            "asset_class_name": [a[1] for a in ASSET_CLASSES],
            "risk_level": pl.Series([a[2] for a in ASSET_CLASSES], dtype=pl.Int32),
        }
    )


def vehicle_types() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "vehicle_type_id": ids(len(VEHICLE_TYPES)),
            "vehicle_type_code": [v[0] for v in VEHICLE_TYPES],
            "vehicle_type_name": [v[1] for v in VEHICLE_TYPES],
            "is_exchange_traded": [v[2] for v in VEHICLE_TYPES],
        }
    )


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


def products(rng: np.random.Generator) -> pl.DataFrame:
    """One product per strategy and vehicle it is offered in, with a fee within the vehicle's range."""
    asset_class_id = {a[0]: index + 1 for index, a in enumerate(ASSET_CLASSES)}
    vehicle_index = {v[0]: index for index, v in enumerate(VEHICLE_TYPES)}
    tickers: set[str] = set()
    rows = []
    for strategy, asset_class, vehicles in PRODUCT_STRATEGIES:
        for vehicle in vehicles:
            _, _, _, suffix, (fee_low, fee_high) = VEHICLE_TYPES[vehicle_index[vehicle]]
            rows.append(
                (
                    f"{PRODUCT_BRAND} {strategy} {suffix}",
                    _ticker(strategy, vehicle, tickers) if vehicle in TICKERED_VEHICLES else None,
                    asset_class_id[asset_class],
                    vehicle_index[vehicle] + 1,
                    round(float(rng.uniform(fee_low, fee_high)), 4),
                )
            )
    return pl.DataFrame(
        {
            "product_id": ids(len(rows)),
            "product_name": [p[0] for p in rows],
            "ticker": pl.Series([p[1] for p in rows], dtype=pl.String),
            "asset_class_id": pl.Series([p[2] for p in rows], dtype=pl.Int32),
            "vehicle_type_id": pl.Series([p[3] for p in rows], dtype=pl.Int32),
            "management_fee_rate": [p[4] for p in rows],
            "inception_date": random_dates(rng, dt.date(1995, 1, 1), dt.date(2021, 12, 31), len(rows)),
            "is_active": [True] * len(rows),
            "cusip": [synthetic_cusip(index + 1) for index in range(len(rows))],
        }
    )
