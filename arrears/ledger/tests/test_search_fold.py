"""The database folds a name as `arrears.core.fold` does: on PostgreSQL `arrears_fold` is
`lower(unaccent(x))` (ledger.0008_search_fold), on SQLite the Python function registered on the
connection. Were they to differ, a name would be found on one database and not on the other."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.core.fold import fold

pytestmark = pytest.mark.django_db

# The letters of the names a book holds: ASCII, Latin-1's and Latin Extended-A's letters
# (× and ÷ are not letters), Vietnamese's (Latin Extended Additional), and combining accents
# typed after their letter ("e" + U+0301; not U+0363-036F, medieval superscript letters).
LETTERS = st.one_of(
    st.characters(codec="ascii", categories=["Lu", "Ll", "Nd"]),
    st.characters(min_codepoint=0xC0, max_codepoint=0x17F, exclude_characters="×÷"),
    st.characters(min_codepoint=0x1E00, max_codepoint=0x1E99),
    st.characters(min_codepoint=0x1EA0, max_codepoint=0x1EF9),
    st.characters(min_codepoint=0x300, max_codepoint=0x362),
    st.sampled_from(" -'."),
)
NAMES = st.text(LETTERS, min_size=1, max_size=30)


def _database_folds(names: list[str]) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT arrears_fold(x)"
                " FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n",
                [names],
            )
            return [row[0] for row in cursor.fetchall()]
        return [cursor.execute("SELECT arrears_fold(%s)", [n]).fetchone()[0] for n in names]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(NAMES, min_size=1, max_size=25))
def test_the_database_folds_a_name_as_python_does(names):
    assert _database_folds(names) == [fold(n) for n in names]


def test_garcia_folds_the_same_in_each_spelling():
    assert set(_database_folds(["García", "GARCÍA", "Garcia", "Garci\u0301a"])) == {"garcia"}


def test_the_fold_migration_is_undone_and_redone(migrator):
    # given a database migrated to the fold
    before, after = ("ledger", "0007_choice_labels_translated"), ("ledger", "0008_search_fold")
    migrator.apply_initial_migration(after)
    # when it is migrated back, then forward again
    migrator.apply_tested_migration(before)
    migration = importlib.import_module("arrears.ledger.migrations.0008_search_fold")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_party'")
            names = {row[0] for row in cursor.fetchall()}
            assert migration.OLD_INDEX in names
            assert migration.FOLD_INDEX not in names
            cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'arrears_fold'")
            assert cursor.fetchone()[0] == 0
    migrator.apply_tested_migration(after)
    # then the fold's function and index are back, and the old index gone
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_party'")
            names = {row[0] for row in cursor.fetchall()}
            assert migration.FOLD_INDEX in names
            assert migration.OLD_INDEX not in names
    assert _database_folds(["Łódź"]) == ["lodz"]
