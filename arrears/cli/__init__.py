"""The `arrears` command: a thin adapter over the services and selectors.

Each part's commands live in a module of their own here (COMMANDS names it); each command parses
its options, calls one service or selector, and renders the result. Only the module of the
command being run is imported: the parser with every command is built for `arrears --help` and
for an argument line it cannot read that way. A DomainError prints its message on standard error
and exits with status 2 (1 for anything else). Who acts: `arrears.cli.acting`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from arrears.cli.common import AS_HELP, as_everywhere

if TYPE_CHECKING:
    from arrears.core.errors import DomainError

# Each command and the module that adds it (its PARSERS table) and runs it, in the order the help
# lists them.
COMMANDS: dict[str, str] = {
    "init": "arrears.cli.book",
    "import": "arrears.cli.book",
    "export": "arrears.cli.book",
    "aging": "arrears.cli.book",
    "ledger": "arrears.cli.book",
    "payment": "arrears.cli.payments",
    "remittance": "arrears.cli.remittances",
    "bank": "arrears.cli.bank",
    "demo": "arrears.cli.demo",
    "run": "arrears.cli.dunning",
    "timeline": "arrears.cli.dunning",
    "hold": "arrears.cli.dunning",
    "release": "arrears.cli.dunning",
    "note": "arrears.cli.dunning",
    "worklist": "arrears.cli.dunning",
    "policy": "arrears.cli.dunning",
    "serve": "arrears.cli.web",
    "worker": "arrears.cli.workers",
    "scheduler": "arrears.cli.workers",
    "user": "arrears.cli.access",
    "firm": "arrears.cli.legal",
    "refer": "arrears.cli.legal",
    "case": "arrears.cli.legal",
    "legal": "arrears.cli.legal",
    "settlement": "arrears.cli.settlements",
    "writeoff": "arrears.cli.settlements",
    "report": "arrears.cli.reports",
    "subscription": "arrears.cli.subscriptions",
    "goal": "arrears.cli.goals",
    "moveout": "arrears.cli.moveout",
    "deposit": "arrears.cli.moveout",
    "refund": "arrears.cli.refunds",
    "audit": "arrears.cli.access",
    "promise": "arrears.cli.plans",
    "plan": "arrears.cli.plans",
    "dispute": "arrears.cli.disputes",
    "analysis": "arrears.cli.disputes",
    "letters": "arrears.cli.letters",
    "statement": "arrears.cli.letters",
    "template": "arrears.cli.letters",
    "mail": "arrears.cli.mail",
    "call": "arrears.cli.mail",
    "sms": "arrears.cli.mail",
    "period": "arrears.cli.periods",
    "party": "arrears.cli.record",
    "consent": "arrears.cli.record",
    "document": "arrears.cli.record",
    "assign": "arrears.cli.assignments",
    "unassign": "arrears.cli.assignments",
    "assignments": "arrears.cli.assignments",
    "coverage": "arrears.cli.assignments",
}


def _command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` runs when nothing but `--as USER` comes before it, else None (help, a
    mistake, an abbreviated option: the parser with every command answers those)."""
    words = iter(argv)
    for word in words:
        if word == "--as":
            user = next(words, "-")
            if user.startswith("-"):
                return None
        elif not word.startswith("--as="):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of `arrears`: with only the command `argv` names (only its module imported),
    or with every command when `argv` names none."""
    parser = argparse.ArgumentParser(
        prog="arrears",
        description="Arrears: the receivables book, aging and collections. "
        "The database is DATABASE_URL (default sqlite:///arrears.sqlite3).",
    )
    parser.add_argument("--as", dest="as_user", metavar="USER", help=AS_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = _command_named(argv) if argv is not None else None
    for name in [named] if named else COMMANDS:
        importlib.import_module(COMMANDS[name]).PARSERS[name](sub)
    as_everywhere(parser)
    return parser


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _report(command: str, error: DomainError) -> int:
    """A refused command: its message in the command line's words (`arrears.cli.wording`) on
    standard error, exit status 2."""
    from arrears.cli.wording import cli_message

    sys.stderr.write(f"arrears {command}: {cli_message(error)}\n")
    return 2


def _database_failed(command: str, error: Exception) -> int:
    """The database could not be reached, or failed under the command (a wrong DATABASE_URL, a
    server down, a file that cannot be opened): said in one line naming the database, not a
    page of traceback; exit status 1. What the command had not committed is not in the book."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        where = f"the SQLite file {db['NAME']}"
    else:
        where = f"PostgreSQL {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"
    said = str(error).strip().splitlines()
    sys.stderr.write(
        f"arrears {command}: the database ({where}, DATABASE_URL) failed: "
        f"{said[0] if said else type(error).__name__}\n"
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(words).parse_args(words)
    _setup()
    from django.db import InterfaceError, OperationalError

    from arrears.core.errors import DomainError

    try:
        return int(args.func(args))
    except DomainError as exc:
        return _report(args.command, exc)
    except (OperationalError, InterfaceError) as exc:
        return _database_failed(args.command, exc)
    except BrokenPipeError:
        sys.stderr.close()
        return 0
