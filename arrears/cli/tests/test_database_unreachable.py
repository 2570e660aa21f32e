"""A command whose database cannot be reached (a wrong DATABASE_URL, a server down, a file that
cannot be opened) says so in one line naming the database, exit status 1: never a page of
traceback. Run as the user runs it, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _arrears(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "arrears.cli", *args],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("url", "named", "reason"),
    [
        (
            "sqlite:////no/such/folder/book.sqlite3",
            "the SQLite file /no/such/folder/book.sqlite3",
            "unable to open database file",
        ),
        # a port nothing listens on: refused at once, on any machine
        ("postgres://arrears@127.0.0.1:1/book", "PostgreSQL 127.0.0.1:1/book", "refused"),
    ],
    ids=["sqlite", "postgresql"],
)
@pytest.mark.parametrize("command", [["aging"], ["run", "--dry-run"], ["init"]])
def test_an_unreachable_database_is_said_in_one_line(url, named, reason, command):
    done = _arrears(url, *command)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"arrears {command[0]}: the database ({named}, DATABASE_URL)")
    assert reason in lines[0]
    assert done.stdout == ""
