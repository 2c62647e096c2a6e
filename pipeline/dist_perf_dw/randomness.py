"""Seeded random streams and the small conventions every dist_perf_dw generator shares:
ids numbered from 1, ids that carry their day, money rounded to cents."""

import datetime as dt
import zlib

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.vocabulary import FIRST_NAMES, LAST_NAMES

# Day-numbered ids (flow_id, expense_id) count days from here, so the date is visible in the id.
ID_EPOCH = dt.date(2000, 1, 1)


def rng(seed: int, *keys: str | int) -> np.random.Generator:
    """An independent stream per (seed, purpose, date...): adding a column to one
    generator never shifts the random numbers of another."""
    entropy = [seed] + [zlib.crc32(key.encode()) if isinstance(key, str) else key for key in keys]
    return np.random.default_rng(entropy)


def day_number(day: dt.date) -> int:
    return (day - ID_EPOCH).days


def money(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)


def ids(count: int) -> pl.Series:
    return pl.Series(range(1, count + 1), dtype=pl.Int32)


def random_dates(generator: np.random.Generator, start: dt.date, end: dt.date, size: int) -> list[dt.date]:
    offsets = generator.integers(0, (end - start).days + 1, size=size)
    return [start + dt.timedelta(days=int(offset)) for offset in offsets]


def person_names(generator: np.random.Generator, size: int) -> list[str]:
    first = generator.choice(FIRST_NAMES, size=size)
    last = generator.choice(LAST_NAMES, size=size)
    return [f"{given} {family}" for given, family in zip(first, last)]
