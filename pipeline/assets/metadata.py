"""Metadata shared by the assets and asset checks of both warehouses: Dagster's catalog keys
(table name, column schema, row counts) and the markdown tables the UI renders."""

from datetime import date

import dagster as dg
import polars as pl

# Dagster 1.13 does not re-export the set at the top level; its keys are the catalog's
# (`dagster/table_name`, `dagster/column_schema`, `dagster/row_count`, `dagster/partition_row_count`).
from dagster._core.definitions.metadata import TableMetadataSet

# Who answers for the tables, shown in the catalog.
OWNERS = ["team:data-engineering"]

# Rows listed in a failing check's metadata.
SHOWN_ROWS = 20


def markdown_table(frame: pl.DataFrame, limit: int = 10, decimals: int = 2) -> dg.MetadataValue:
    """The first rows of a frame as a markdown table (the UI renders it)."""
    head = frame.head(limit)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join(f"{v:,.{decimals}f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def table_definition_metadata(table_name: str, columns: list[tuple[str, str, str, bool]]) -> dict:
    """What the catalog shows before any run: the table's name and its columns, each as
    (name, SQL type, description, nullable), from the table's one source (DDL or ORM)."""
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                type_,
                description=description or None,
                constraints=dg.TableColumnConstraints(nullable=nullable),
            )
            for name, type_, description, nullable in columns
        ]
    )
    return dict(TableMetadataSet(table_name=table_name, column_schema=schema))


def row_counts(row_count: int, partition_row_count: int | None = None) -> dict:
    """Dagster's row-count keys: the table's rows, and the materialized partition's when there is one."""
    return dict(TableMetadataSet(row_count=row_count, partition_row_count=partition_row_count))


def partition_days(context: dg.AssetCheckExecutionContext | dg.AssetExecutionContext) -> list[date]:
    """The run's partition keys as dates (a day, or a month's first day)."""
    return [date.fromisoformat(key) for key in context.partition_keys]


def check_result(
    failing: pl.DataFrame,
    checked: dict,
    description_ok: str,
    description_bad: str,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
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
