"""`arrears user add|password|token|tokens|revoke` and `arrears audit list`: users, their
passwords and API tokens, and the audit log (`arrears refer`: arrears.cli.legal).

The `user` commands are an admin's changes (`--as ADMIN`, or ARREARS_USER); while the book has
no active admin, the operator makes them (`system:<OS login>`): that is how the first admin is
added (`arrears user add NAME --role admin`)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

from arrears.cli.acting import acting, via
from arrears.cli.common import command, date, ensure_migrated, table, write_json_rows


def _admin(args: argparse.Namespace) -> Any:
    """Who makes a `user` change: the user named, or the operator while there is no admin."""
    from arrears.access.selectors import admin_exists

    return acting(args, system=not admin_exists())


def cmd_user(args: argparse.Namespace) -> int:
    ensure_migrated()
    acts = {
        "add": _user_add,
        "password": _user_password,
        "tokens": _user_tokens,
        "revoke": _user_revoke,
        "token": _user_token,
    }
    return acts[args.user_command](args)


def _user_add(args: argparse.Namespace) -> int:
    """`user add`: a user, the password from standard input."""
    from django.contrib.auth import get_user_model

    from arrears.access.services import user_add
    from arrears.core.errors import ValidationError

    if args.exists_ok and get_user_model().objects.filter(username=args.name).exists():
        print(f"User {args.name} exists: unchanged.")
        return 0
    # The password comes from standard input (never the command line, which others can
    # read in the process list): its first line, without the line break.
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ValidationError("give the password on standard input")
    properties = args.properties.split(",") if args.properties else []
    actor = _admin(args)
    user_add(
        username=args.name,
        password=password,
        role=args.role,
        properties=properties,
        firm=args.firm or "",
        email=args.email or "",
        actor=actor,
        via=via(actor),
    )
    scope = (
        f" for {', '.join(properties)}" if properties else f" of {args.firm}" if args.firm else ""
    )
    print(f"User {args.name} added: {args.role}{scope}.")
    return 0


def _user_password(args: argparse.Namespace) -> int:
    """`user password`: a new password, from standard input."""
    from arrears.access.services import user_password_set
    from arrears.core.errors import ValidationError

    password = sys.stdin.readline().rstrip("\r\n")  # as for `user add`: never an argument
    if not password:
        raise ValidationError("give the new password on standard input")
    actor = _admin(args)
    user_password_set(username=args.name, password=password, actor=actor, via=via(actor))
    print(f"Password of {args.name} changed: their other sessions end at their next request.")
    return 0


def _user_tokens(args: argparse.Namespace) -> int:
    """`user tokens`: the user's API tokens."""
    from arrears.access.services import tokens_of

    def moment(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else ""

    rows = [
        [
            str(t.pk),
            (t.hint + "…") if t.hint else "",
            moment(t.created_at),
            moment(t.last_used_at),
            moment(t.revoked_at) or "in use",
        ]
        for t in tokens_of(username=args.name)
    ]
    if not rows:
        print(f"{args.name} has no API token.")
        return 0
    table(["id", "begins", "issued", "last used", "revoked"], rows, sys.stdout, range(1))
    return 0


def _user_revoke(args: argparse.Namespace) -> int:
    """`user revoke`: one API token of the user, or all."""
    from arrears.access.services import token_revoke
    from arrears.core.errors import ValidationError

    if args.token is None and not args.all:
        raise ValidationError(
            "name the token to revoke (--token ID, see `arrears user "
            "tokens NAME`) or revoke them all (--all)"
        )
    actor = _admin(args)
    count = token_revoke(username=args.name, token_id=args.token, actor=actor, via=via(actor))
    print(f"Revoked {count} API token{'' if count == 1 else 's'} of {args.name}.")
    return 0


def _user_token(args: argparse.Namespace) -> int:
    """`user token`: a new API token, printed once."""
    from arrears.access.services import token_issue

    actor = _admin(args)
    print(token_issue(username=args.name, actor=actor, via=via(actor)))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """The audit log, newest first, for an admin (`--as ADMIN`): the selector the admin's page
    and `GET /api/audit` read."""
    from arrears.access.selectors import AUDIT_COLUMNS, audit_cells, audit_list
    from arrears.core.cells import safe_row
    from arrears.core.errors import ValidationError

    ensure_migrated()
    if args.limit is not None and args.limit < 1:
        raise ValidationError(f"--limit is a number of entries, at least 1: {args.limit}")
    rows = audit_list(
        acting(args),
        username=args.user or "",
        verb=args.verb or "",
        via=args.via or "",
        account_id=args.account or "",
        since=args.since,
        until=args.until,
    )
    if args.limit is not None:
        rows = rows[: args.limit]
    entries = (audit_cells(entry) for entry in rows.iterator())
    if args.format == "json":
        write_json_rows((_audit_json(cells) for cells in entries), sys.stdout)
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(AUDIT_COLUMNS)
        writer.writerows(safe_row(cells) for cells in entries)
    else:
        lines = [
            [cells[0][:19].replace("T", " ") + " UTC", *cells[1:6], cells[6][:60]]
            for cells in entries
        ]
        if not lines:
            print("Nothing in the audit log matches.")
            return 0
        table(list(AUDIT_COLUMNS), lines, sys.stdout, range(0))
    return 0


def _audit_json(cells: Sequence[str]) -> dict[str, Any]:
    from arrears.access.selectors import AUDIT_COLUMNS

    doc: dict[str, Any] = dict(zip(AUDIT_COLUMNS, cells, strict=True))
    doc["detail"] = json.loads(cells[-1])
    return doc


def _user_parser(sub: Any) -> None:
    p = command(
        sub,
        "user",
        cmd_user,
        "users of the web pages and the API: add, password, token, tokens, revoke",
    )
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    q = user_sub.add_parser("add", help="add a user (the password is read from standard input)")
    q.add_argument("name")
    q.add_argument(
        "--role",
        required=True,
        choices=["coordinator", "manager", "attorney", "controller", "admin"],
    )
    q.add_argument("--properties", help="a manager's properties: P1,P2")
    q.add_argument("--firm", help="an attorney's law firm")
    q.add_argument("--email", help="where the user's report subscriptions are sent")
    q.add_argument("--exists-ok", action="store_true", help="do nothing if the user exists")
    q = user_sub.add_parser("token", help="print a new API token for the user (shown once)")
    q.add_argument("name")
    q = user_sub.add_parser("password", help="a new password (read from standard input)")
    q.add_argument("name")
    q = user_sub.add_parser("tokens", help="the user's API tokens: issued, last used, revoked")
    q.add_argument("name")
    q = user_sub.add_parser("revoke", help="revoke one of the user's API tokens, or all")
    q.add_argument("name")
    which = q.add_mutually_exclusive_group()
    which.add_argument("--token", type=int, help="the token's id (see `arrears user tokens`)")
    which.add_argument("--all", action="store_true", help="every token of the user")


def _audit_parser(sub: Any) -> None:
    p = command(sub, "audit", cmd_audit, "the audit log (an admin's: --as)")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    q = audit_sub.add_parser("list", help="changes and sign-ins, newest first, with filters")
    q.add_argument("--user", help="a user name (or a name typed at a failed sign-in)")
    q.add_argument("--verb", help="a verb, or its start up to a dot: user, signin, hold.place")
    q.add_argument("--via", choices=["web", "api", "cli", "system"])
    q.add_argument("--account", help="an account id")
    q.add_argument("--since", type=date, help="from this day (YYYY-MM-DD, the book's zone)")
    q.add_argument("--until", type=date, help="to this day, included")
    q.add_argument("--limit", type=int, help="at most this many (default: all)")
    q.add_argument("--format", choices=["table", "json", "csv"], default="table")


PARSERS = {"user": _user_parser, "audit": _audit_parser}
