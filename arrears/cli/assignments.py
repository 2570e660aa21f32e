"""Who works which account: `arrears assign`, `unassign`, `assignments` and `coverage`
(`access.acts.assign`, `unassign`, `coverage_add`, `coverage_end`; the reads of
`access.assigned`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import command, date, ensure_migrated, table, write_json


def _target(args: argparse.Namespace) -> Any:
    from arrears.access.assignments import target_from

    return target_from(
        account_id=args.account or "",
        property_id=args.property or "",
        portfolio=args.portfolio or "",
    )


def cmd_assign(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    target = _target(args)
    acts.assign(by=by(args), username=args.username, target=target)
    print(f"{target.kind.capitalize()} {target.code} assigned to {args.username}.")
    return 0


def cmd_unassign(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    target = _target(args)
    ended = acts.unassign(by=by(args), target=target)
    print(f"{target.kind.capitalize()} {target.code} is no longer {ended.user.username}'s.")
    return 0


def _assignment_row(a: Any) -> dict[str, Any]:
    from arrears.access.assigned import target_of

    kind, code = target_of(a)
    return {
        "user": a.user.username,
        "kind": kind,
        "target": code,
        "since": a.since.isoformat(),
        "ended_on": a.ended_on.isoformat() if a.ended_on else None,
        "assigned_by": a.assigned_by,
    }


def cmd_assignments(args: argparse.Namespace) -> int:
    from arrears.access.assigned import assignment_list
    from arrears.core.dates import today

    ensure_migrated()
    on = None if args.all else (args.date or today())
    rows = [_assignment_row(a) for a in assignment_list(username=args.user or "", on=on)]
    if args.format == "json":
        write_json(rows)
        return 0
    if not rows:
        print("No one is assigned accounts" + (f" on {on.isoformat()}." if on else "."))
        return 0
    headers = ["user", "by", "target", "since", "ended", "assigned by"]
    cells = [
        [r["user"], r["kind"], r["target"], r["since"], r["ended_on"] or "", r["assigned_by"]]
        for r in rows
    ]
    table(headers, cells, sys.stdout, range(0))
    return 0


def _coverage_row(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "out": c.user_out.username,
        "backup": c.backup.username,
        "from": c.starts_on.isoformat(),
        "to": c.ends_on.isoformat(),
        "ended_on": c.ended_on.isoformat() if c.ended_on else None,
        "note": c.note,
        "made_by": c.made_by,
    }


def cmd_coverage(args: argparse.Namespace) -> int:
    from arrears.access import acts
    from arrears.access.assigned import coverage_list
    from arrears.core.dates import today

    ensure_migrated()
    if args.coverage_command == "add":
        made = acts.coverage_add(
            by=by(args),
            out=args.user_out,
            backup=args.backup,
            starts_on=args.starts_on,
            ends_on=args.ends_on,
            note=args.note,
        )
        print(
            f"Coverage #{made.pk}: {args.backup} covers for {args.user_out} "
            f"from {made.starts_on} to {made.ends_on}."
        )
        return 0
    if args.coverage_command == "end":
        ended = acts.coverage_end(by=by(args), coverage_id=args.coverage_id)
        print(f"Coverage #{ended.pk} ended: {ended.user_out} is back from {ended.ended_on}.")
        return 0
    rows = [_coverage_row(c) for c in coverage_list(since=None if args.all else today())]
    if args.format == "json":
        write_json(rows)
        return 0
    if not rows:
        print("No one is out, or about to be.")
        return 0
    headers = ["#", "out", "backup", "from", "to", "ended", "note"]
    cells = [
        [str(r["id"]), r["out"], r["backup"], r["from"], r["to"], r["ended_on"] or "", r["note"]]
        for r in rows
    ]
    table(headers, cells, sys.stdout, range(1))
    return 0


def _targets(p: argparse.ArgumentParser) -> None:
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--property", metavar="P", help="a property's code")
    target.add_argument("--portfolio", metavar="X", help="a portfolio (every property in it)")
    target.add_argument("--account", metavar="A", help="one account")


def _assign_parser(sub: Any) -> None:
    p = command(
        sub,
        "assign",
        cmd_assign,
        "give a property, a portfolio or an account to a coordinator (the most specific wins)",
    )
    p.add_argument("username", metavar="USER")
    _targets(p)


def _unassign_parser(sub: Any) -> None:
    p = command(
        sub,
        "unassign",
        cmd_unassign,
        "end the assignment of a property, a portfolio or an account",
    )
    _targets(p)


def _assignments_parser(sub: Any) -> None:
    p = command(sub, "assignments", cmd_assignments, "who is assigned what (today's, by default)")
    p.add_argument("--user", help="only this user's")
    p.add_argument("--date", type=date, help="the assignments in force that day (default today)")
    p.add_argument("--all", action="store_true", help="every assignment ever made, ended too")
    p.add_argument("--format", choices=["table", "json"], default="table")


def _coverage_parser(sub: Any) -> None:
    p = command(sub, "coverage", cmd_coverage, "backups for coordinators who are out")
    coverage_sub = p.add_subparsers(dest="coverage_command", required=True, metavar="ACTION")
    q = coverage_sub.add_parser("add", help="a backup works USER_OUT's accounts those days")
    q.add_argument("user_out", metavar="USER_OUT")
    q.add_argument("--backup", required=True, metavar="USER")
    q.add_argument("--from", dest="starts_on", type=date, required=True, help="the first day out")
    q.add_argument("--to", dest="ends_on", type=date, required=True, help="the last day out")
    q.add_argument("--note", default="")
    q = coverage_sub.add_parser("end", help="end a coverage from today: the one out is back")
    q.add_argument("coverage_id", type=int, metavar="N")
    q = coverage_sub.add_parser("list", help="the coverages not over yet (--all: every one)")
    q.add_argument("--all", action="store_true")
    q.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {
    "assign": _assign_parser,
    "unassign": _unassign_parser,
    "assignments": _assignments_parser,
    "coverage": _coverage_parser,
}
