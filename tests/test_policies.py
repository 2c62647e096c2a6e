"""Retries are for a store that is busy or unreachable; a refusal fails at once (it would fail the
same way again)."""

import inspect
from pathlib import Path

import dagster as dg
import pytest

from pipeline.assets.policies import refusals_fail_at_once
from pipeline.landed_files.folders import LandedFileError
from pipeline.pivot.day_load import EmptyDayRefusedError, MissingReferenceDataError
from pipeline.pivot.fx import InvalidFxFileError, MissingFxRateError
from pipeline.resources.clickhouse import ClickHouseUnavailableError
from pipeline.resources.postgres import PostgresUnavailableError
from pipeline.resources.postgres_load import ForeignKeyViolationError


def _raising(error: Exception):
    @refusals_fail_at_once
    def load(context=None):
        """A load."""
        raise error

    return load


@pytest.mark.parametrize(
    "refusal",
    [
        LandedFileError(Path("trades/typo.csv"), "unknown column 'counterpart'"),
        InvalidFxFileError("fx/jpy.csv: INVALID"),
        MissingFxRateError("no FX rate to USD for AUD on 2024-01-16"),
        EmptyDayRefusedError("2024-01-16 not replaced"),
        MissingReferenceDataError("pivot.instruments is empty"),
        ForeignKeyViolationError("1 row references a missing advisor"),
        ValueError("unusable FX rate 'EUR'=0.0 on 2024-01-16"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_refusal_fails_at_once_with_its_message(refusal):
    with pytest.raises(dg.Failure) as failed:
        _raising(refusal)()
    assert failed.value.allow_retries is False
    assert str(refusal) in failed.value.description
    assert failed.value.__cause__ is refusal


@pytest.mark.parametrize(
    "unavailable",
    [ClickHouseUnavailableError("Cannot open the embedded ClickHouse store"), PostgresUnavailableError("down")],
    ids=lambda error: type(error).__name__,
)
def test_a_busy_or_unreachable_store_keeps_its_retries(unavailable):
    with pytest.raises(type(unavailable)):
        _raising(unavailable)()


def test_the_decorated_load_keeps_its_name_docstring_and_signature():
    load = _raising(ValueError())
    assert load.__name__ == "load" and load.__doc__ == "A load."
    assert list(inspect.signature(load).parameters) == ["context"]
