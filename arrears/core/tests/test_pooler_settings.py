"""`ARREARS_DB_POOLER`: the database settings for PostgreSQL behind a pooler in transaction mode
(PgBouncer), read by a new process from its environment as `arrears` reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
READ = (
    "import django, json; django.setup(); from django.conf import settings; "
    "d = settings.DATABASES['default']; "
    "print(json.dumps({'cursors_off': d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'binding': d.get('OPTIONS', {}).get('server_side_binding', False)}))"
)


def _settings(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    return subprocess.run(
        [sys.executable, "-c", READ],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def _read(**env: str) -> dict[str, bool]:
    done = _settings(**env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PG = "postgres://arrears@pgbouncer.example:6432/book"


def test_through_a_transaction_pooler_no_cursor_outlives_its_transaction_nothing_is_prepared():
    # given PostgreSQL reached straight, then through PgBouncer in transaction mode
    straight = _read(DATABASE_URL=PG)
    pooled = _read(DATABASE_URL=PG, ARREARS_DB_POOLER="transaction")
    # then straight, queries are bound and prepared on the server and cursors may be held
    assert straight == {"cursors_off": False, "binding": True}
    # and through the pooler, neither (each transaction may go to another server connection)
    assert pooled == {"cursors_off": True, "binding": False}
    # and a session pooler keeps the connection the client's: as straight
    assert _read(DATABASE_URL=PG, ARREARS_DB_POOLER="session") == straight


def test_sqlite_is_left_as_it_is_whatever_the_pooler_says():
    assert _read(DATABASE_URL="sqlite:////tmp/book.sqlite3", ARREARS_DB_POOLER="transaction") == {
        "cursors_off": False,
        "binding": False,
    }


@pytest.mark.parametrize("mode", ["statement", "yes", "1"])
def test_a_mode_that_is_not_one_is_refused_naming_the_variable(mode):
    done = _settings(DATABASE_URL=PG, ARREARS_DB_POOLER=mode)
    assert done.returncode != 0
    assert f"ARREARS_DB_POOLER: {mode!r} is not a pooling mode" in done.stderr


def test_import_processes_below_one_are_refused_at_start_by_name():
    # given / when: an import told to use no process at all
    done = _settings(DATABASE_URL=PG, ARREARS_IMPORT_PROCESSES="0")
    # then: the settings refuse to load, naming the variable
    assert done.returncode != 0
    assert "ARREARS_IMPORT_PROCESSES must be 1 or more" in done.stderr
