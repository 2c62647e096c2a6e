"""Run policies shared by every warehouse load: retry what may pass on a second try, never a refusal."""

import functools
from collections.abc import Callable
from typing import TypeVar

import dagster as dg
import pydantic

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


class LoadConfig(dg.Config):
    """The run config of a load under LOAD_RETRY_POLICY. Dagster builds it before the step's function runs,
    outside `refusals_fail_at_once`, so a value out of its bounds (pydantic's ValidationError) would be
    retried twice like a busy store and reported three times: it fails the step at once instead."""

    @pydantic.model_validator(mode="wrap")
    @classmethod
    def _refused_at_once(cls, data, handler):
        try:
            return handler(data)
        except pydantic.ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, problem['loc']))}: {problem['msg']} (got {problem['input']!r})"
                for problem in error.errors()
            )
            raise dg.Failure(f"run config refused: {problems}", allow_retries=False) from None


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
