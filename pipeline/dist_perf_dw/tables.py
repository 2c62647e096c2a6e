"""The table catalogue of dist_perf_dw, read off the ORM (models.py) instead of kept by hand.

Load order, each table's columns (with their types, nullability and descriptions),
the tables its foreign keys reference and the Polars schema of its frames all
follow from the mapped classes, so adding a column or a table to the ORM (and the
DDL) is the one change to make.
"""

import inspect
from typing import NamedTuple

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pipeline.dist_perf_dw.models import TABLE_TO_CLASS, Base

# Referenced tables first: the order dimensions load in.
TABLES: list[sa.Table] = list(Base.metadata.sorted_tables)
DIMENSION_TABLES: list[str] = [table.name for table in TABLES if table.name.startswith("dim_")]
FACT_TABLES: list[str] = [table.name for table in TABLES if table.name.startswith("fact_")]
# Effective-dated assignments (advisor -> firm and territory, wholesaler -> territory): written with
# their dimension by landed loads (pipeline.dist_perf_dw.landed), empty for generated data.
ASSIGNMENT_TABLES: list[str] = [table.name for table in TABLES if table.name.endswith("_assignments")]

_BY_NAME = {table.name: table for table in TABLES}
_POSTGRESQL = postgresql.dialect()
_POLARS_TYPES: list[tuple[type, pl.DataType]] = [
    (sa.BigInteger, pl.Int64()),
    (sa.Integer, pl.Int32()),
    (sa.Numeric, pl.Float64()),
    (sa.Boolean, pl.Boolean()),
    (sa.Date, pl.Date()),
    (sa.Text, pl.String()),
]


def table(name: str) -> sa.Table:
    return _BY_NAME[name]


def columns(name: str) -> list[str]:
    """The table's columns in DDL order: the order every generated frame has."""
    return [column.name for column in table(name).columns]


class CatalogColumn(NamedTuple):
    name: str
    sql_type: str  # as PostgreSQL spells it: NUMERIC(18, 2)
    nullable: bool
    description: str


def catalog_columns(name: str) -> list[CatalogColumn]:
    """The table's columns in DDL order with their SQL type, nullability and description (the ORM's `doc=`)."""
    return [
        CatalogColumn(column.name, column.type.compile(dialect=_POSTGRESQL), column.nullable, column.doc)
        for column in table(name).columns
    ]


def references(name: str) -> list[str]:
    """The tables the table's foreign keys point at, each once, in load order."""
    referenced = {fk.column.table.name for fk in table(name).foreign_keys}
    return [other for other in _BY_NAME if other in referenced]


def polars_schema(name: str) -> dict[str, pl.DataType]:
    """Column -> Polars type of the table's frames (NUMERIC is generated as Float64)."""
    return {column.name: _polars_type(column.type) for column in table(name).columns}


def _polars_type(column_type: sa.types.TypeEngine) -> pl.DataType:
    # BigInteger before Integer: it is a subclass.
    return next(polars for sql_type, polars in _POLARS_TYPES if isinstance(column_type, sql_type))


def description(name: str) -> str:
    """The table's business object: its ORM class's docstring."""
    return " ".join(inspect.cleandoc(TABLE_TO_CLASS[name].__doc__).split())
