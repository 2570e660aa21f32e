"""Hand-written reads for the few queries every view of the busiest pages makes.

Building a query with Django's ORM costs about half a millisecond of Python, several times what
running a small one costs; the account page makes a dozen. The reads here are plain SELECTs that
SQLite and PostgreSQL both take, with table and column names from the models' metadata, so a
renamed column fails loudly. What they return is as the database gives it: dates as dates on both
(Django declares them `date` on SQLite and converts them), amounts as whole cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection, models
from django.db.models import Field


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def columns(model: type[models.Model], *names: str) -> str:
    """The quoted columns of the model's fields `names` (a foreign key's is its `_id` column)."""
    quoted = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, Field) or field.column is None:
            raise ValueError(f"{model.__name__}.{name} is not a column")
        quoted.append(connection.ops.quote_name(field.column))
    return ", ".join(quoted)


def day(value: date) -> Any:
    """A date as the database takes it in a parameter."""
    return connection.ops.adapt_datefield_value(value)


def rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def joined_columns(model: type[models.Model], alias: str, prefix: str) -> str:
    """`alias.column AS prefix_attname, …` for each of the model's columns (see `joined`)."""
    quote = connection.ops.quote_name
    return ", ".join(
        f"{alias}.{quote(str(f.column))} AS {quote(prefix + f.attname)}"
        for f in model._meta.concrete_fields
    )


def joined(model: type[models.Model], row: models.Model, prefix: str) -> models.Model | None:
    """The `model` instance that `row` (of `Model.objects.raw`) carries in the columns of
    `joined_columns(model, …, prefix)`, each value converted as Django's ORM would (amounts from
    cents, JSON, SQLite's booleans). None when the join found none (a LEFT JOIN's NULL key)."""
    if getattr(row, prefix + model._meta.pk.attname) is None:
        return None
    names, values = [], []
    for field in model._meta.concrete_fields:
        value = getattr(row, prefix + field.attname)
        if value is not None:
            column = field.get_col(model._meta.db_table)
            for convert in (
                *connection.ops.get_db_converters(column),
                *column.get_db_converters(connection),
            ):
                value = convert(value, column, connection)
        names.append(field.attname)
        values.append(value)
    return model.from_db(connection.alias, names, values)
