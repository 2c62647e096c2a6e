"""The kinds of flow (purchase, redemption, exchange and transfer legs) with their direction."""

import polars as pl

from pipeline.dist_perf_dw.randomness import ids
from pipeline.dist_perf_dw.vocabulary import TRANSACTION_TYPES


def transaction_types() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "transaction_type_id": ids(len(TRANSACTION_TYPES)),
            "transaction_type_code": [t[0] for t in TRANSACTION_TYPES],
            "transaction_type_name": [t[1] for t in TRANSACTION_TYPES],
            "transaction_category": [t[2] for t in TRANSACTION_TYPES],
            "flow_direction": [t[3] for t in TRANSACTION_TYPES],
            "direction_sign": pl.Series([t[4] for t in TRANSACTION_TYPES], dtype=pl.Int32),
        }
    )
