"""The reports' reads over the book: a scope of accounts as a subquery, and an aggregate run with
room to hash every account (PostgreSQL).

Invariant: a scope is the caller's queryset compiled by Django into the statement itself (its
own parameters after the statement's), never a list of ids carried through Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from arrears.core import sql
from arrears.ledger import bulk
from arrears.ledger.models import Account


@dataclass(frozen=True)
class Scope:
    subquery: str  # "" for the whole book, else the accounts' pks
    params: list[Any]

    def on(self, column: str) -> str:
        """The condition to append to a WHERE: `column` is one of the scope's accounts."""
        return f" AND {column} IN ({self.subquery})" if self.subquery else ""


def scope_of(accounts: QuerySet[Account] | None) -> Scope:
    """The accounts as a subquery the aggregates filter by (the database's own plan, not a list
    of ids in Python)."""
    if accounts is None:
        return Scope("", [])
    subquery, params = accounts.values("pk").query.sql_with_params()
    return Scope(subquery, list(params))


def aggregate(query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run an aggregate over the book; on PostgreSQL with room to hash every account."""
    if not bulk.is_postgres():
        return sql.rows(query, params)
    with transaction.atomic():
        bulk.execute("SET LOCAL work_mem = '256MB'")
        return sql.rows(query, params)
