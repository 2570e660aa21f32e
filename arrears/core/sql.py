"""Hand-written reads for the few queries every view of the busiest pages makes.

Building a query with Django's ORM costs about half a millisecond of Python, several times what
running a small one costs; the account page makes a dozen. The reads here are plain SELECTs that
SQLite and PostgreSQL both take, with table and column names from the models' metadata, so a
renamed column fails loudly. What they return is as the database gives it: dates as dates on both
(Django declares them `date` on SQLite and converts them), amounts as whole cents.

Kept because the workspace's account-page target needs them (issue 14 measured whether they could
go back to the ORM): the account page, p95 < 150 ms under 20 clients, missed it at 236 ms on the
last quiet bench/web.py run (10,000 accounts, 1M transactions; README), and it makes every read
here. On bench/web.py's book of 2,000 accounts and 98,958 transactions (PostgreSQL), 30 account
pages in process under callgrind took 28.2 M instructions a page with these reads and 40.9 M
with the same reads through the ORM (+45% of the page's CPU); per account, SQL against ORM: its
parties (ledger.selectors.account_party_links) 1.5 M against 3.2 M, its entries and allocations
(account_ledger) 2.7 M against 7.4 M, its parties' consents (access.selectors.account_parties)
0.3 M against 1.8 M, its activity (dunning.selectors.activity_get) 2.7 M against 7.6 M.
bench/web.py on the same book gave 14.1 ms (SQL) against 19.5 ms (ORM) of server CPU per account
page, but the machine was shared (load 12 to 16) and the unchanged worklist went 4.0 to 5.8 ms
between the two runs: instructions are the figure to read.
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
