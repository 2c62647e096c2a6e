"""Bad composition files in the landing folder: each is rejected with what is wrong and how to fix
it, reported once (the sensor's cursor), and changes nothing (neither the map nor the file)."""

import json
import os

import dagster as dg
import pytest

from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landing import (
    LANDING_COLUMNS,
    MAX_LANDING_FILE_BYTES,
    file_digest,
    merge_landed_files,
    validate_landed_files,
)
from pipeline.settings import DEFAULT_SEED
from tests.test_operations import _materialize_trade_dates, _tick

pytestmark = pytest.mark.faults

HEADER = ",".join(LANDING_COLUMNS) + "\n"
PMET = "PMET,GOLD,0.6,0.03,2024-02-01\nPMET,SILVER,0.4,1.7,2024-02-01\n"


def _rejected_once_and_nothing_changes(landing, name, messages):
    """The sensor rejects `name` naming every message, records it once, requests nothing; the merged
    map equals the map without the file; the file is untouched."""
    path = landing / name
    before = (path.stat().st_size, path.stat().st_mtime_ns)
    with dg.instance_for_test() as instance:
        _materialize_trade_dates(instance, ["2024-02-05"])
        result = _tick(instance)
        if result.run_requests:  # other, valid files: the bad one is not among those applied
            assert all(name not in r.tags["pivot/landed_files"].split(",") for r in result.run_requests)
            [rejected] = [
                r for r in validate_landed_files(landing, build_instruments(DEFAULT_SEED)) if r.path.name == name
            ]
            reason = rejected.summary()
        else:
            reason = result.skip_reason.skip_message
        assert f"{name}: INVALID, nothing applied" in reason
        for message in messages:
            assert message in reason, reason
        assert json.loads(result.cursor)["files"][name] == file_digest(path)
        again = _tick(instance, result.cursor)
        assert not again.run_requests and "no new or changed files" in again.skip_reason.skip_message
    instruments = build_instruments(DEFAULT_SEED)
    merged, results = merge_landed_files(build_constituents(DEFAULT_SEED), instruments, landing)
    assert not [r for r in results if r.path.name == name][0].is_valid
    valid_only = landing.parent / "valid_only"
    valid_only.mkdir(exist_ok=True)
    for r in results:
        if r.is_valid:
            (valid_only / r.path.name).write_bytes(r.path.read_bytes())
    assert merged.equals(merge_landed_files(build_constituents(DEFAULT_SEED), instruments, valid_only)[0])
    assert (path.stat().st_size, path.stat().st_mtime_ns) == before


@pytest.mark.parametrize(
    "body, messages",
    [
        (
            HEADER + "PMET,GOLD,1.4,0.03,2024-02-01\nPMET,SILVER,-0.4,1.7,2024-02-01\n",
            ["line 3: weight must be in (0, 1]", "weight='-0.4'", "line 2: weight must be in (0, 1]"],
        ),
        (
            HEADER + "PMET,GOLD,0.6,-0.03,2024-02-01\nPMET,SILVER,0.4,0,2024-02-01\n",
            ["line 2: shares_per_unit must be positive", "shares_per_unit='-0.03'", "line 3: shares_per_unit"],
        ),
        (
            HEADER + PMET + "PMET,GOLD,0.2,0.01,2024-02-01\n",
            ["PMET lists GOLD more than once for 2024-02-01", "keep one row per constituent"],
        ),
    ],
    ids=["negative_weight", "negative_shares_per_unit", "one_parent_one_date_twice_in_a_file"],
)
def test_bad_values_are_rejected(landing, body, messages):
    (landing / "bad.csv").write_text(body)
    _rejected_once_and_nothing_changes(landing, "bad.csv", messages)


def test_two_files_defining_one_period_differently_reject_the_later(landing):
    (landing / "a_pmet.csv").write_text(HEADER + PMET)
    os.utime(landing / "a_pmet.csv", ns=(1_000_000_000, 1_000_000_000))
    (landing / "b_pmet.csv").write_text(HEADER + "PMET,GOLD,0.5,0.03,2024-02-01\nPMET,SILVER,0.5,1.7,2024-02-01\n")
    (landing / "c_same.csv").write_text(HEADER + PMET)  # the same version again is harmless
    results = {r.path.name: r for r in validate_landed_files(landing, build_instruments(DEFAULT_SEED))}
    assert results["a_pmet.csv"].is_valid and results["c_same.csv"].is_valid
    assert not results["b_pmet.csv"].is_valid and results["b_pmet.csv"].frame is None
    with dg.instance_for_test() as instance:
        result = _tick(instance)
        [request] = result.run_requests
        assert request.tags["pivot/landed_files"] == "a_pmet.csv,c_same.csv"
    _rejected_once_and_nothing_changes(
        landing,
        "b_pmet.csv",
        ["PMET effective 2024-02-01 is already defined, differently, by a_pmet.csv", "replace a_pmet.csv (same name)"],
    )
    merged, _ = merge_landed_files(build_constituents(DEFAULT_SEED), build_instruments(DEFAULT_SEED), landing)
    assert merged.filter(
        parent_symbol="PMET", constituent_symbol="GOLD", effective_date=results["a_pmet.csv"].frame["effective_date"][0]
    )["weight"].to_list() == [0.6]


@pytest.mark.parametrize(
    "encoding, message",
    [
        ("utf-16", "not UTF-8 (it looks like UTF-16)"),
        ("latin-1", "line 3: byte 107 of the file is b'\\xe9': not UTF-8"),
    ],
)
def test_a_file_not_in_utf8_is_rejected(landing, encoding, message):
    (landing / "enc.csv").write_bytes((HEADER + "PMET,GOLD,1.0,0.03,2024-02-01\n# Société\n").encode(encoding))
    _rejected_once_and_nothing_changes(landing, "enc.csv", [message, "save the file as UTF-8"])


def test_an_empty_file_is_rejected(landing):
    (landing / "empty.csv").write_bytes(b"")
    _rejected_once_and_nothing_changes(landing, "empty.csv", ["the file is empty (0 bytes)", "write the header row"])


def test_a_1_gib_file_is_refused_by_size_without_being_read(landing, monkeypatch):
    path = landing / "huge.csv"
    with path.open("wb") as f:
        f.truncate(1 << 30)  # sparse: no disk, no time
    read = []
    real = type(path).read_bytes
    monkeypatch.setattr(type(path), "read_bytes", lambda self: read.append(self.name) or real(self))
    assert file_digest(path).startswith(f"oversize:{1 << 30}:")
    _rejected_once_and_nothing_changes(
        landing,
        "huge.csv",
        [f"the file is {1 << 30:,} bytes, over the {MAX_LANDING_FILE_BYTES:,}-byte limit", "it was not read"],
    )
    assert "huge.csv" not in read
