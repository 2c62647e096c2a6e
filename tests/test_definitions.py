"""The code location loads, and its pieces are wired as the style guide says."""

import dagster as dg
import pytest

from pipeline.definitions import defs
from pipeline.resources.clickhouse import ClickHouseResource, quote_identifier, redact_url


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_every_asset_has_docstring_group_and_kinds():
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, spec.key
        assert spec.group_name in ("pivot", "dist_perf_dw"), spec.key
        assert spec.kinds, spec.key
        assert spec.key.path[0] == spec.group_name


@pytest.mark.parametrize("name", ["pivot; DROP DATABASE x", "a.b", "1abc", "", "x`y"])
def test_identifiers_that_are_not_plain_are_refused(name):
    with pytest.raises(ValueError, match="not a plain identifier"):
        quote_identifier(name)
    with pytest.raises(Exception, match="not a plain identifier"):
        ClickHouseResource(url="chdb:///tmp/x", database=name)


@pytest.mark.parametrize(
    "url, message",
    [
        ("clickhouse://h:9000", "unsupported scheme"),
        ("chdb://relative/path", "absolute directory"),
        ("http://user:pw@:8123", "no host"),
        ("http://h:notaport", "port is not a number"),
    ],
)
def test_malformed_clickhouse_urls_are_refused(url, message):
    with pytest.raises(Exception, match=message):
        ClickHouseResource(url=url)


def test_passwords_are_redacted():
    assert redact_url("https://alice:s3cret@ch.example:8443") == "https://alice:***@ch.example:8443"
    assert "s3cret" not in ClickHouseResource(url="http://alice:s3cret@127.0.0.1:8123").location
