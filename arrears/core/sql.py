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
