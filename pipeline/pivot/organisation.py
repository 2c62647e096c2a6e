"""The synthetic organisation trades are booked to: accounts in portfolios, funds and portfolio managers.

Each portfolio manager runs one desk; each portfolio is one book with one strategy.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import polars as pl

from pipeline.pivot.trade_schema import (
    ACCOUNTS_PER_PORTFOLIO,
    DESKS,
    FUNDS_PER_PM,
    LOW_CARDINALITY,
    PORTFOLIO_MANAGERS,
    PORTFOLIOS_PER_FUND,
    STRATEGIES,
    book_name,
)


@lru_cache(maxsize=4)
def organisation(seed: int) -> pl.DataFrame:
    """One row per account with its portfolio, fund, portfolio manager, desk, book and strategy."""
    rng = np.random.default_rng([seed, 3])
    rows = []
    for pm in range(PORTFOLIO_MANAGERS):
        pm_id = 101 + pm
        desk = DESKS[pm % len(DESKS)]
        for f in range(FUNDS_PER_PM):
            fund_id = 1001 + pm * FUNDS_PER_PM + f
            for p in range(PORTFOLIOS_PER_FUND):
                portfolio_id = 10_001 + (fund_id - 1001) * PORTFOLIOS_PER_FUND + p
                strategy = STRATEGIES[int(rng.integers(0, len(STRATEGIES)))]
                book = book_name(desk, portfolio_id)
                for a in range(ACCOUNTS_PER_PORTFOLIO):
                    account_id = 100_001 + (portfolio_id - 10_001) * ACCOUNTS_PER_PORTFOLIO + a
                    rows.append(
                        dict(
                            account_id=account_id,
                            portfolio_id=portfolio_id,
                            fund_id=fund_id,
                            portfolio_manager_id=pm_id,
                            desk=desk,
                            book=book,
                            strategy=strategy,
                        )
                    )
    return pl.DataFrame(rows).with_columns(
        pl.col("account_id", "portfolio_id").cast(pl.UInt64),
        pl.col("fund_id", "portfolio_manager_id").cast(pl.UInt32),
        *[pl.col(c).cast(LOW_CARDINALITY[c]) for c in ("desk", "book", "strategy")],
    )
