"""Indexes behind search (`ledger.search.account_search`), on PostgreSQL only; on SQLite nothing
is made and its tables are scanned.

Search asks for an account id or a unit regardless of case (`UPPER(col) = UPPER(q)`, and an account
id by its start), a party's name or phone number anywhere in it (`LIKE '%q%'`), an amount among the
last months' entries, and an amount as a rent or an open item's. Without these, each is a scan: of
the accounts and parties, of the open items, and of half a year of entries. The expression indexes
match the SQL Django writes for `iexact`/`istartswith`; the trigram (pg_trgm, shipped with
PostgreSQL) GIN indexes serve `icontains`/`contains`.

These indexes were made by the web part's migrations (0001_search_indexes, 0002_amount_indexes),
named `web_*`. A database that has them keeps them, renamed `ledger_*`; one that has not gets them
made: either way each index is there once.
"""

from django.db import migrations

INDEXES = [
    ("ledger_account_id_upper", "ledger_account", '(UPPER("account_id"::text) text_pattern_ops)'),
    ("ledger_account_unit_upper", "ledger_account", '(UPPER("unit"::text) text_pattern_ops)'),
    ("ledger_party_name_trgm", "ledger_party", 'USING gin (UPPER("name"::text) gin_trgm_ops)'),
    ("ledger_party_phone_trgm", "ledger_party", 'USING gin (("phone"::text) gin_trgm_ops)'),
    ("ledger_party_email_upper", "ledger_party", '(UPPER("email"::text))'),
    ("ledger_txn_amount_posted", "ledger_transaction", '("amount", "posted_on")'),
    ("ledger_account_rent", "ledger_account", '("rent")'),
    ("ledger_openitem_amount", "ledger_openitem", '("amount")'),
]
WEB_PREFIX, LEDGER_PREFIX = "web_", "ledger_"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, spec in INDEXES:
        old = WEB_PREFIX + name.removeprefix(LEDGER_PREFIX)
        schema_editor.execute(f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{name}"')
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {spec}')


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _spec in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_period_event")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
