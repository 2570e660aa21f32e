"""The search indexes are the ledger's, once each, whether the database is new or was made when
the web part's migrations made them (as `web_*`)."""

from __future__ import annotations

import importlib
import re

from django.db import connection

BEFORE = ("ledger", "0004_period_event")
AFTER = ("ledger", "0005_search_indexes")
SEARCH = importlib.import_module("arrears.ledger.migrations.0005_search_indexes")
# What web/0001_search_indexes and web/0002_amount_indexes named the indexes they made.
WEB_ERA = [
    "web_account_id_upper",
    "web_account_unit_upper",
    "web_party_name_trgm",
    "web_party_phone_trgm",
    "web_party_email_upper",
    "web_txn_amount_posted",
    "web_account_rent",
    "web_openitem_amount",
]


def _indexes() -> list[tuple[str, str]]:
    """Every index of the database: its name and its definition with the name left out."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            )
        else:
            cursor.execute("SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index'")
        rows = cursor.fetchall()
    return [(name, re.sub(r'INDEX "?\w+"? ON', "INDEX ON", sql)) for name, sql in rows]


def _web_era_indexes_made() -> None:
    """What the web part's migrations did to a database: on PostgreSQL, each search index made
    under its `web_*` name; on SQLite, nothing."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for old, (_name, table, spec) in zip(WEB_ERA, SEARCH.INDEXES, strict=True):
            cursor.execute(f'CREATE INDEX "{old}" ON "{table}" {spec}')


def _assert_each_search_index_once() -> None:
    indexes = _indexes()
    names = [name for name, _ in indexes]
    assert not set(WEB_ERA) & set(names)
    ours = [name for name, _table, _spec in SEARCH.INDEXES]
    if connection.vendor != "postgresql":
        assert not set(ours) & set(names)  # SQLite scans its tables
        return
    assert sorted(n for n in names if n in ours) == sorted(ours)
    definitions = [definition for _, definition in indexes]
    for name, definition in indexes:
        if name in ours:  # and under no other name
            assert definitions.count(definition) == 1, name


def test_a_new_database_gets_each_search_index_once(migrator):
    # given a database whose ledger has never had search indexes
    migrator.apply_initial_migration(BEFORE)

    # when the ledger migrates
    migrator.apply_tested_migration(AFTER)

    # then each search index is there once, named for the ledger
    _assert_each_search_index_once()


def test_a_database_of_the_web_era_keeps_its_search_indexes_once(migrator):
    # given a database whose search indexes the web part's migrations made
    migrator.apply_initial_migration(BEFORE)
    _web_era_indexes_made()
    assert connection.vendor != "postgresql" or set(WEB_ERA) <= {n for n, _ in _indexes()}

    # when the ledger migrates
    migrator.apply_tested_migration(AFTER)

    # then each search index is there once, renamed for the ledger
    _assert_each_search_index_once()
