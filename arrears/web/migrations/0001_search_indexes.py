"""Indexes behind search (`access.selectors.account_search`), on PostgreSQL only.

Search asks for an account id or a unit regardless of case (`UPPER(col) = UPPER(q)`, and an account
id by its start), a party's name or phone number anywhere in it (`LIKE '%q%'`), and an amount among
the last months' entries. Without these, each is a scan: of the accounts and parties (milliseconds)
and of half a year of entries (13 ms on a 1M-transaction book). The expression indexes match the
SQL Django writes for `iexact`/`istartswith`; the trigram (pg_trgm, shipped with PostgreSQL) GIN
indexes serve `icontains`/`contains`. On SQLite nothing is made: its tables are scanned, as before.
"""

from django.db import migrations

INDEXES = [
    ("web_account_id_upper", "ledger_account", '(UPPER("account_id"::text) text_pattern_ops)'),
    ("web_account_unit_upper", "ledger_account", '(UPPER("unit"::text) text_pattern_ops)'),
    ("web_party_name_trgm", "ledger_party", 'USING gin (UPPER("name"::text) gin_trgm_ops)'),
    ("web_party_phone_trgm", "ledger_party", 'USING gin (("phone"::text) gin_trgm_ops)'),
    ("web_party_email_upper", "ledger_party", '(UPPER("email"::text))'),
    ("web_txn_amount_posted", "ledger_transaction", '("amount", "posted_on")'),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, spec in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {spec}')


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _spec in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_charge_code_index")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
