"""Indexes for search by amount (`access.selectors.account_search`), on PostgreSQL only, like 0001:
the rent of an account and the amount of an open item. Without them each amount searched scans
the accounts and the open items (a millisecond each on a 10,000-account book, on every search)."""

from django.db import migrations

INDEXES = [
    ("web_account_rent", "ledger_account", '("rent")'),
    ("web_openitem_amount", "ledger_openitem", '("amount")'),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, spec in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {spec}')


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _spec in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("web", "0001_search_indexes")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
