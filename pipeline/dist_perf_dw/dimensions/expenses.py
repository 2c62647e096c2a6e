"""How distribution money is spent: expense categories and the expense types within them."""

import polars as pl

from pipeline.dist_perf_dw.randomness import ids
from pipeline.dist_perf_dw.vocabulary import EXPENSE_CATEGORIES, EXPENSE_TYPES


def expense_categories() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "expense_category_id": ids(len(EXPENSE_CATEGORIES)),
            "expense_category_code": [c[0] for c in EXPENSE_CATEGORIES],
            "expense_category_name": [c[1] for c in EXPENSE_CATEGORIES],
        }
    )


def expense_types() -> pl.DataFrame:
    category_id = {c[0]: index + 1 for index, c in enumerate(EXPENSE_CATEGORIES)}
    return pl.DataFrame(
        {
            "expense_type_id": ids(len(EXPENSE_TYPES)),
            "expense_type_code": [e[0] for e in EXPENSE_TYPES],
            "expense_type_name": [e[1] for e in EXPENSE_TYPES],
            "expense_category_id": pl.Series([category_id[e[2]] for e in EXPENSE_TYPES], dtype=pl.Int32),
            "is_reimbursable": [e[3] for e in EXPENSE_TYPES],
        }
    )
