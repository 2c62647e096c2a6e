"""Who sells: regions, channels, firm types, territories, firms, advisors and wholesalers.

Advisors work at firms (firm type -> channel, region) and sit in a sales
territory, covered by one of the territory's wholesalers; a few advisors hold
most of the assets (Pareto). Functions taking a generator draw from it in the
order `universe()` calls them: that order is part of the seed's output.
"""

import datetime as dt

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.randomness import ids, person_names, random_dates
from pipeline.dist_perf_dw.vocabulary import CHANNELS, FIRM_NAME_SUFFIX, FIRM_NAME_WORDS, FIRM_TYPES, REGIONS

ADVISOR_COUNT = 1_500
FIRM_COUNT = 120

CHANNEL_ID = {code: index + 1 for index, (code, *_rest) in enumerate(CHANNELS)}


def regions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "region_id": ids(len(REGIONS)),
            "region_code": [code for code, *_ in REGIONS],
            "region_name": [name for _, name, *_ in REGIONS],
            "is_unassigned": [False] * len(REGIONS),
        }
    )


def channels() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "channel_id": ids(len(CHANNELS)),
            "channel_code": [c[0] for c in CHANNELS],
            "channel_name": [c[1] for c in CHANNELS],
            "description": [c[2] for c in CHANNELS],
        }
    )


def firm_types() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "firm_type_id": ids(len(FIRM_TYPES)),
            "firm_type_code": [f[0] for f in FIRM_TYPES],
            "firm_type_name": [f[1] for f in FIRM_TYPES],
            "channel_id": pl.Series([CHANNEL_ID[f[2]] for f in FIRM_TYPES], dtype=pl.Int32),
        }
    )


def territories() -> pl.DataFrame:
    rows = [
        (f"{code}{number}", name, region_index + 1)
        for region_index, (code, _, names, _) in enumerate(REGIONS)
        for number, name in enumerate(names, start=1)
    ]
    return pl.DataFrame(
        {
            "territory_id": ids(len(rows)),
            "territory_code": [t[0] for t in rows],
            "territory_name": [t[1] for t in rows],
            "region_id": pl.Series([t[2] for t in rows], dtype=pl.Int32),
            "is_unassigned": [False] * len(rows),
        }
    )


def _firm_names(rng: np.random.Generator, firm_type_index: np.ndarray) -> list[str]:
    words = rng.permutation(len(FIRM_NAME_WORDS))
    names = []
    for index in range(FIRM_COUNT):
        word = FIRM_NAME_WORDS[words[index % len(FIRM_NAME_WORDS)]]
        repeat = index // len(FIRM_NAME_WORDS)
        prefix = f"{word} {['', 'Capital ', 'Park ', 'Point '][repeat]}".replace("  ", " ")
        names.append(f"{prefix}{FIRM_NAME_SUFFIX[FIRM_TYPES[firm_type_index[index]][0]]}".replace("  ", " "))
    return names


def firms(rng: np.random.Generator) -> pl.DataFrame:
    """Firms: the type decides channel and typical size."""
    type_share = np.array([f[3] for f in FIRM_TYPES])
    firm_type_index = rng.choice(len(FIRM_TYPES), size=FIRM_COUNT, p=type_share / type_share.sum())
    firm_region = rng.integers(1, len(REGIONS) + 1, size=FIRM_COUNT)
    return pl.DataFrame(
        {
            "firm_id": ids(FIRM_COUNT),
            "firm_name": _firm_names(rng, firm_type_index),
            "crd_number": [str(v) for v in rng.choice(np.arange(10_000, 330_000), size=FIRM_COUNT, replace=False)],
            "firm_type_id": pl.Series(firm_type_index + 1, dtype=pl.Int32),
            "channel_id": pl.Series([CHANNEL_ID[FIRM_TYPES[i][2]] for i in firm_type_index], dtype=pl.Int32),
            "region_id": pl.Series(firm_region, dtype=pl.Int32),
            "headquarters_state": [str(rng.choice(REGIONS[r - 1][3])) for r in firm_region],
            "relationship_start_date": random_dates(rng, dt.date(2005, 1, 1), dt.date(2023, 6, 30), FIRM_COUNT),
            "is_active": rng.random(FIRM_COUNT) > 0.03,
        }
    )


def _advisor_territories(
    rng: np.random.Generator, firms: pl.DataFrame, territories: pl.DataFrame, advisor_firm: np.ndarray
) -> np.ndarray:
    """National firms' advisors sit anywhere, the others in their firm's region."""
    territory_region = territories["region_id"].to_numpy()
    firm_type_index = firms["firm_type_id"].to_numpy() - 1
    firm_region = firms["region_id"].to_numpy()
    advisor_territory = np.empty(ADVISOR_COUNT, dtype=np.int64)
    for index, firm in enumerate(advisor_firm):
        if FIRM_TYPES[firm_type_index[firm - 1]][0] == "WIREHOUSE":
            advisor_territory[index] = rng.integers(1, territories.height + 1)
        else:
            candidates = np.flatnonzero(territory_region == firm_region[firm - 1]) + 1
            advisor_territory[index] = rng.choice(candidates)
    return advisor_territory


def advisors(
    rng: np.random.Generator, firms: pl.DataFrame, territories: pl.DataFrame
) -> tuple[pl.DataFrame, np.ndarray]:
    """The advisors, and each one's relative productivity (their share of assets and activity)."""
    firm_size = np.array([FIRM_TYPES[i - 1][4] for i in firms["firm_type_id"]]) * rng.lognormal(0, 0.5, FIRM_COUNT)
    advisor_firm = rng.choice(FIRM_COUNT, size=ADVISOR_COUNT, p=firm_size / firm_size.sum()) + 1
    advisor_territory = _advisor_territories(rng, firms, territories, advisor_firm)
    # Pareto productivity: the top tenth of advisors hold about half of the assets.
    weight = rng.pareto(1.3, ADVISOR_COUNT) + 0.2
    rank = np.argsort(np.argsort(-weight))
    segment = np.where(
        rank < ADVISOR_COUNT * 0.1, "Top producer", np.where(rank < ADVISOR_COUNT * 0.5, "Core", "Emerging")
    )
    career_start = random_dates(rng, dt.date(1985, 1, 1), dt.date(2022, 12, 31), ADVISOR_COUNT)
    firm_start = [
        start + dt.timedelta(days=int(rng.integers(0, (dt.date(2023, 12, 31) - start).days + 1)))
        for start in career_start
    ]
    frame = pl.DataFrame(
        {
            "advisor_id": ids(ADVISOR_COUNT),
            "advisor_name": person_names(rng, ADVISOR_COUNT),
            "crd_number": [str(v) for v in rng.choice(np.arange(1_000_000, 8_000_000), ADVISOR_COUNT, replace=False)],
            "firm_id": pl.Series(advisor_firm, dtype=pl.Int32),
            "territory_id": pl.Series(advisor_territory, dtype=pl.Int32),
            "career_start_date": career_start,
            "firm_start_date": firm_start,
            "segment": segment.tolist(),
            "is_active": rng.random(ADVISOR_COUNT) > 0.02,
            "is_inferred": [False] * ADVISOR_COUNT,
        }
    )
    return frame, weight


def wholesalers(rng: np.random.Generator, advisors: pl.DataFrame, territories: pl.DataFrame) -> pl.DataFrame:
    """One or two wholesalers per territory (two where the territory is busiest), teamed by region."""
    advisors_per_territory = np.bincount(advisors["territory_id"].to_numpy(), minlength=territories.height + 1)[1:]
    territory = []
    for territory_index, count in enumerate(advisors_per_territory):
        territory += [territory_index + 1] * (2 if count > np.median(advisors_per_territory) else 1)
    territory_region = territories["region_id"].to_numpy()
    count = len(territory)
    return pl.DataFrame(
        {
            "wholesaler_id": ids(count),
            "wholesaler_name": person_names(rng, count),
            "employee_code": [f"W{1000 + i}" for i in range(1, count + 1)],
            "territory_id": pl.Series(territory, dtype=pl.Int32),
            "team_name": [f"{REGIONS[territory_region[t - 1] - 1][1]} Team" for t in territory],
            "hire_date": random_dates(rng, dt.date(2008, 1, 1), dt.date(2023, 6, 30), count),
            "annual_base_salary": np.round(rng.uniform(110_000, 165_000, count) / 500) * 500,
            "incentive_rate": np.round(rng.uniform(0.0006, 0.0012, count), 5),
            "is_unassigned": [False] * count,
        }
    )


def covering_wholesalers(rng: np.random.Generator, advisors: pl.DataFrame, wholesalers: pl.DataFrame) -> np.ndarray:
    """Each advisor's wholesaler: one of the wholesalers of the advisor's territory."""
    wholesaler_territory = wholesalers["territory_id"].to_numpy()
    by_territory = {
        territory: np.flatnonzero(wholesaler_territory == territory) + 1
        for territory in np.unique(wholesaler_territory).tolist()
    }
    return np.array([rng.choice(by_territory[t]) for t in advisors["territory_id"].to_list()])
