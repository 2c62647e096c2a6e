"""Metadata shared by the assets and asset checks of both warehouses: tables the UI renders."""

from datetime import date

import dagster as dg
import polars as pl

# Rows listed in a failing check's metadata.
SHOWN_ROWS = 20


def markdown_table(frame: pl.DataFrame, limit: int = 10, decimals: int = 2) -> dg.MetadataValue:
    """The first rows of a frame as a markdown table (the UI renders it)."""
    head = frame.head(limit)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join(f"{v:,.{decimals}f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def partition_days(context: dg.AssetCheckExecutionContext | dg.AssetExecutionContext) -> list[date]:
    """The run's partition keys as dates (a day, or a month's first day)."""
    return [date.fromisoformat(key) for key in context.partition_keys]


def check_result(failing: pl.DataFrame, checked: dict, description_ok: str, description_bad: str,
                 severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    """Passed when no row fails; otherwise the count and the first failing rows, for the operator."""
    metadata = {"failing_rows": dg.MetadataValue.int(failing.height), **checked}
    if failing.height:
        metadata["failing_rows_sample"] = markdown_table(failing, SHOWN_ROWS, decimals=6)
    return dg.AssetCheckResult(
        passed=failing.is_empty(),
        severity=severity,
        metadata=metadata,
        description=description_ok if failing.is_empty() else f"{failing.height} {description_bad}",
    )
