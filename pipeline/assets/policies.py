"""Run policies shared by every warehouse load: retry what may pass on a second try, never a refusal."""

import functools
from collections.abc import Callable
from typing import TypeVar

import dagster as dg

from pipeline.pivot.day_load import EmptyDayRefusedError, MissingReferenceDataError
from pipeline.pivot.fx import MissingFxRateError
from pipeline.resources.postgres_load import ForeignKeyViolationError

# Loads are idempotent partition swaps, so retrying one is always safe; the delay rides
# out a database restart or another process briefly holding the embedded store.
LOAD_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)

# What the input decides, so a retry would fail the same way: a ValueError is bad input by Python's
# own convention (a refused landed file, LandedFileError, an invalid FX file, a config or partition
# value out of range, pydantic's validation errors all are), and these name a missing or refused piece
# of data. A store that is busy or unreachable raises none of them, and keeps its retries.
REFUSALS: tuple[type[Exception], ...] = (
    ValueError,
    MissingFxRateError,
    EmptyDayRefusedError,
    MissingReferenceDataError,
    ForeignKeyViolationError,
)


F = TypeVar("F", bound=Callable)


def refusals_fail_at_once(compute: F) -> F:
    """Decorate a load under LOAD_RETRY_POLICY (below `@dg.asset`): a refusal fails the step at once
    with its own message (dg.Failure, allow_retries=False) instead of being retried twice."""

    @functools.wraps(compute)
    def load(*args, **kwargs):
        try:
            return compute(*args, **kwargs)
        except dg.Failure:
            raise
        except REFUSALS as error:
            raise dg.Failure(str(error), allow_retries=False) from error

    return load
