"""Search by a name's fold (`arrears.core.fold`): accents and case dropped, on PostgreSQL by the
`unaccent` extension (shipped with PostgreSQL, as pg_trgm is) and a trigram index.

`unaccent(text)` is STABLE, not IMMUTABLE (it reads its dictionary through the search_path), so no
index may use it. The usual way round: an IMMUTABLE wrapper naming the dictionary and its schema,
`arrears_unaccent(text)`, and `arrears_fold(text)` = `lower(arrears_unaccent(text))` over it; the
GIN trigram index on `arrears_fold(name)` serves `arrears_fold(name) LIKE '%q%'`, which replaces
the upper-case trigram index on the name of `0005_search_indexes` (search no longer asks for it).
SQLite gets nothing here: `arrears_fold` is the Python function, registered on each connection.
"""

from django.db import migrations

FOLD_INDEX = "ledger_party_name_fold_trgm"
OLD_INDEX = "ledger_party_name_trgm"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
        )
        schema = cursor.fetchone()[0]
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION arrears_unaccent(text) RETURNS text"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        f" AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$"
    )
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION arrears_fold(text) RETURNS text"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT lower(arrears_unaccent($1)) $$"
    )
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{FOLD_INDEX}" ON "ledger_party"'
        ' USING gin (arrears_fold("name") gin_trgm_ops)'
    )
    schema_editor.execute(f'DROP INDEX IF EXISTS "{OLD_INDEX}"')


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{OLD_INDEX}" ON "ledger_party"'
        ' USING gin (UPPER("name"::text) gin_trgm_ops)'
    )
    schema_editor.execute(f'DROP INDEX IF EXISTS "{FOLD_INDEX}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS arrears_fold(text)")
    schema_editor.execute("DROP FUNCTION IF EXISTS arrears_unaccent(text)")
    # Refused (RESTRICT) if anything else of the database has come to use the extension.
    schema_editor.execute("DROP EXTENSION IF EXISTS unaccent RESTRICT")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_choice_labels_translated")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
